import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CallOptions, TestServer } from '../helpers/server.js';
import { closePair, compare, compareWithHost, hdr, startPair, type Pair } from '../helpers/lean-pair.js';
import { leanPathServed } from '../../server/http/lean-path.js';


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

  it('hands a request with a Host that is not a plain name or address to the adapter, which answers it alike', async () => {
    // `exa_mple` passes the edge's host guard (the URL parser takes it) but is not a plain name, so the lean path
    // leaves the URL to the adapter.
    const { expected, actual, leanServed } = await compareWithHost(pair, 'users.byId?input=%7B%22id%22%3A1%7D', 'exa_mple');
    expect(actual).toEqual(expected);
    expect(expected.status).toBe(200);
    expect(leanServed).toBe(0);
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
