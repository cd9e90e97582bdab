import type { IncomingMessage } from 'node:http';

// Where server/http/server.ts mounts the tRPC adapter.
const BASE_PATH = '/trpc/';
const PLAIN_CALL = /^\/trpc\/[\w-]+(?:\.[\w-]+)*$/;

export interface TrpcCalls {
  /** Procedure paths, decoded as the adapter decodes them. */
  paths: string[];
  /** `?batch=1`: the body is `{"0": input, "1": input, …}` and the answer an array. */
  isBatch: boolean;
}

/**
 * The calls a tRPC URL names, read the way the standalone adapter reads it
 * (path after the base, split on `,` when batched, URI-decoded); null for a
 * URL outside the adapter or with a malformed path (the adapter answers those).
 */
export function trpcCallsOf(url: string | undefined): TrpcCalls | null {
  // One dotted procedure name and nothing else: the URL parser would give
  // back the same path (no query, no escapes, no dot segments), at a cost
  // every keyed write paid twice.
  if (url !== undefined && PLAIN_CALL.test(url)) return { paths: [url.slice(BASE_PATH.length)], isBatch: false };
  let parsed: URL;
  try {
    parsed = new URL(url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
  if (!parsed.pathname.startsWith(BASE_PATH)) return null;
  const isBatch = parsed.searchParams.get('batch') === '1';
  const path = parsed.pathname.slice(BASE_PATH.length);
  try {
    const decoded = decodeURIComponent(path);
    return { paths: isBatch ? decoded.split(',') : [decoded], isBatch };
  } catch {
    return null;
  }
}

/** Media types compare case-insensitively, parameters aside (RFC 9110 §8.3.1), as the adapter compares them. */
export function isJsonRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json';
}
