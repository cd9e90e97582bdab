/**
 * Small tools the reliability tests share: a seeded random source (so a
 * failing run can be replayed with RELIABILITY_SEED), a status tally, and a
 * bounded worker pool.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The seed for this run: RELIABILITY_SEED when set, else random; printed by each test. */
export function runSeed(): number {
  const given = process.env.RELIABILITY_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed)) throw new RangeError(`RELIABILITY_SEED must be an integer, got ${given}`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

// mulberry32, shared with the seed: the same seed replays the same kill moments and load mix.
export { prng } from '../../../server/db/seed.js';

/** An integer in [min, max] from `random`. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Counts outcomes by label and prints them sorted, e.g. `200: 812, 400: 95`. */
export class Tally {
  readonly counts = new Map<string, number>();

  add(label: string, n = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + n);
  }

  get(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Labels for which `keep` holds, with their counts. */
  filter(keep: (label: string) => boolean): Record<string, number> {
    return Object.fromEntries([...this.counts].filter(([label]) => keep(label)).sort(([a], [b]) => a.localeCompare(b)));
  }

  toString(): string {
    return [...this.counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, n]) => `${label}: ${n}`)
      .join(', ');
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time, in order of the items. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
