import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../idempotency/key-header.js';
import { restEndpoints, fieldSchema, jsonSchemaOf, type Endpoint, type JsonSchema } from './endpoints.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { problemSchema } from './problem-schema.js';
import { PROBLEM_TYPES } from './problem-types.js';

/*
 * The OpenAPI 3.1 document of /api, derived from the same declarations the
 * handler serves (each procedure's `.meta({ rest })`, `.input()` and
 * `.output()`), with the schemas written by zod's own JSON Schema output
 * (draft 2020-12, OpenAPI 3.1's dialect). Nothing here restates a schema:
 * what is written by hand is what HTTP adds around them (headers, statuses).
 */

const ref = (kind: 'headers' | 'parameters' | 'responses' | 'schemas', name: string) => ({ $ref: `#/components/${kind}/${name}` });

const header = (description: string, schema: JsonSchema = { type: 'string' }) => ({ description, schema });

const HEADER_COMPONENTS = {
  RateLimit: header('The caller\'s remaining quota (draft-ietf-httpapi-ratelimit-headers): `"default";r=<remaining>;t=<seconds until more>`.'),
  RateLimitPolicy: header('The caller\'s quota policy: `"default";q=<burst>;w=<seconds to refill>`.'),
  RetryAfter: header('Seconds to wait before a retry (RFC 9110 §10.2.3).', { type: 'integer', minimum: 1 }),
  ETag: header('A strong validator of this answer (RFC 9110 §8.8.3): send it back in If-None-Match for a 304.'),
  CacheStatus: header('How the server\'s query cache answered (RFC 9211): `composure; hit`, `composure; fwd=miss; stored`, `composure; hit; ttl=-N` for stale data.'),
  CacheControl: header('`private, no-cache` for tenant data (revalidate with the ETag), `private, max-age=…` for the rates.'),
  Age: header('Seconds since the answer was computed (RFC 9111 §5.1), on answers from the cache.', { type: 'integer', minimum: 0 }),
  IdempotentReplayed: header('`true` on a replay of a stored answer for a repeated Idempotency-Key.', { type: 'string', enum: ['true'] }),
  RequestId: header('The request id, also in the server\'s logs (sent back as given when valid).'),
  WwwAuthenticate: header('`Bearer realm="composure"` (RFC 9110 §11.6.1).'),
  Allow: header('The methods the route answers (RFC 9110 §10.2.1).'),
};

const PARAMETER_COMPONENTS = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    description:
      'A key of your choice (a UUID), the same on every retry of one request (draft-ietf-httpapi-idempotency-key-header). ' +
      'The first answer is stored for 24 h and replayed with Idempotent-Replayed: true, whichever of /api and /trpc is called; ' +
      'the same key with another body is a 422, while the first request still runs a 409.',
    schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'The ETag of an answer you hold: a 304 without a body when it is still current (RFC 9110 §13.1.2).',
    schema: { type: 'string' },
  },
};

const problemContent = { [PROBLEM_CONTENT_TYPE]: { schema: ref('schemas', 'Problem') } };
const common = { 'RateLimit': ref('headers', 'RateLimit'), 'RateLimit-Policy': ref('headers', 'RateLimitPolicy'), 'X-Request-Id': ref('headers', 'RequestId') };
const retryAfter = { 'Retry-After': ref('headers', 'RetryAfter') };

function problemResponse(description: string, types: readonly { type: string }[], headers: Record<string, unknown> = {}) {
  return { description: `${description} Problem types: ${types.map((t) => `\`${t.type}\``).join(', ')}.`, headers: { ...common, ...headers }, content: problemContent };
}

const P = PROBLEM_TYPES;
const RESPONSE_COMPONENTS = {
  NotModified: {
    description: 'The answer named by If-None-Match is still current: no body (RFC 9110 §15.4.5).',
    headers: { ETag: ref('headers', 'ETag'), 'Cache-Status': ref('headers', 'CacheStatus'), 'Cache-Control': ref('headers', 'CacheControl'), Age: ref('headers', 'Age'), ...common },
  },
  BadRequest: problemResponse('Invalid input (with `issues`), a forged cursor, or a malformed request.', [P.invalidInput, P.invalidCursor, P.badRequest]),
  BadKeyedRequest: problemResponse('Invalid input (with `issues`), a missing or invalid Idempotency-Key, or a body that is not JSON.', [
    P.invalidInput,
    P.idempotencyKeyMissing,
    P.idempotencyKeyInvalid,
    P.badRequest,
  ]),
  Unauthorized: problemResponse('Missing, unknown or revoked API key.', [P.unauthorized], { 'WWW-Authenticate': ref('headers', 'WwwAuthenticate') }),
  NotFound: problemResponse('No such resource in this tenant.', [P.notFound]),
  Conflict: problemResponse('A request with this Idempotency-Key is still running (Retry-After: 1), or a unique field is taken.', [P.idempotencyKeyInUse, P.duplicate], retryAfter),
  PayloadTooLarge: problemResponse('The body is larger than the server accepts.', [P.payloadTooLarge]),
  UnsupportedMediaType: problemResponse('The body is not sent as application/json.', [P.unsupportedMediaType]),
  Unprocessable: problemResponse('The Idempotency-Key was used before with another body.', [P.idempotencyKeyReused]),
  TooManyRequests: problemResponse('The API key\'s rate limit, or the address\'s failed-authentication limit, is used up.', [P.quotaExceeded], retryAfter),
  Unavailable: problemResponse('A service the answer needs is down, or the server is shedding load.', [P.upstreamUnavailable, P.temporaryReducedCapacity, P.unavailable], retryAfter),
};

function successResponse(endpoint: Endpoint) {
  const cached = endpoint.meta.cacheTtlMs !== undefined;
  const headers: Record<string, unknown> = { ...common };
  if (cached) {
    Object.assign(headers, {
      ETag: ref('headers', 'ETag'),
      'Cache-Status': ref('headers', 'CacheStatus'),
      'Cache-Control': ref('headers', 'CacheControl'),
      Age: ref('headers', 'Age'),
    });
  }
  if (endpoint.type === 'mutation') headers['Idempotent-Replayed'] = ref('headers', 'IdempotentReplayed');
  if (endpoint.location !== undefined) headers.Location = { ...header(`The new resource, \`${endpoint.location}\` (RFC 9110 §10.2.2).`), required: true };
  return {
    description: endpoint.route.status === 201 ? 'Created: the new resource.' : 'The procedure\'s output.',
    headers,
    content: { 'application/json': { schema: endpoint.outputSchema } },
  };
}

