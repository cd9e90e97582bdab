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

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('paginate', () => {
  it('yields exactly the items of a raw cursor walk, in order', async () => {
    const viaSdk = await collect(paginate(client.users.list, { limit: 17 }));
    const viaRaw = await rawWalk<User>('users.list', { limit: 17 });
    expect(viaSdk).toEqual(viaRaw);
    expect(viaSdk).toHaveLength(130);
  });

  it('keeps filters on every page', async () => {
    const viaSdk = await collect(paginate(client.payments.list, { limit: 2, userId: 3 }));
    const viaRaw = await rawWalk<{ id: number; userId: number }>('payments.list', { limit: 2, userId: 3 });
    expect(viaSdk.map((p) => p.id)).toEqual(viaRaw.map((p) => p.id));
    expect(viaSdk.every((p) => p.userId === 3)).toBe(true);
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

  it('checks the input against the procedure, without cursor', () => {
    // Compile-time only: these lines fail `npm run typecheck` if the types loosen.
    const typed = () => {
      // @ts-expect-error limit is a number
      void paginate(client.users.list, { limit: '50' });
      // @ts-expect-error users.list has no userId filter
      void paginate(client.users.list, { limit: 5, userId: 1 });
      // @ts-expect-error the cursor is paginate's
      void paginate(client.users.list, { cursor: 'abc' });
      const emails: AsyncGenerator<string> = (async function* () {
        for await (const u of paginate(client.users.list, { limit: 5 })) yield u.email;
      })();
      return emails;
    };
    expect(typeof typed).toBe('function');
  });
});
