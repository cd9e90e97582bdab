import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closePair, compareRaw, compareWithHost, rawCall, startPair, type Pair } from '../helpers/lean-pair.js';
import { leanPathServed } from '../../server/http/lean-path.js';

/*
 * The lean batch path (server/http/lean-batch.ts) against the adapter: the
 * same batched GETs to a reference server (LEAN_PATH=false) and a lean one,
 * each answer compared in status, headers and bytes, and the route it took
 * checked. Date is frozen, so every clock-derived header is equal.
 */
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 5, 1, 12) });
});
afterAll(() => {
  vi.useRealTimers();
});

const batch = (paths: string[], inputs: Record<string, unknown>) =>
  `${paths.join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`;

interface Case {
  name: string;
  url: string;
  status: number;
  /** Whether the lean batch path answers it (false: the adapter). */
  lean: boolean;
}

const byIds = (...ids: number[]) => batch(ids.map(() => 'users.byId'), Object.fromEntries(ids.map((id, i) => [i, { id }])));

const CASES: Case[] = [
  { name: 'three users.byId', url: byIds(1, 2, 3), status: 200, lean: true },
  { name: 'the same three again (hits when caching)', url: byIds(1, 2, 3), status: 200, lean: true },
  { name: 'a batch of one', url: byIds(4), status: 200, lean: true },
  { name: 'a found and a missing user (207)', url: byIds(1, 999_999), status: 207, lean: true },
  { name: 'two missing users (one status)', url: byIds(999_998, 999_999), status: 404, lean: true },
  {
    name: 'different queries',
    url: batch(['users.list', 'payments.list', 'stats.summary', 'rates.latest'], { 0: { limit: 3 }, 1: { limit: 2, userId: 4 }, 2: {}, 3: { base: 'USD' } }),
    status: 200,
    lean: true,
  },
  { name: 'input zod rejects in one call', url: batch(['users.byId', 'users.byId'], { 0: { id: 1 }, 1: { id: 'two' } }), status: 207, lean: true },
  { name: 'a call with no input entry', url: batch(['users.byId', 'users.byId'], { 0: { id: 1 } }), status: 207, lean: true },
  { name: 'an empty input', url: 'users.byId,users.list?batch=1&input=', status: 207, lean: true },
  { name: 'input that is an array', url: 'users.byId,users.byId?batch=1&input=' + encodeURIComponent('[{"id":1},{"id":2}]'), status: 400, lean: false },
  { name: 'input that is not JSON', url: 'users.byId,users.byId?batch=1&input=%7Bnot-json', status: 400, lean: false },
  { name: 'input that is null', url: 'users.byId,users.byId?batch=1&input=null', status: 400, lean: false },
  { name: 'input that is a number', url: 'users.byId,users.byId?batch=1&input=5', status: 400, lean: false },
  { name: 'batch=2, which the adapter does not take for a batch', url: byIds(1, 2).replace('batch=1&', 'batch=2&'), status: 404, lean: false },
  { name: 'a mutation among the calls', url: batch(['users.byId', 'users.create'], { 0: { id: 1 }, 1: { name: 'x', email: 'x@example.com' } }), status: 400, lean: false },
  { name: 'an unknown procedure among the calls', url: batch(['users.byId', 'users.nope'], { 0: { id: 1 }, 1: {} }), status: 207, lean: false },
  { name: 'its parameters in another order', url: `users.byId,users.byId?input=${encodeURIComponent('{"0":{"id":1},"1":{"id":2}}')}&batch=1`, status: 200, lean: false },
];

const CONFIGS: Array<[string, Record<string, string>]> = [
  ['the cache off (the benchmark)', { CACHE_ENABLED: 'false' }],
  ['the default configuration', {}],
];

describe.each(CONFIGS)('the lean batch path answers as the adapter with %s', (_, env) => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair(env);
  });
  afterAll(() => closePair(pair));

  for (const c of CASES) {
    it(`answers ${c.name} with the same status, headers and bytes`, async () => {
      const { res, leanServed } = await compareRaw(pair, c.url);
      expect(res.status).toBe(c.status);
      expect(leanServed).toBe(c.lean ? 1 : 0);
    });
  }

  it('hands a batch with a Host that is not a plain name or address to the adapter, which answers it alike', async () => {
    const { expected, actual, leanServed } = await compareWithHost(pair, byIds(1, 2), 'exa_mple');
    expect(actual).toEqual(expected);
    expect(expected.status).toBe(200);
    expect(leanServed).toBe(0);
  });

  it('hands a POST, or an Accept of streamed answers, to the adapter, which answers it alike', async () => {
    const auth = { authorization: 'Bearer demo-alice' };
    // A POST with no Content-Type: the adapter's 415. Streamed: the adapter's 200 in JSON lines.
    const post = await compareRaw(pair, byIds(1, 2), () => ({ method: 'POST', headers: auth }));
    expect(post.res.status).toBe(415);
    expect(post.leanServed).toBe(0);
    // Streamed chunks come in the order the calls finish, which varies on PostgreSQL: compared by status and type.
    const before = leanPathServed(pair.lean.services);
    const init = () => ({ headers: { ...auth, 'trpc-accept': 'application/jsonl' } });
    const [expected, actual] = [await rawCall(pair.reference, byIds(1, 2), init()), await rawCall(pair.lean, byIds(1, 2), init())];
    expect([actual.status, actual.headers.get('content-type')]).toEqual([expected.status, expected.headers.get('content-type')]);
    expect(expected.status).toBe(200);
    expect(leanPathServed(pair.lean.services)).toBe(before);
  });

  it('answers a batch without an API key alike, through the adapter', async () => {
    const { res, leanServed } = await compareRaw(pair, byIds(1, 2), () => ({}));
    expect(res.status).toBe(401);
    expect(leanServed).toBe(0);
  });
});

describe('the lean batch path under limits and failures', () => {
  const pairs: Pair[] = [];
  afterEach(async () => {
    await Promise.all(pairs.splice(0).map(closePair));
  });

  it('answers a batch its bucket can pay for alike, and the next with the same whole 429', async () => {
    const pair = await startPair({ RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_SECOND: '0.01', CACHE_ENABLED: 'false' });
    pairs.push(pair);
    for (const [status, lean] of [[200, 1], [429, 0]] as const) {
      const { res, leanServed } = await compareRaw(pair, byIds(1, 2, 3));
      expect(res.status).toBe(status);
      expect(leanServed).toBe(lean);
    }
  });

  it('answers an unexpected error in one call with the same 207 and leaks nothing', async () => {
    const pair = await startPair({ CACHE_ENABLED: 'false' });
    pairs.push(pair);
    for (const server of [pair.reference, pair.lean]) {
      const byId = server.services.users.byId.bind(server.services.users);
      vi.spyOn(server.services.users, 'byId').mockImplementation((tenantId, id) => {
        if (id === 2) throw new Error('SQLITE_CORRUPT: secret detail');
        return byId(tenantId, id);
      });
    }
    const { res, leanServed } = await compareRaw(pair, byIds(1, 2));
    expect(res.status).toBe(207);
    expect(res.text).not.toContain('secret detail');
    expect(leanServed).toBe(1);
  });
});
