import { fieldSchema, type Endpoint, type JsonSchema } from './endpoints.js';
import { localProblem, type Problem } from './problem.js';
import { PROBLEM_TYPES } from './problem-types.js';

export type InputResult = { ok: true; input: unknown } | { ok: false; problem: Problem };

/** The JSON Schema types a field accepts (`type`, or the types of its `anyOf` branches, as zod writes a nullable). */
function typesOf(schema: JsonSchema): Set<string> {
  const types = new Set<string>();
  const add = (s: JsonSchema) => {
    if (typeof s.type === 'string') types.add(s.type);
    else if (Array.isArray(s.type)) for (const t of s.type) if (typeof t === 'string') types.add(t);
  };
  add(schema);
  if (Array.isArray(schema.anyOf)) for (const branch of schema.anyOf as JsonSchema[]) add(branch);
  return types;
}

// A JSON number (RFC 8259 §6): "12", "-3", "1.5e3"; not "0x1f", " 7" or "".
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A path or query value as the JSON the procedure's input would hold: a
 * number where the field is a number, a boolean where it is one, else the
 * string. Anything else stays a string, so zod answers it with its own
 * issue ("expected number, received string") in the 400.
 */
function coerce(value: string, schema: JsonSchema): unknown {
  const types = typesOf(schema);
  if ((types.has('integer') || types.has('number')) && JSON_NUMBER.test(value)) return Number(value);
  if (types.has('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

const badRequest = (detail: string): InputResult => ({ ok: false, problem: localProblem(PROBLEM_TYPES.badRequest, detail) });

/**
 * A GET's raw input, as a tRPC client would send it: the path parameters
 * and the documented query parameters, coerced to the field's JSON type.
 * Unknown query parameters are ignored (a cache-buster must not change the
 * cache key); an empty one is absent. With no parameter at all the input is
 * undefined, as a tRPC call without input: both share one cache entry.
 */
export function queryInput(endpoint: Endpoint, pathValues: readonly string[], search: URLSearchParams): InputResult {
  const input: Record<string, unknown> = {};
  for (const [i, name] of endpoint.pathParams.entries()) {
    let value: string;
    try {
      value = decodeURIComponent(pathValues[i] ?? '');
    } catch {
      return badRequest(`The path parameter ${name} is not valid percent-encoding.`);
    }
    input[name] = coerce(value, fieldSchema(endpoint, name));
  }
  for (const name of endpoint.queryParams) {
    const values = search.getAll(name);
    if (values.length > 1) return badRequest(`The query parameter ${name} is given ${values.length} times; give it once.`);
    const [value] = values;
    if (value === undefined || value === '') continue;
    input[name] = coerce(value, fieldSchema(endpoint, name));
  }
  return { ok: true, input: Object.keys(input).length === 0 ? undefined : input };
}

/** A POST's raw input: the JSON body, as tRPC reads a mutation's. */
export function bodyInput(text: string): InputResult {
  try {
    return { ok: true, input: text === '' ? undefined : (JSON.parse(text) as unknown) };
  } catch {
    return badRequest('The body is not valid JSON.');
  }
}
