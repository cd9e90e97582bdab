import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { connectDatabase } from '../../server/db/connect.js';
import type { Database } from '../../server/db/database.js';
import { seededDatabase, TMP } from './fixtures.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * The PostgreSQL server the benchmarks use: each one creates a database of
 * its own on it and drops it afterwards (BENCH_POSTGRES_URL names another
 * server, any database on it).
 */
const SERVER_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const silent = pino({ level: 'silent' });

export interface BenchDatabase {
  readonly dialect: Dialect;
  /** DATABASE_URL: a SQLite file under bench/.tmp or a `postgres://` URL. */
  readonly url: string;
  /** The PostgreSQL database's name (for its backends' CPU); null on SQLite. */
  readonly postgresName: string | null;
  drop(): Promise<void>;
}

/** One connection without the server's timeouts (bulk loads), on `database` or the server's own. */
export async function onServer<T>(work: (client: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const url = new URL(SERVER_URL);
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString(), application_name: 'composure-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A migrated database seeded with `users` demo users per tenant (none for 0),
 * made the way a starting server makes it: the same migrations and the same
 * seed on either dialect, so both serve the same rows.
 */
export async function benchDatabase(dialect: Dialect, name: string, users: number): Promise<BenchDatabase> {
  if (dialect === 'sqlite') {
    const file = users > 0 ? seededDatabase(name, users) : `${TMP}/${name}.db`;
    const remove = () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    };
    if (users === 0) {
      mkdirSync(TMP, { recursive: true });
      remove();
    }
    return { dialect, url: file, postgresName: null, drop: async () => remove() };
  }
  const database = `composure_bench_${name.replace(/\W/g, '_')}_${process.pid}`;
  await onServer(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${database}`);
  });
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  const db = await connectDatabase(url.toString(), {
    log: silent,
    pool: { size: 1, timeoutMs: 10_000 },
    onMigrated: async (target) => {
      if (users > 0) await target.seed({ users });
    },
  });
  await db.close();
  await vacuumAnalyze(database);
  return {
    dialect,
    url: url.toString(),
    postgresName: database,
    drop: () => onServer(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`))),
  };
}

/**
 * This machine runs PostgreSQL with autovacuum off: after a bulk load the
 * planner would have no statistics and every heap page would be unknown to
 * the visibility map. One VACUUM ANALYZE does what autovacuum would have
 * done by the time a real deployment served the rows.
 */
export const vacuumAnalyze = (database: string): Promise<void> =>
  onServer(async (client) => void (await client.query('VACUUM ANALYZE')), database);

/** The database opened in this process, as the server opens it (in-process benchmarks). */
export const openBench = (url: string, poolSize = 10): Promise<Database> =>
  connectDatabase(url, { log: silent, pool: { size: poolSize, timeoutMs: 10_000 } });

// USER_HZ, as in spawn-server.ts.
const CLOCK_TICKS = 100;

/** CPU time (ms) used so far by each PostgreSQL backend serving `database`, by pid (Linux /proc). */
export async function backendCpu(database: string): Promise<Map<number, number>> {
  const pids = await onServer(async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'composure-bench'",
      [database],
    );
    return rows.map((r) => r.pid);
  });
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
    } catch {
      // The backend ended between the query and the read.
    }
  }
  return cpu;
}

/** CPU (ms) the backends used between two `backendCpu` readings; a backend started in between counts whole. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}
