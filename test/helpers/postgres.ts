import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';

/**
 * PostgreSQL for tests: TEST_DATABASE_URL names a server (any database on
 * it; `postgres://postgres@127.0.0.1:5432/postgres` in CI). Each test gets
 * a database of its own, made in milliseconds with `CREATE DATABASE …
 * TEMPLATE` from one migrated template (named after the migrations, so a
 * new migration makes a new template), and dropped afterwards.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** Why the PostgreSQL variants are skipped, printed once per file; null when they run. */
export function postgresSkipReason(suite: string): string | null {
  if (TEST_DATABASE_URL) return null;
  const reason = `${suite}: PostgreSQL variants skipped: TEST_DATABASE_URL is not set`;
  console.warn(reason);
  return reason;
}

const MIGRATIONS = fileURLToPath(new URL('../../drizzle/postgres/migrations', import.meta.url));
const journal = readFileSync(`${MIGRATIONS}/meta/_journal.json`, 'utf8');
const TEMPLATE = `composure_tpl_${createHash('sha256').update(journal).digest('hex').slice(0, 12)}`;
// Serialises template creation across test workers (an advisory lock on the admin database).
const TEMPLATE_LOCK = '7210452931240751458';

function urlFor(database: string): string {
  const url = new URL(TEST_DATABASE_URL ?? '');
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: 'composure-tests' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let template: Promise<void> | null = null;

function ensureTemplate(): Promise<void> {
  template ??= admin(async (client) => {
    await client.query(`SELECT pg_advisory_lock(${TEMPLATE_LOCK})`);
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${TEMPLATE}`);
        const db = new pg.Client({ connectionString: urlFor(TEMPLATE) });
        await db.connect();
        try {
          await migrate(drizzle(db), { migrationsFolder: MIGRATIONS });
        } finally {
          await db.end();
        }
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${TEMPLATE_LOCK})`);
    }
  });
  return template;
}

let serial = 0;

export interface TestPostgres {
  readonly name: string;
  /** The database's URL, for DATABASE_URL. */
  readonly url: string;
  /** Advisory locks held and sessions idle inside a transaction on this database: what a clean run leaves is none. */
  leftovers(): Promise<{ advisoryLocks: number; idleInTransaction: number }>;
  /** Raw SQL on the database, from outside the server under test. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Drops the database, ending any session still on it. */
  drop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A fresh, migrated, empty database of its own. */
export async function createTestPostgres(): Promise<TestPostgres> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  await ensureTemplate();
  const name = `composure_t_${process.pid}_${Date.now().toString(36)}_${serial++}`;
  await admin(async (client) => {
    // The template must have no session while it is copied; a worker that just
    // made it has closed its own, so a short retry covers a straggler.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
        return;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  const drop = () => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  return {
    name,
    url: urlFor(name),
    leftovers: () =>
      admin(async (client) => {
        const { rows } = await client.query<{ locks: string; idle: string }>(
          `SELECT
             (SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
               WHERE l.locktype = 'advisory' AND d.datname = $1) AS locks,
             (SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%') AS idle`,
          [name],
        );
        return { advisoryLocks: Number(rows[0]?.locks), idleInTransaction: Number(rows[0]?.idle) };
      }),
    async query<R>(text: string, params: unknown[] = []) {
      const client = new pg.Client({ connectionString: urlFor(name), application_name: 'composure-tests' });
      await client.connect();
      try {
        return (await client.query(text, params)).rows as R[];
      } finally {
        await client.end();
      }
    },
    drop,
    [Symbol.asyncDispose]: drop,
  };
}
