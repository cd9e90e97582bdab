/**
 * `npm run bench`: every benchmark, each server in its own process on
 * 127.0.0.1, load from this process, A and B interleaved, medians of RUNS.
 * Prints a table of ratios and writes bench/results.json.
 *
 *   npm run bench                 all of them but postgres
 *   npm run bench -- cached-hit   only the named ones
 *   npm run bench -- postgres     the PostgreSQL rows beside SQLite's (a server on 127.0.0.1:5432, or BENCH_POSTGRES_URL)
 *   npm run bench -- overload-postgres   the overload bench on PostgreSQL (the same server)
 */
import { cpus } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededDatabase } from './support/fixtures.js';
import type { BenchResult } from './support/types.js';
import { cachedHit } from './cases/cached-hit.js';
import { limiterOverhead, stackOverhead } from './cases/stack-overhead.js';
import { keysetDepth } from './cases/keyset-depth.js';
import { limiter } from './cases/limiter.js';
import { statsCached } from './cases/stats-cached.js';
import { memory } from './cases/memory.js';
import { cacheEntryMemory } from './cases/cache-entry-memory.js';
import { idempotentWrite } from './cases/idempotent-write.js';
import { clientOverhead } from './cases/client-overhead.js';
import { peers } from './cases/peers.js';
import { overload, overloadOnPostgres } from './cases/overload.js';
import { postgres } from './cases/postgres.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SOAK_S = Number(process.env.BENCH_SOAK_S ?? 60);

let small: string | undefined;
let big: string | undefined;
const smallDb = () => (small ??= seededDatabase('small', 1000));
// About a million payments for alice (1–4 per user).
const bigDb = () => (big ??= seededDatabase('big', 400_000));

// A case gives one result, or several under ids of their own (`peers/…`).
const cases: Record<string, () => Promise<BenchResult | Record<string, BenchResult>> | BenchResult> = {
  'cached-hit': () => cachedHit(smallDb(), RUNS),
  'stack-overhead': () => stackOverhead(smallDb(), RUNS),
  'limiter-overhead': () => limiterOverhead(smallDb(), RUNS),
  'keyset-depth': () => keysetDepth(RUNS),
  'idempotent-write': () => idempotentWrite(RUNS),
  limiter: () => limiter(),
  'client-overhead': () => clientOverhead(),
  'stats-cached': () => statsCached(bigDb(), RUNS),
  memory: () => memory(smallDb(), SOAK_S),
  'cache-entry-memory': () => cacheEntryMemory(),
  peers: () => peers(smallDb(), RUNS),
  overload: () => overload(smallDb()),
  'overload-postgres': () => overloadOnPostgres(),
  postgres: () => postgres(smallDb(), RUNS),
};

// Run only when named: they need a PostgreSQL server, and postgres takes longer than the rest together.
const NAMED_ONLY = new Set(['postgres', 'overload-postgres']);

const only = process.argv.slice(2);
const unknown = only.filter((id) => !(id in cases));
if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(cases).join(', ')}`);

const results: Record<string, BenchResult> = {};
for (const [id, run] of Object.entries(cases)) {
  if (only.length ? !only.includes(id) : NAMED_ONLY.has(id)) continue;
  const started = Date.now();
  process.stderr.write(`running ${id}…\n`);
  try {
    const r = await run();
    if ('measures' in r) results[id] = r as BenchResult;
    else Object.assign(results, r);
  } catch (err) {
    process.stderr.write(`${id} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  process.stderr.write(`  ${id} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
const rows = Object.entries(results).map(([id, r]) => ({
  id,
  ratio: fmt(r.ratio),
  target: `${r.comparison} ${r.target}`,
  holds: r.holds ? 'yes' : 'NO',
  measures: r.measures,
}));
console.table(rows);

const file = fileURLToPath(new URL('./results.json', import.meta.url));
// A partial run (named benchmarks) keeps the other results of the last full run.
const previous: Record<string, BenchResult> =
  only.length && existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { results: Record<string, BenchResult> }).results
    : {};
writeFileSync(
  file,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      runs: RUNS,
      results: { ...previous, ...results },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${file}`);
