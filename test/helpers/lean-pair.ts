import { request } from 'node:http';
import { expect } from 'vitest';
import { startTestServer, type CallOptions, type CallResult, type TestServer } from './server.js';
import { leanPathServed } from '../../server/http/lean-path.js';

/*
 * The lean path must answer exactly what the tRPC adapter answers. Each
 * comparison runs on two fresh servers with the same seed and cursor
 * secret: the reference (LEAN_PATH=false, everything through the adapter)
 * and the lean one. The clock (Date only) is frozen, so rate-limit "t",
 * Age and the simulator's `asOf` are equal on both sides: nothing is masked.
 */
export const COMPARED_HEADERS = [
  'content-type',
  'vary',
  'cache-control',
  'cache-status',
  'etag',
  'age',
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
] as const;

export const BASE_ENV = {
  SEED_USERS: '30',
  CURSOR_SECRET: 'lean-path-test-secret-0123456789abcdef',
  RATE_LIMIT_BURST: '1000',
  RATE_LIMIT_PER_SECOND: '1',
};

/** fetch options for the requests the test helper cannot express (a raw query string). */
export const hdr = (): RequestInit => ({ headers: { authorization: 'Bearer demo-alice' } });

export interface Pair {
  reference: TestServer;
  lean: TestServer;
}

export async function startPair(env: Record<string, string> = {}): Promise<Pair> {
  const [reference, lean] = await Promise.all([
    startTestServer({ ...BASE_ENV, ...env, LEAN_PATH: 'false' }),
    startTestServer({ ...BASE_ENV, ...env, LEAN_PATH: 'true' }),
  ]);
  return { reference, lean };
}
export const closePair = async (pair: Pair) => Promise.all([pair.reference.close(), pair.lean.close()]);

/*
 * Per request, or framing: the adapter streams an uncached body (chunked)
 * where the lean path sends Content-Length, as the cache already does.
 */
const UNCOMPARED_HEADERS = new Set(['date', 'x-request-id', 'content-length', 'transfer-encoding']);

export function wireOf(res: CallResult) {
  const headers: Record<string, string | null> = {};
  for (const name of COMPARED_HEADERS) headers[name] = res.headers.get(name);
  // Every other header too, so the lean path adds or drops none.
  for (const [name, value] of res.headers) if (!UNCOMPARED_HEADERS.has(name)) headers[name] = value;
  return { status: res.status, headers, text: res.text };
}

/** Calls both servers (reference first) and asserts equal answers; returns the reference's and how many the lean path served. */
export async function compare(pair: Pair, path: string, opts?: CallOptions) {
  const before = leanPathServed(pair.lean.services);
  const expected = await pair.reference.call(path, opts);
  const actual = await pair.lean.call(path, opts);
  expect(wireOf(actual)).toEqual(wireOf(expected));
  expect(leanPathServed(pair.reference.services)).toBe(0);
  return { res: expected, leanServed: leanPathServed(pair.lean.services) - before };
}


/** A raw request to `/trpc/<pathAndQuery>` (a batch URL, a hand-made body), as a CallResult. */
export async function rawCall(server: TestServer, pathAndQuery: string, init: RequestInit = hdr()): Promise<CallResult> {
  const res = await fetch(`${server.url}/trpc/${pathAndQuery}`, init);
  const text = await res.text();
  let body: CallResult['body'] = {};
  try {
    body = JSON.parse(text) as CallResult['body'];
  } catch {
    // A 304 or a non-JSON answer keeps an empty body.
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** compare() for raw requests: the same request to both servers, reference first. */
export async function compareRaw(pair: Pair, pathAndQuery: string, init?: () => RequestInit) {
  const before = leanPathServed(pair.lean.services);
  const expected = await rawCall(pair.reference, pathAndQuery, init?.());
  const actual = await rawCall(pair.lean, pathAndQuery, init?.());
  expect(wireOf(actual)).toEqual(wireOf(expected));
  expect(leanPathServed(pair.reference.services)).toBe(0);
  return { res: expected, leanServed: leanPathServed(pair.lean.services) - before };
}

/**
 * GET `/trpc/<pathAndQuery>` as alice with the Host header given (fetch cannot set Host; node:http can), on both
 * servers of the pair, reference first; returns both answers and how many the lean path served.
 */
export async function compareWithHost(pair: Pair, pathAndQuery: string, host: string) {
  const get = (s: TestServer) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { port } = new URL(s.url);
      const req = request({ host: '127.0.0.1', port, path: `/trpc/${pathAndQuery}`, headers: { host, authorization: 'Bearer demo-alice' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const before = leanPathServed(pair.lean.services);
  const expected = await get(pair.reference);
  const actual = await get(pair.lean);
  return { expected, actual, leanServed: leanPathServed(pair.lean.services) - before };
}
