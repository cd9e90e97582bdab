import { spawnComposure } from '../support/composure.js';
import { ALICE } from '../support/fixtures.js';
import { backendCpu, benchDatabase, cpuBetween, type BenchDatabase } from '../support/dialects.js';
import { load, median, type LoadOptions, type LoadResult } from '../support/load.js';
import { cpuSpread, ratioSpread, rounds, spread } from '../support/rounds.js';
import { keyedPosts, trpcPaths } from '../support/scenarios.js';
import type { ServerProcess } from '../support/spawn-server.js';
import { result, type BenchResult } from '../support/types.js';
import { idempotentWrite } from './idempotent-write.js';
import { keysetDepth } from './keyset-depth.js';

const DURATION_S = Number(process.env.BENCH_PEERS_S ?? 3);
const CONNECTIONS = 32;
// Admission on (its bookkeeping is part of every request) with room for the
// load's connections: a shed 503 is not what is measured here.
const ADMIT_ALL = { ADMISSION_MIN_LIMIT: '64', ADMISSION_MAX_LIMIT: '64' };

/** A contender's runs with the PostgreSQL backends' CPU per request beside each (µs; 0 on SQLite). */
interface Measured {
  run: () => Promise<LoadResult>;
  backendUs: number[];
}

/**
 * Load on one or more servers at once, `CONNECTIONS` split between them:
 * requests per second summed, CPU per request over all of them, and the
 * CPU of `database`'s PostgreSQL backends per request beside it (the
 * Node process is only part of the work once the database is a server).
 */
function measured(servers: ServerProcess[], database: BenchDatabase, opts: () => LoadOptions, durationS: () => number): Measured {
  const backendUs: number[] = [];
  const run = async (): Promise<LoadResult> => {
    const before = database.postgresName ? await backendCpu(database.postgresName) : null;
    const parts = await Promise.all(
      servers.map((server) =>
        load(server.url, { headers: ALICE, connections: CONNECTIONS / servers.length, durationS: durationS(), server, ...opts() }),
      ),
    );
    const rps = parts.reduce((n, r) => n + r.rps, 0);
    if (before && database.postgresName) {
      const ms = cpuBetween(before, await backendCpu(database.postgresName));
      backendUs.push((ms * 1000) / (rps * durationS()));
    } else backendUs.push(0);
    return {
      rps,
      p50Ms: Math.max(...parts.map((r) => r.p50Ms)),
      p99Ms: Math.max(...parts.map((r) => r.p99Ms)),
      non2xx: parts.reduce((n, r) => n + r.non2xx, 0),
      errors: parts.reduce((n, r) => n + r.errors, 0),
      // Weighted by each server's share of the requests (same duration for all).
      cpuUsPerReq: parts.reduce((n, r) => n + (r.cpuUsPerReq ?? Number.NaN) * r.rps, 0) / rps,
    };
  };
  return { run, backendUs };
}

/** req/s of `a` over `b`, round by round (each pair ran back to back), spread over the rounds. */
const perRound = (a: LoadResult[], b: LoadResult[]) => spread(a.map((r, i) => r.rps / (b[i]?.rps ?? Number.NaN)));

const fmt = (values: number[], digits = 0) => {
  const s = spread(values);
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
};

/**
 * Interleaved rounds of `contenders` (one unmeasured warm-up round first:
 * JIT, pages in memory, pools filled), printed as a table of req/s, server
 * CPU per request and PostgreSQL backend CPU per request.
 */
async function compare(
  title: string,
  runs: number,
  build: (durationS: () => number) => Record<string, Measured>,
): Promise<Record<string, { rps: number; cpuUs: number; backendUs: number; runs: LoadResult[] }>> {
  let durationS = 1;
  const contenders = build(() => durationS);
  await rounds(1, Object.fromEntries(Object.entries(contenders).map(([name, c]) => [name, c.run])));
  for (const c of Object.values(contenders)) c.backendUs.length = 0;
  durationS = DURATION_S;
  const r = await rounds(runs, Object.fromEntries(Object.entries(contenders).map(([name, c]) => [name, c.run])));
  const out = Object.fromEntries(
    Object.entries(contenders).map(([name, c]) => {
      const rs = r[name] ?? [];
      return [name, { rps: median(rs.map((x) => x.rps)), cpuUs: cpuSpread(rs).median, backendUs: median(c.backendUs), runs: rs }];
    }),
  );
  console.log(title);
  console.table(
    Object.entries(contenders).map(([name, c]) => {
      const rs = r[name] ?? [];
      return {
        contender: name,
        'req/s': fmt(rs.map((x) => x.rps)),
        'server CPU µs/req': fmt(rs.map((x) => x.cpuUsPerReq ?? Number.NaN)),
        'PostgreSQL CPU µs/req': fmt(c.backendUs),
      };
    }),
  );
  return out;
}

/**
 * `npm run bench -- postgres`: the same benchmarks on PostgreSQL beside
 * SQLite, in one run: idempotent write vs plain insert, keyset depth, an
 * uncached read; then two instances against one, both on PostgreSQL and
 * Redis (REDIS_URL, default 127.0.0.1:6379). Each PostgreSQL benchmark
 * creates a database of its own (support/dialects.ts) and drops it.
 */