function requiredFields(endpoint: Endpoint): Set<string> {
  const required = endpoint.inputSchema.required;
  return new Set(Array.isArray(required) ? (required as string[]) : []);
}

function operationOf(endpoint: Endpoint) {
  const { route, meta } = endpoint;
  const required = requiredFields(endpoint);
  const parameters: unknown[] = [
    ...endpoint.pathParams.map((name) => ({ name, in: 'path', required: true, schema: fieldSchema(endpoint, name) })),
    ...endpoint.queryParams.map((name) => ({ name, in: 'query', required: required.has(name), schema: fieldSchema(endpoint, name) })),
  ];
  const cached = meta.cacheTtlMs !== undefined;
  if (cached) parameters.push(ref('parameters', 'IfNoneMatch'));
  if (endpoint.type === 'mutation') {
    parameters.push(meta.idempotency === 'required' ? { ...PARAMETER_COMPONENTS.IdempotencyKey, required: true } : { ...PARAMETER_COMPONENTS.IdempotencyKey, required: false });
  }
  const responses: Record<string, unknown> = { [String(route.status ?? 200)]: successResponse(endpoint) };
  if (cached) responses['304'] = ref('responses', 'NotModified');
  responses['400'] = ref('responses', endpoint.type === 'mutation' ? 'BadKeyedRequest' : 'BadRequest');
  responses['401'] = ref('responses', 'Unauthorized');
  if (endpoint.pathParams.length > 0 || endpoint.type === 'mutation') responses['404'] = ref('responses', 'NotFound');
  if (endpoint.type === 'mutation') {
    Object.assign(responses, {
      '409': ref('responses', 'Conflict'),
      '413': ref('responses', 'PayloadTooLarge'),
      '415': ref('responses', 'UnsupportedMediaType'),
      '422': ref('responses', 'Unprocessable'),
    });
  }
  responses['429'] = ref('responses', 'TooManyRequests');
  responses['503'] = ref('responses', 'Unavailable');
  const cost = meta.cost ?? 1;
  return {
    operationId: endpoint.procedure,
    summary: route.summary,
    description: `The procedure \`${endpoint.procedure}\` (also at /trpc/${endpoint.procedure}). Costs ${cost} token${cost === 1 ? '' : 's'} of the rate limit.${
      cached ? ' Answers are cached and shared with /trpc calls of the same input.' : ''
    }`,
    tags: [route.tag],
    parameters,
    ...(route.method === 'POST' ? { requestBody: { required: true, content: { 'application/json': { schema: endpoint.inputSchema } } } } : {}),
    responses,
  };
}

function problemTable(): string {
  const rows = Object.values(PROBLEM_TYPES).map((p) => `| ${p.status} | \`${p.type}\` | ${p.description} |`);
  return ['| status | type | when |', '| --- | --- | --- |', ...rows].join('\n');
}

const DESCRIPTION = `The Composure procedures as plain REST. Every route takes an API key (\`Authorization: Bearer <key>\`) and counts against its rate limit
(the \`RateLimit\` and \`RateLimit-Policy\` headers on every answer; \`429\` with \`Retry-After\` when used up). Reads are cached with an \`ETag\`
(send it back in \`If-None-Match\` for a \`304\`) and say how in \`Cache-Status\`. \`POST /api/payments\` needs an \`Idempotency-Key\`.
A page is \`{ data, nextCursor, hasMore }\`: pass \`nextCursor\` as \`cursor\` for the next one.

Errors are problem details (RFC 9457, \`application/problem+json\`); branch on \`type\`:

${problemTable()}`;

/** Builds the document; the server serves it as `openApiJson()` bytes. */
export function openApiDocument() {
  const endpoints = restEndpoints();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const endpoint of endpoints) {
    const item = (paths[endpoint.route.path] ??= {});
    item[endpoint.route.method.toLowerCase()] = operationOf(endpoint);
  }
  const tags = [...new Set(endpoints.map((e) => e.route.tag))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: { title: 'Composure REST API', version: '1', description: DESCRIPTION },
    tags,
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key, e.g. `demo-alice` on a development server.' },
      },
      schemas: { Problem: jsonSchemaOf(problemSchema, 'output') },
      headers: HEADER_COMPONENTS,
      parameters: { IfNoneMatch: PARAMETER_COMPONENTS.IfNoneMatch },
      responses: RESPONSE_COMPONENTS,
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;

let json: Buffer | undefined;

/** The document's bytes, built on first use and kept: it depends on the code only. */
export function openApiJson(): Buffer {
  return (json ??= Buffer.from(JSON.stringify(openApiDocument())));
}

