import { randomUUID } from 'node:crypto';
import type autocannon from 'autocannon';
import { ALICE, input } from './fixtures.js';
import type { LoadOptions } from './load.js';

// 500 distinct ids cycled, so no side serves one hot row.
export const IDS = Array.from({ length: 500 }, (_, i) => i + 1);
const JSON_BODY = { ...ALICE, 'content-type': 'application/json' };

export const trpcPaths = IDS.map((id) => `/trpc/users.byId${input({ id })}`);
export const honoPaths = IDS.map((id) => `/users/${id}`);

/** `users.byId` three times in one batched GET, ids i, i+1, i+2. */
export const batchOf3 = (i: number) => {
  const ids = [i, i + 1, i + 2].map((n) => ((n - 1) % IDS.length) + 1);
  const calls = Object.fromEntries(ids.map((id, k) => [String(k), { id }]));
  return `/trpc/users.byId,users.byId,users.byId?batch=1&input=${encodeURIComponent(JSON.stringify(calls))}`;
};
export const batchPaths = IDS.map(batchOf3);

/** A keyed create per request: a fresh Idempotency-Key and amount each time, users cycled. */
export function keyedPosts(path: string): autocannon.Request[] {
  let n = 0;
  return [
    {
      method: 'POST',
      path,
      setupRequest: (req) => {
        n++;
        const body = JSON.stringify({ userId: (n % IDS.length) + 1, amountCents: 100 + n, currency: 'EUR' });
        return { ...req, headers: { ...JSON_BODY, 'idempotency-key': randomUUID() }, body };
      },
    },
  ];
}

export interface Scenario {
  server: 'cached' | 'uncached' | 'hono';
  /** Fresh load options per run (keyed posts count their own requests). */
  load: () => Pick<LoadOptions, 'paths' | 'requests'>;
  /** Paths fetched once before loading (fills the cache). */
  warm?: string[];
}

/** The call types the peers benchmark compares, for profiling one at a time. */
export const scenarios: Record<string, Scenario> = {
  'cache-hit': { server: 'cached', load: () => ({ paths: trpcPaths }), warm: trpcPaths },
  uncached: { server: 'uncached', load: () => ({ paths: trpcPaths }) },
  batch: { server: 'uncached', load: () => ({ paths: batchPaths }) },
  create: { server: 'cached', load: () => ({ requests: keyedPosts('/trpc/payments.create') }) },
  'hono-read': { server: 'hono', load: () => ({ paths: honoPaths }) },
  'hono-create': { server: 'hono', load: () => ({ requests: keyedPosts('/payments') }) },
};