export async function postgres(sqliteFile: string, runs: number): Promise<Record<string, BenchResult>> {
  const out: Record<string, BenchResult> = {};
  // One part failing (a slow machine, a missing server) leaves the others' rows.
  const part = async (name: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      process.stderr.write(`postgres/${name} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    }
  };

  await part('idempotent-write', async () => {
    const writes = { sqlite: await idempotentWrite(runs, 'sqlite'), postgres: await idempotentWrite(runs, 'postgres') };
    out['postgres/idempotent-write'] = { ...writes.postgres, extra: { ...writes.postgres.extra, sqlite: writes.sqlite } };
  });
  await part('keyset-depth', async () => {
    const depth = { sqlite: await keysetDepth(runs, 'sqlite'), postgres: await keysetDepth(runs, 'postgres') };
    out['postgres/keyset-depth'] = { ...depth.postgres, extra: { ...depth.postgres.extra, sqlite: depth.sqlite } };
  });

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const shared = await benchDatabase('postgres', 'reads', 1000);
  const sqlite: BenchDatabase = { dialect: 'sqlite', url: sqliteFile, postgresName: null, drop: async () => undefined };
  const servers: ServerProcess[] = [];
  const start = async (url: string, env: Record<string, string>) => {
    const s = await spawnComposure(url, { ...ADMIT_ALL, CACHE_ENABLED: 'false', ...env });
    servers.push(s);
    return s;
  };
  try {
    // The uncached read: the same servers but for the dialect, Redis as the caller's environment has it.
    const onSqlite = await start(sqlite.url, {});
    const onPostgres = await start(shared.url, {});
    const sameBytes = await Promise.all([onSqlite, onPostgres].map(async (s) => (await fetch(s.url + trpcPaths[0], { headers: ALICE })).text()));
    if (sameBytes[0] !== sameBytes[1]) throw new Error(`the dialects answer different bytes:\n${sameBytes.join('\n')}`);
    const reads = await compare('uncached users.byId, SQLite beside PostgreSQL', runs, (d) => ({
      'SQLite uncached read': measured([onSqlite], sqlite, () => ({ paths: trpcPaths }), d),
      'PostgreSQL uncached read': measured([onPostgres], shared, () => ({ paths: trpcPaths }), d),
    }));
    const r = (name: string) => reads[name] ?? { rps: Number.NaN, cpuUs: Number.NaN, backendUs: Number.NaN, runs: [] };
    const [sq, pg] = [r('SQLite uncached read'), r('PostgreSQL uncached read')];
    // Round by round (each pair ran back to back), then the median over the rounds.
    const cpuRatio = ratioSpread(pg.runs, sq.runs);
    const rpsRatio = perRound(pg.runs, sq.runs);
    out['postgres/uncached-read'] = result({
      measures: 'server CPU per request of an uncached users.byId on PostgreSQL vs on SQLite (the Node process; PostgreSQL backends beside it)',
      ratio: cpuRatio.median,
      target: 2,
      comparison: '<=',
      a: { dialect: 'postgres', rps: pg.rps, cpuUsPerReq: pg.cpuUs, backendCpuUsPerReq: pg.backendUs },
      b: { dialect: 'sqlite', rps: sq.rps, cpuUsPerReq: sq.cpuUs },
      extra: { ratioMin: cpuRatio.min, ratioMax: cpuRatio.max, rpsRatio, totalCpuRatio: (pg.cpuUs + pg.backendUs) / sq.cpuUs },
    });

    // Two instances sharing only PostgreSQL and Redis against one instance on the same database and Redis.
    const env = { REDIS_URL: redisUrl };
    const one = await start(shared.url, env);
    const pair = [await start(shared.url, env), await start(shared.url, env)];
    const scale = await compare('one instance vs two, PostgreSQL + Redis', runs, (d) => ({
      'one instance, uncached read': measured([one], shared, () => ({ paths: trpcPaths }), d),
      'two instances, uncached read': measured(pair, shared, () => ({ paths: trpcPaths }), d),
      'one instance, keyed payments.create': measured([one], shared, () => ({ requests: keyedPosts('/trpc/payments.create') }), d),
      'two instances, keyed payments.create': measured(pair, shared, () => ({ requests: keyedPosts('/trpc/payments.create') }), d),
    }));
    for (const work of ['uncached read', 'keyed payments.create']) {
      const s1 = scale[`one instance, ${work}`];
      const s2 = scale[`two instances, ${work}`];
      if (!s1 || !s2) continue;
      const rps = perRound(s2.runs, s1.runs);
      out[`postgres/two-instances-${work.startsWith('keyed') ? 'keyed-create' : 'uncached-read'}`] = result({
        measures: `req/s of two instances (16 connections each) vs one (32), ${work}, sharing PostgreSQL and Redis; CPU per request beside`,
        ratio: rps.median,
        target: 1,
        comparison: '>=',
        a: { instances: 2, rps: s2.rps, cpuUsPerReq: s2.cpuUs, backendCpuUsPerReq: s2.backendUs },
        b: { instances: 1, rps: s1.rps, cpuUsPerReq: s1.cpuUs, backendCpuUsPerReq: s1.backendUs },
        extra: { ratioMin: rps.min, ratioMax: rps.max, cpuRatio: ratioSpread(s2.runs, s1.runs) },
      });
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await shared.drop();
  }
  return out;
}
