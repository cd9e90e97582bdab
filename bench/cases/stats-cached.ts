import { spawnComposure } from '../support/composure.js';
import { ALICE, input } from '../support/fixtures.js';
import { interleave, load } from '../support/load.js';
import { result, type BenchResult } from '../support/types.js';

/** stats.summary over about a million payments: served from the cache vs computed every time. */
export async function statsCached(bigDbFile: string, runs: number): Promise<BenchResult> {
  const cached = await spawnComposure(bigDbFile);
  const uncached = await spawnComposure(bigDbFile, { CACHE_ENABLED: 'false' });
  const path = `/trpc/stats.summary${input({})}`;
  try {
    const summary = (await (await fetch(cached.url + path, { headers: ALICE })).json()) as {
      result: { data: { payments: number } };
    };
    const cmp = await interleave(
      runs,
      () => load(cached.url + path, { headers: ALICE, connections: 8 }),
      () => load(uncached.url + path, { headers: ALICE, connections: 8 }),
    );
    return result({
      measures: `stats.summary over ${summary.result.data.payments} payments: cached vs uncached`,
      ratio: cmp.ratio,
      target: 50,
      comparison: '>=',
      a: { ...cmp.a },
      b: { ...cmp.b },
      extra: { payments: summary.result.data.payments },
    });
  } finally {
    await Promise.all([cached.stop(), uncached.stop()]);
  }
}
