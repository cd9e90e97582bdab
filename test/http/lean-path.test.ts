import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type CallOptions, type CallResult, type TestServer } from '../helpers/server.js';
import { leanPathServed } from '../../server/http/lean-path.js';

/*
 * The lean path must answer exactly what the tRPC adapter answers. Each
 * comparison runs on two fresh servers with the same seed and cursor
 * secret: the reference (LEAN_PATH=false, everything through the adapter)
 * and the lean one. The clock (Date only) is frozen, so rate-limit "t",
 * Age and the simulator's `asOf` are equal on both sides: nothing is masked.
 */
const COMPARED_HEADERS = [
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

const BASE_ENV = {
  SEED_USERS: '30',
  CURSOR_SECRET: 'lean-path-test-secret-0123456789abcdef',
  RATE_LIMIT_BURST: '1000',
  RATE_LIMIT_PER_SECOND: '1',
};

/** fetch options for the requests the test helper cannot express (a raw query string). */
const hdr = (): RequestInit => ({ headers: { authorization: 'Bearer demo-alice' } });

interface Pair {
  reference: TestServer;
  lean: TestServer;
}

async function startPair(env: Record<string, string> = {}): Promise<Pair> {
  const [reference, lean] = await Promise.all([
    startTestServer({ ...BASE_ENV, ...env, LEAN_PATH: 'false' }),
    startTestServer({ ...BASE_ENV, ...env, LEAN_PATH: 'true' }),
  ]);
  return { reference, lean };
}
const closePair = async (pair: Pair) => Promise.all([pair.reference.close(), pair.lean.close()]);

/*
 * Per request, or framing: the adapter streams an uncached body (chunked)
 * where the lean path sends Content-Length, as the cache already does.
 */
const UNCOMPARED_HEADERS = new Set(['date', 'x-request-id', 'content-length', 'transfer-encoding']);

function wireOf(res: CallResult) {
  const headers: Record<string, string | null> = {};
  for (const name of COMPARED_HEADERS) headers[name] = res.headers.get(name);
  // Every other header too, so the lean path adds or drops none.
  for (const [name, value] of res.headers) if (!UNCOMPARED_HEADERS.has(name)) headers[name] = value;
  return { status: res.status, headers, text: res.text };
}

/** Calls both servers (reference first) and asserts equal answers; returns the reference's and how many the lean path served. */
async function compare(pair: Pair, path: string, opts?: CallOptions) {
  const before = leanPathServed(pair.lean.services);
  const expected = await pair.reference.call(path, opts);
  const actual = await pair.lean.call(path, opts);
  expect(wireOf(actual)).toEqual(wireOf(expected));
  expect(leanPathServed(pair.reference.services)).toBe(0);
  return { res: expected, leanServed: leanPathServed(pair.lean.services) - before };
}

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 5, 1, 12) });
});
afterAll(() => {
  vi.useRealTimers();
});

interface Case {
  name: string;
  path: string;
  opts?: CallOptions;
  status: number;
  /** Whether the lean path answers it (false: handed on to the adapter). */
  lean: boolean;
  /**
   * Whether it does in the default configuration, where the cache fast path
   * answers hits and auth failures of cached procedures before the lean path.
   * @default lean
   */
  leanWithCacheFastPath?: boolean;
}

const CASES: Case[] = [
  { name: 'users.byId', path: 'users.byId', opts: { input: { id: 3 } }, status: 200, lean: true },
  { name: 'users.list', path: 'users.list', opts: { input: { limit: 4 } }, status: 200, lean: true },
  { name: 'payments.list', path: 'payments.list', opts: { input: { limit: 5 } }, status: 200, lean: true },
  { name: 'payments.list for one user', path: 'payments.list', opts: { input: { limit: 2, userId: 4 } }, status: 200, lean: true },
  { name: 'stats.summary', path: 'stats.summary', opts: { input: {} }, status: 200, lean: true },
  { name: 'rates.latest', path: 'rates.latest', opts: { input: { base: 'USD' } }, status: 200, lean: true },
  { name: 'a repeat of users.byId (a hit when caching)', path: 'users.byId', opts: { input: { id: 3 } }, status: 200, lean: true, leanWithCacheFastPath: false },
  { name: 'a validation failure', path: 'users.byId', opts: { input: { id: 'three' } }, status: 400, lean: true },
  { name: 'a limit out of range', path: 'users.list', opts: { input: { limit: 1000 } }, status: 400, lean: true },
  { name: 'a malformed cursor', path: 'users.list', opts: { input: { cursor: 'not-a-cursor' } }, status: 400, lean: true },
  { name: 'a missing user', path: 'users.byId', opts: { input: { id: 999_999 } }, status: 404, lean: true },
  { name: 'no API key', path: 'users.byId', opts: { input: { id: 1 }, key: null }, status: 401, lean: true, leanWithCacheFastPath: false },
  { name: 'an unknown API key', path: 'users.list', opts: { input: {}, key: 'nope' }, status: 401, lean: true, leanWithCacheFastPath: false },
  { name: 'an unknown procedure', path: 'users.nope', opts: { input: {} }, status: 404, lean: false },
  { name: 'a mutation over GET', path: 'users.create', opts: { input: { name: 'x', email: 'x@example.com' } }, status: 405, lean: false },
  { name: 'no query string', path: 'stats.summary', status: 200, lean: false },
];

