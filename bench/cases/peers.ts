import { spawnServer, type ServerProcess } from '../support/spawn-server.js';
import { spawnComposure } from '../support/composure.js';
import { ALICE, UNLIMITED_ENV, input } from '../support/fixtures.js';
import { load, type LoadResult } from '../support/load.js';
import { IDS, batchPaths, honoPaths, keyedPosts, trpcPaths } from '../support/scenarios.js';
import { cpuSpread, ratioSpread, rounds, spread, type Spread } from '../support/rounds.js';
import { result, type BenchResult } from '../support/types.js';

const DURATION_S = Number(process.env.BENCH_PEERS_S ?? 3);

async function bodyOf(url: string, headers: Record<string, string> = ALICE): Promise<string> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return res.text();
}

const fmt = (s: Spread, digits = 0) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

/**
 * Composure next to the servers a user would write instead (bench/baselines:
 * Hono, fastify, oRPC doing the same work; bare tRPC; node:http writing fixed
 * bytes), each in its own process, run in interleaved rounds. Server CPU per
 * request is the figure: autocannon shares the two cores, so requests per
 * second say as much about the load generator as about the server.
 */
export async function peers(dbFile: string, runs: number): Promise<Record<string, BenchResult>> {
  const peerEnv = { DATABASE_URL: dbFile, PORT: '0', ...UNLIMITED_ENV };
  const servers: ServerProcess[] = [];
  const start = async (p: Promise<ServerProcess>) => {
    const s = await p;
    servers.push(s);
    return s;
  };
  try {
    // Admission stays on (its bookkeeping is part of every request) with room
    // for the load's 32 connections: a shed 503 is not the work the peers do.
    const admitAll = { ADMISSION_MIN_LIMIT: '64', ADMISSION_MAX_LIMIT: '64' };
    const [cached, uncached, hono, fastify, orpc, bare] = await Promise.all([
      start(spawnComposure(dbFile, admitAll)),
      start(spawnComposure(dbFile, { ...admitAll, CACHE_ENABLED: 'false' })),
      start(spawnServer('bench/baselines/hono.ts', peerEnv)),
      start(spawnServer('bench/baselines/fastify.ts', peerEnv)),
      start(spawnServer('bench/baselines/orpc.ts', peerEnv)),
      start(spawnServer('bench/baselines/bare-trpc.ts', peerEnv)),
    ]);
    // The same JSON from every peer that answers in tRPC's envelope; warms Composure's cache.
    const reference = await bodyOf(`${uncached.url}${trpcPaths[0]}`);
    for (const url of [`${cached.url}${trpcPaths[0]}`, `${hono.url}/users/1`, `${fastify.url}/users/1`]) {
      if ((await bodyOf(url)) !== reference) throw new Error(`${url} does not answer Composure's bytes`);
    }
    for (const path of trpcPaths) await bodyOf(cached.url + path);
    const plain = await start(spawnServer('bench/baselines/plain-http.ts', { PORT: '0', BODY: reference }));

    let durationS = 1;
    const on = (server: ServerProcess, opts: Parameters<typeof load>[1]) => () =>
      load(server.url, { headers: ALICE, server, durationS, ...opts });
    const contenders: Record<string, () => Promise<LoadResult>> = {
      'node:http, fixed bytes': on(plain, {}),
      'Hono read': on(hono, { paths: honoPaths }),
      'fastify read': on(fastify, { paths: honoPaths }),
      'oRPC read': on(orpc, { paths: IDS.map((id) => `/rpc/users/byId?data=${encodeURIComponent(JSON.stringify({ json: { id } }))}`) }),
      'bare tRPC read': on(bare, { paths: IDS.map((id) => `/trpc/byId${input({ id })}`) }),
      'Composure cache hit': on(cached, { paths: trpcPaths }),
      'Composure uncached read': on(uncached, { paths: trpcPaths }),
      'Composure batch of 3 (uncached)': on(uncached, { paths: batchPaths }),
      'Hono keyed POST (two rows)': on(hono, { requests: keyedPosts('/payments') }),
      'Composure keyed payments.create': on(cached, { requests: keyedPosts('/trpc/payments.create') }),
    };
    // A first, unmeasured round: JIT warm-up, and the SQLite pages in memory.
    await rounds(1, contenders);
    durationS = DURATION_S;
    const r = await rounds(runs, contenders);
    const get = (name: string): LoadResult[] => r[name] ?? [];

    const against: Record<string, [string, number]> = {
      'Composure keyed payments.create': ['Hono keyed POST (two rows)', 1],
      'Hono keyed POST (two rows)': ['Hono keyed POST (two rows)', 1],
      'Composure batch of 3 (uncached)': ['Hono read', 3],
    };
    console.table(
      Object.keys(contenders).map((name) => {
        const [base, per] = against[name] ?? ['Hono read', 1];
        return {
          server: name,
          'req/s': rpsOf(get(name)),
          'CPU µs/req': fmt(cpuSpread(get(name))),
          [`× Hono`]: `${fmt(ratioSpread(get(name), get(base), per), 2)}${per > 1 ? ` of ${per} reads` : ''}`,
        };
      }),
    );

    const goal = (measures: string, name: string, base: string, target: number, per = 1): BenchResult => {
      const ratio = ratioSpread(get(name), get(base), per);
      return result({
        measures,
        ratio: ratio.median,
        target,
        comparison: '<=',
        a: { server: name, cpuUsPerReq: cpuSpread(get(name)), rps: rpsOf(get(name)) },
        b: { server: base, cpuUsPerReq: cpuSpread(get(base)), rps: rpsOf(get(base)), per },
        extra: { ratioMin: ratio.min, ratioMax: ratio.max, rounds: runs },
      });
    };
    return {
      'peers/cache-hit': goal('server CPU per request: cache hit vs the Hono peer reading the row', 'Composure cache hit', 'Hono read', 1.2),
      'peers/uncached-read': goal('server CPU per request: uncached users.byId vs the Hono peer', 'Composure uncached read', 'Hono read', 1.5),
      'peers/keyed-create': goal('server CPU per request: keyed payments.create vs the Hono peer writing the same two rows', 'Composure keyed payments.create', 'Hono keyed POST (two rows)', 2),
      'peers/batch-of-3': goal('server CPU per request: a batch of 3 reads vs three single reads on the Hono peer', 'Composure batch of 3 (uncached)', 'Hono read', 2, 3),
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

function rpsOf(rs: LoadResult[]): number {
  return Math.round(spread(rs.map((r) => r.rps)).median);
}
