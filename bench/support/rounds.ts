import { median, type LoadResult } from './load.js';

/** One contender's runs, in round order. */
export type Runs = Record<string, LoadResult[]>;

/**
 * Runs every contender once per round, in the same order each round
 * (A B C … A B C …), so drift on a shared machine spreads over all of them
 * instead of landing on whichever ran last.
 */
export async function rounds(count: number, contenders: Record<string, () => Promise<LoadResult>>): Promise<Runs> {
  const runs: Runs = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let round = 0; round < count; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      const r = await run();
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers, ${r.errors} errors in round ${round + 1}`);
      runs[name]?.push(r);
    }
  }
  return runs;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export const spread = (values: number[]): Spread => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});

const cpuOf = (r: LoadResult): number => {
  if (r.cpuUsPerReq === undefined) throw new Error('a run without server CPU');
  return r.cpuUsPerReq;
};

/** Server CPU per request across the rounds. */
export const cpuSpread = (rs: LoadResult[]): Spread => spread(rs.map(cpuOf));

/**
 * CPU per request of `a` over `per` × that of `b`, taken round by round
 * (each pair ran back to back), then spread over the rounds.
 */
export function ratioSpread(a: LoadResult[], b: LoadResult[], per = 1): Spread {
  return spread(a.map((r, i) => cpuOf(r) / (per * cpuOf(b[i] ?? r))));
}
