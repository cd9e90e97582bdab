import { spawnServer } from '../support/spawn-server.js';
import { spawnComposure } from '../support/composure.js';
import { ALICE, input } from '../support/fixtures.js';
import { interleave, load } from '../support/load.js';
import { result, type BenchResult } from '../support/types.js';

// 500 distinct ids cycled, so neither side serves one hot row.
const paths = (proc: string) => Array.from({ length: 500 }, (_, i) => `/trpc/${proc}${input({ id: i + 1 })}`);

/** The full stack (auth, limiter, cache miss, handler) on a point read, against bare tRPC doing the same prepared read. */
export async function stackOverhead(dbFile: string, runs: number): Promise<BenchResult> {
  const composure = await spawnComposure(dbFile, { CACHE_ENABLED: 'false' });
  const bare = await spawnServer('bench/baselines/bare-trpc.ts', { DATABASE_URL: dbFile, PORT: '0' });
  try {
    const cmp = await interleave(
      runs,
      () => load(composure.url, { headers: ALICE, paths: paths('users.byId') }),
      () => load(bare.url, { paths: paths('byId') }),
    );
    return result({
      measures: 'uncached point read through auth + limiter + cache miss vs bare tRPC with the same prepared drizzle read',
      ratio: cmp.ratio,
      target: 0.85,
      comparison: '>=',
      a: { ...cmp.a },
      b: { ...cmp.b },
    });
  } finally {
    await Promise.all([composure.stop(), bare.stop()]);
  }
}

/**
 * The rate-limit middleware's cost (issue target: under 5 % of throughput).
 * On two cores the load generator saturates before the server does, so
 * requests per second mostly measure the client parsing two more headers;
 * the server's CPU per request is what the middleware really costs, and its
 * inverse is the throughput the server can give. Both are reported.
 */
export async function limiterOverhead(dbFile: string, runs: number): Promise<BenchResult> {
  const limited = await spawnComposure(dbFile, { CACHE_ENABLED: 'false' });
  const unlimited = await spawnComposure(dbFile, { CACHE_ENABLED: 'false', RATE_LIMIT_ENABLED: 'false' });
  try {
    const cmp = await interleave(
      runs,
      () => load(limited.url, { headers: ALICE, paths: paths('users.byId'), server: limited }),
      () => load(unlimited.url, { headers: ALICE, paths: paths('users.byId'), server: unlimited }),
    );
    const cpuA = cmp.a.cpuUsPerReq ?? Number.NaN;
    const cpuB = cmp.b.cpuUsPerReq ?? Number.NaN;
    return result({
      measures: 'server capacity (1 / CPU per request) of an uncached read with the rate limiter vs without it',
      ratio: cpuB / cpuA,
      target: 0.95,
      comparison: '>=',
      a: { ...cmp.a },
      b: { ...cmp.b },
      extra: { rpsRatio: cmp.ratio },
    });
  } finally {
    await Promise.all([limited.stop(), unlimited.stop()]);
  }
}
