import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, pages, paginate, isAbortError, type ComposureClient } from '../../client/index.js';
import type { User } from '../../shared/schemas/users.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let client: ComposureClient;
beforeAll(async () => {
  server = await startTestServer({ SEED_USERS: '130' });
  client = createClient({ url: server.url, apiKey: 'demo-alice' });
});
afterAll(() => server.close());

interface RawPage<T> {
  data: T[];
  nextCursor: string | null;
  hasMore: boolean;
}

/** The walk a user would write by hand over raw HTTP. */
async function rawWalk<T>(procedure: string, input: Record<string, unknown>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const res = await server.call(procedure, { input: cursor === null ? input : { ...input, cursor } });
    const page = res.body.result?.data as RawPage<T>;
    items.push(...page.data);
    if (!page.hasMore) return items;
    cursor = page.nextCursor;
  }
  throw new Error('raw walk did not end');
}

/** What the database holds, read without the API: unique ids, ascending. */
async function directIds(sql: string): Promise<number[]> {
  return (await server.services.database.query<{ id: number }>(sql)).map((r) => Number(r.id));
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('paginate', () => {
  it('yields exactly the items of a raw cursor walk, in order: every user of the tenant once, ascending', async () => {
    const viaSdk = await collect(paginate(client.users.list, { limit: 17 }));
    const viaRaw = await rawWalk<User>('users.list', { limit: 17 });
    expect(viaSdk).toEqual(viaRaw);
    expect(viaSdk.map((u) => u.id)).toEqual(await directIds('SELECT id FROM users WHERE tenant_id = 1 ORDER BY id'));
    expect(viaSdk).toHaveLength(130);
  });

  it('keeps filters on every page', async () => {
    // The user with the most payments, so the walk spans several pages.
    const [userId] = await directIds('SELECT user_id AS id FROM payments WHERE tenant_id = 1 GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1');
    const viaSdk = await collect(paginate(client.payments.list, { limit: 1, userId: userId! }));
    const viaRaw = await rawWalk<{ id: number; userId: number }>('payments.list', { limit: 1, userId });
    expect(viaSdk.map((p) => p.id)).toEqual(viaRaw.map((p) => p.id));
    const expected = await directIds(`SELECT id FROM payments WHERE tenant_id = 1 AND user_id = ${Number(userId)} ORDER BY id`);
    expect(expected.length).toBeGreaterThan(1);
    expect(viaSdk.map((p) => p.id)).toEqual(expected);
  });

  it('stops at hasMore: false without asking for another page', async () => {
    const all = await collect(pages(client.users.list, { limit: 50 }));
    expect(all.map((p) => [p.data.length, p.hasMore])).toEqual([
      [50, true],
      [50, true],
      [30, false],
    ]);
  });

  it('stops after maxPages', async () => {
    const items = await collect(paginate(client.users.list, { limit: 10 }, { maxPages: 2 }));
    expect(items.map((u) => u.id)).toEqual((await rawWalk<User>('users.list', { limit: 10 })).slice(0, 20).map((u) => u.id));
  });

  it('stops with an abort error when its signal fires', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const walk = async () => {
      for await (const user of paginate(client.users.list, { limit: 10 }, { signal: ac.signal })) {
        seen.push(user.id);
        if (seen.length === 15) ac.abort();
      }
    };
    const error = await walk().catch((e: unknown) => e);
    expect(seen.length).toBeLessThan(25);
    expect(error instanceof Error && (error.name === 'AbortError' || isAbortError(error))).toBe(true);
  });

});
