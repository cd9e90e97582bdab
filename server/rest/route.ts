/**
 * A procedure's REST route, declared in its `.meta({ rest })` beside its
 * zod `.input()` and `.output()`: the /api handler and the OpenAPI document
 * both read this one declaration, so neither can drift from the procedure
 * (the model is @hono/zod-openapi's `createRoute`).
 */
export interface RestRoute {
  /** GET reads the input from the path and the query string; POST from the path and a JSON body. */
  method: 'GET' | 'POST';
  /** Under /api; a `{name}` segment is the input field `name`, read from the path. */
  path: `/api/${string}`;
  /** One line for the reference page. */
  summary: string;
  /** The OpenAPI tag that groups it on the reference page. */
  tag: string;
  /** The success status; 201 for a create (RFC 9110 §15.3.2). @default 200 */
  status?: 200 | 201;
}
