import { spawnServer } from '../support/spawn-server.js';
import { ALICE, input } from '../support/fixtures.js';
import { spawnComposure } from '../support/composure.js';
import { interleave, load } from '../support/load.js';
import { result, type BenchResult } from '../support/types.js';

/** A cached GET answered by the fast path, against bare tRPC returning the same JSON; plain node:http as the ceiling. */
export async function cachedHit(dbFile: string, runs: number): Promise<BenchResult> {
  const composure = await spawnComposure(dbFile);
  const path = `/trpc/users.byId${input({ id: 1 })}`;
  const warm = await fetch(composure.url + path, { headers: ALICE });
  const bytes = await warm.text();
  const user = (JSON.parse(bytes) as { result: { data: unknown } }).result.data;
  const bare = await spawnServer('bench/baselines/bare-trpc.ts', { DATABASE_URL: dbFile, PORT: '0', FIXED_JSON: JSON.stringify(user) });
  const plain = await spawnServer('bench/baselines/plain-http.ts', { PORT: '0', BODY: bytes });
  try {
    const cmp = await interleave(
      runs,
      () => load(composure.url + path, { headers: ALICE }),
      () => load(`${bare.url}/trpc/fixed${input({ id: 1 })}`),
    );
    const ceiling = await load(plain.url);
    return result({
      measures: 'cached GET (fast path) vs bare tRPC standalone returning the same JSON',
      ratio: cmp.ratio,
      target: 3,
      comparison: '>=',
      a: { ...cmp.a },
      b: { ...cmp.b },
      extra: { plainHttpRps: ceiling.rps, ofPlainHttp: cmp.a.rps / ceiling.rps },
    });
  } finally {
    await Promise.all([composure.stop(), bare.stop(), plain.stop()]);
  }
}
