import { pino } from 'pino';
import { createMemoryBus } from '../../server/events/bus.js';
import { createQueryCache, type CachePolicy } from '../../server/cache/index.js';
import type { BenchResult } from '../support/types.js';
import { result } from '../support/types.js';

const ENTRIES = 50_000;
const policy: CachePolicy = {
  path: 'users.byId',
  ttlMs: 600_000,
  tags: ['users'],
  scope: 'tenant',
  cacheControl: 'private, no-cache',
  cost: 1,
  acrossInstances: false,
};

function retainedBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (npm run bench does)');
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** Memory the cache holds per entry after ENTRIES distinct inputs of `padLength` extra characters, and what it reports. */
async function perEntry(padLength: number): Promise<{ heldBytes: number; reportedBytes: number }> {
  const pad = 'x'.repeat(padLength);
  const before = retainedBytes();
  const cache = createQueryCache({
    config: { CACHE_MAX_BYTES: 2 ** 40, CACHE_MAX_ENTRIES: ENTRIES, RATES_TTL_MS: 30_000, RATES_STALE_MS: 3_600_000 },
    bus: createMemoryBus(),
    log: pino({ level: 'silent' }),
  });
  for (let i = 0; i < ENTRIES; i++) {
    // Parsed from JSON text, as a query string's input is: the key is made from what the server really holds.
    const input: unknown = JSON.parse(`{"id":${1 + (i % 100)},"pad":"${pad}${i}"}`);
    const key = cache.keyFor(policy, 1, input);
    if (key === null) throw new Error('no key');
    await cache.load(key, policy, 1, async () => ({ id: 1 + (i % 100), name: `Ada Lovelace ${i}`, email: `user${i}@alice.example`, createdAt: new Date(0).toISOString() }));
  }
  const held = retainedBytes() - before;
  const { entries, bytes } = cache.stats();
  if (entries !== ENTRIES) throw new Error(`expected ${ENTRIES} entries, found ${entries}`);
  await cache.close();
  return { heldBytes: held / ENTRIES, reportedBytes: bytes / ENTRIES };
}

/**
 * What a cache entry costs with a 4 KB input against a short one, side by
 * side in one process: keys are digests, so the long input must cost no more,
 * and CACHE_MAX_BYTES (what the cache reports) must track what it holds.
 */
export async function cacheEntryMemory(): Promise<BenchResult> {
  const short = await perEntry(0);
  const long = await perEntry(4096);
  return result({
    measures: `bytes held per cache entry, 4 KB inputs vs short ones (${ENTRIES} entries each)`,
    ratio: long.heldBytes / short.heldBytes,
    target: 1.2,
    comparison: '<=',
    a: { heldBytesPerEntry: Math.round(long.heldBytes), reportedBytesPerEntry: Math.round(long.reportedBytes) },
    b: { heldBytesPerEntry: Math.round(short.heldBytes), reportedBytesPerEntry: Math.round(short.reportedBytes) },
    extra: { heldOverReported: Number((long.heldBytes / long.reportedBytes).toFixed(2)) },
  });
}
