import type { IncomingHttpHeaders } from 'node:http';

/** The request is one the adapter must see (its own parsing decides the answer). */
export const UNHANDLED: unique symbol = Symbol('unhandled');

const INPUT_PARAM = 'input=';

/**
 * The raw input of a single GET's query string as tRPC reads it
 * (`searchParams.get('input')` then JSON.parse; an empty value is no input),
 * or UNHANDLED when the query holds anything else (`batch`,
 * `connectionParams`, a malformed value): those answers are the adapter's.
 */
export function rawInputOf(query: string): unknown {
  if (!query.startsWith(INPUT_PARAM)) return UNHANDLED;
  const encoded = query.slice(INPUT_PARAM.length);
  if (encoded.includes('&')) return UNHANDLED;
  if (encoded === '') return undefined;
  try {
    // application/x-www-form-urlencoded decoding, as URLSearchParams does: '+' is a space.
    return JSON.parse(decodeURIComponent(encoded.includes('+') ? encoded.replaceAll('+', ' ') : encoded));
  } catch {
    return UNHANDLED;
  }
}

/** Another content type or a streaming Accept changes how tRPC parses or answers: those are the adapter's. */
export function isPlainJsonGet(headers: IncomingHttpHeaders): boolean {
  if (headers['content-type'] !== undefined || headers['trpc-accept'] !== undefined) return false;
  return headers.accept === undefined || !headers.accept.includes('application/jsonl');
}
