import { z } from 'zod';
import type { AnyTRPCProcedure } from '@trpc/server';
import type { Meta } from '../meta.js';
import { appRouter } from '../routers/app.js';
import type { RestRoute } from './route.js';

/** A JSON Schema object as zod's `z.toJSONSchema` writes it (draft 2020-12, which OpenAPI 3.1 uses). */
export type JsonSchema = { [key: string]: unknown };

/** One REST route, resolved at start from a procedure's `.meta({ rest })`, `.input()` and `.output()`. */
export interface Endpoint {
  route: RestRoute;
  /** The procedure's dotted path, e.g. `users.byId`: its cache and idempotency scope, shared with /trpc. */
  procedure: string;
  type: 'query' | 'mutation';
  meta: Meta;
  input: z.ZodType;
  output: z.ZodType;
  /** JSON Schema of what the procedure accepts (`io: 'input'`) and returns (`io: 'output'`). */
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  /** The `{name}` segments of the path, in order. */
  pathParams: string[];
  /** The input fields read from the query string (GET). */
  queryParams: string[];
  /** Matches the request path; the groups are the path parameters, still percent-encoded. */
  pattern: RegExp;
  /**
   * A create's `Location` (RFC 9110 §10.2.2): the GET route at `<path>/{id}`,
   * when there is one, filled with the output's `id`.
   */
  location?: string;
}

/*
 * TanStack Query's infinite queries add `direction` to the page input; no
 * procedure reads it (server/cache/canonical-input.ts), so it is no REST
 * parameter.
 */
const NOT_PARAMETERS = new Set(['direction']);

/** zod's JSON Schema without `$schema`: inside an OpenAPI 3.1 document the dialect is the document's. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
  const properties = schema.properties;
  return properties !== null && typeof properties === 'object' ? (properties as Record<string, JsonSchema>) : {};
}

function onlySchema(parsers: readonly unknown[], what: string, path: string): z.ZodType {
  const [schema, ...more] = parsers;
  if (more.length > 0 || !(schema instanceof z.ZodType)) throw new TypeError(`${path}: a REST route needs exactly one zod ${what}`);
  return schema;
}

/** What the procedure builder keeps in `_def` (procedureBuilder.ts, 11.22); the public type leaves `output` out. */
type ProcedureDef = AnyTRPCProcedure['_def'] & { output?: unknown };

function endpointOf(procedure: string, def: ProcedureDef): Endpoint | null {
  const meta = (def.meta ?? {}) as Meta;
  const { rest: route } = meta;
  if (!route) return null;
  if (def.type !== 'query' && def.type !== 'mutation') throw new TypeError(`${procedure}: only queries and mutations have REST routes`);
  if ((def.type === 'query') !== (route.method === 'GET')) throw new TypeError(`${procedure}: a query is a GET route, a mutation a POST`);
  const input = onlySchema(def.inputs, 'input', procedure);
  const output = onlySchema([def.output], 'output', procedure);
  const inputSchema = jsonSchemaOf(input, 'input');
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  const fields = Object.keys(propertiesOf(inputSchema));
  for (const name of pathParams) if (!fields.includes(name)) throw new TypeError(`${procedure}: path parameter {${name}} is no input field`);
  if (route.method === 'POST' && pathParams.length > 0) throw new TypeError(`${procedure}: POST routes take their whole input from the body`);
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '([^/]+)');
  return {
    route,
    procedure,
    type: def.type,
    meta,
    input,
    output,
    inputSchema,
    outputSchema: jsonSchemaOf(output, 'output'),
    pathParams,
    queryParams: route.method === 'GET' ? fields.filter((f) => !pathParams.includes(f) && !NOT_PARAMETERS.has(f)) : [],
    pattern: new RegExp(`^${source}$`),
  };
}

function endpointsOf(router: { _def: { procedures: object } }): Endpoint[] {
  const endpoints: Endpoint[] = [];
  // tRPC keeps procedures flat by dotted path at run time (server/cache/policy.ts).
  for (const [path, procedure] of Object.entries(router._def.procedures as Record<string, AnyTRPCProcedure>)) {
    const endpoint = endpointOf(path, procedure._def);
    if (endpoint) endpoints.push(endpoint);
  }
  for (const create of endpoints.filter((e) => e.route.status === 201)) {
    const item = `${create.route.path}/{id}`;
    if (endpoints.some((e) => e.route.method === 'GET' && e.route.path === item)) create.location = item;
  }
  return endpoints;
}

/** The Location of a create's answer, from its output (`{ id, … }`), or undefined. */
export function locationOf(endpoint: Endpoint, output: unknown): string | undefined {
  if (endpoint.location === undefined || output === null || typeof output !== 'object' || !('id' in output)) return undefined;
  const { id } = output;
  return typeof id === 'number' || typeof id === 'string' ? endpoint.location.replace('{id}', encodeURIComponent(String(id))) : undefined;
}

let built: readonly Endpoint[] | undefined;

/**
 * Every REST route of the router, built on first use (a server start does
 * not pay for the JSON Schemas until /api or /openapi.json is asked for; a
 * bad declaration fails the test suite's first REST call).
 */
export function restEndpoints(): readonly Endpoint[] {
  return (built ??= endpointsOf(appRouter));
}

/** The JSON Schema of one input field (for the query-string coercion and the document). */
export function fieldSchema(endpoint: Endpoint, name: string): JsonSchema {
  return propertiesOf(endpoint.inputSchema)[name] ?? {};
}