const CONFIGS: Array<[string, Record<string, string>]> = [
  ['the cache off (the benchmark)', { CACHE_ENABLED: 'false' }],
  ['the cache on, its fast path off (hits and 304s through the lean path)', { CACHE_FAST_PATH: 'false' }],
  ['the default configuration', {}],
];

describe.each(CONFIGS)('the lean path answers as the adapter with %s', (_, env) => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair(env);
  });
  afterAll(() => closePair(pair));

  for (const c of CASES) {
    it(`answers ${c.name} with the same status, headers and bytes`, async () => {
      const { res, leanServed } = await compare(pair, c.path, c.opts);
      expect(res.status).toBe(c.status);
      const fastPathFirst = env.CACHE_FAST_PATH !== 'false' && env.CACHE_ENABLED !== 'false';
      const lean = fastPathFirst ? (c.leanWithCacheFastPath ?? c.lean) : c.lean;
      expect(leanServed).toBe(lean ? 1 : 0);
    });
  }

  it('answers input that is not JSON with the same 400, through the adapter', async () => {
    const url = (s: TestServer) => `${s.url}/trpc/users.byId?input=%7Bnot-json`;
    const before = leanPathServed(pair.lean.services);
    const [expected, actual] = [await fetch(url(pair.reference), hdr()), await fetch(url(pair.lean), hdr())];
    expect(actual.status).toBe(400);
    expect(actual.status).toBe(expected.status);
    expect(await actual.text()).toBe(await expected.text());
    expect(leanPathServed(pair.lean.services)).toBe(before);
  });

  it('answers a batch through the adapter', async () => {
    const before = leanPathServed(pair.lean.services);
    const path = 'users.byId,users.byId?batch=1&input=' + encodeURIComponent(JSON.stringify({ 0: { id: 1 }, 1: { id: 2 } }));
    const [expected, actual] = [await fetch(`${pair.reference.url}/trpc/${path}`, hdr()), await fetch(`${pair.lean.url}/trpc/${path}`, hdr())];
    expect(actual.status).toBe(200);
    expect(await actual.text()).toBe(await expected.text());
    expect(leanPathServed(pair.lean.services)).toBe(before);
  });

  it('answers a matching If-None-Match alike (304 when caching)', async () => {
    const first = await compare(pair, 'users.list', { input: { limit: 7 } });
    const etag = first.res.headers.get('etag') ?? '"none"';
    const { res, leanServed } = await compare(pair, 'users.list', { input: { limit: 7 }, headers: { 'if-none-match': etag } });
    expect(res.status).toBe(env.CACHE_ENABLED === 'false' ? 200 : 304);
    if (res.status === 304) expect(res.text).toBe('');
    // The cache's 304 (a status set on `res` before the answer is written) must survive the lean path's writing;
    // by default the cache fast path answers it first.
    expect(leanServed).toBe(env.CACHE_ENABLED === 'false' || env.CACHE_FAST_PATH === 'false' ? 1 : 0);
  });
});

describe('the lean path under limits and failures', () => {
  const pairs: Pair[] = [];
  afterEach(async () => {
    await Promise.all(pairs.splice(0).map(closePair));
  });

  it('answers an empty bucket with the same 429, Retry-After and RateLimit headers', async () => {
    const pair = await startPair({ RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_SECOND: '0.01', CACHE_ENABLED: 'false' });
    pairs.push(pair);
    for (const status of [200, 200, 429, 429]) {
      const { res, leanServed } = await compare(pair, 'users.byId', { input: { id: 1 } });
      expect(res.status).toBe(status);
      expect(leanServed).toBe(1);
    }
  });

  it('answers rates.latest with the same 503 when the provider fails and nothing stale is kept', async () => {
    const pair = await startPair({ RATES_TIMEOUT_MS: '300' });
    pairs.push(pair);
    for (const server of [pair.reference, pair.lean]) server.services.simulator?.setMode('error');
    const { res, leanServed } = await compare(pair, 'rates.latest', { input: { base: 'USD' } });
    expect(res.status).toBe(503);
    expect(leanServed).toBe(1);
  });

  it('logs an unexpected error once, as the adapter does, and leaks nothing', async () => {
    const pair = await startPair({ CACHE_ENABLED: 'false' });
    pairs.push(pair);
    for (const server of [pair.reference, pair.lean]) {
      vi.spyOn(server.services.users, 'byId').mockImplementation(() => {
        throw new Error('SQLITE_CORRUPT: secret detail');
      });
    }
    // Counts error lines on each request's logger (ctx.log, a child of the server's).
    const errorLines = [0, 0];
    [pair.reference, pair.lean].forEach((server, i) => {
      const { log } = server.services;
      const child = log.child.bind(log);
      vi.spyOn(log, 'child').mockImplementation((bindings, options) => {
        const logger = child(bindings, options);
        const error = logger.error.bind(logger);
        logger.error = ((...args: Parameters<typeof error>) => {
          errorLines[i] = (errorLines[i] ?? 0) + 1;
          return error(...args);
        }) as typeof logger.error;
        return logger;
      });
    });
    const { res, leanServed } = await compare(pair, 'users.byId', { input: { id: 1 } });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('secret detail');
    expect(leanServed).toBe(1);
    expect(errorLines).toEqual([1, 1]);
  });
});
