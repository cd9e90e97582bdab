import { spawnComposure } from '../support/composure.js';
import { ALICE, input } from '../support/fixtures.js';
import { load } from '../support/load.js';
import { result, type BenchResult } from '../support/types.js';

// A mix that touches every read path and many distinct cache keys.
function mixedPaths(): string[] {
  const paths: string[] = [];
  for (let i = 1; i <= 300; i++) {
    paths.push(`/trpc/users.byId${input({ id: i })}`);
    paths.push(`/trpc/users.list${input({ limit: 1 + (i % 50) })}`);
    paths.push(`/trpc/payments.list${input({ limit: 10, userId: i })}`);
  }
  paths.push(`/trpc/stats.summary${input({})}`, `/trpc/rates.latest${input({ base: 'USD' })}`);
  return paths;
}

/** RSS after a long mixed load against RSS after warm-up: memory stays bounded. */
export async function memory(dbFile: string, soakS: number): Promise<BenchResult> {
  const server = await spawnComposure(dbFile);
  try {
    const paths = mixedPaths();
    await load(server.url, { headers: ALICE, paths, durationS: 10 });
    const warm = server.rss();
    const soak = await load(server.url, { headers: ALICE, paths, durationS: soakS });
    const after = server.rss();
    return result({
      measures: `RSS after ${soakS} s of mixed load vs after 10 s warm-up`,
      ratio: after / warm,
      target: 1.2,
      comparison: '<=',
      a: { rssMB: after / 2 ** 20, rps: soak.rps, non2xx: soak.non2xx },
      b: { rssMB: warm / 2 ** 20 },
    });
  } finally {
    await server.stop();
  }
}
