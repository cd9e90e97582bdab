import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from '../../../drizzle/postgres/schema.js';
import type { ConnectOptions, Database } from '../database.js';
import type { Repos } from '../../repos/repos.js';
import { createPostgresUsersRepo } from '../../repos/postgres/users.js';
import { createPostgresPaymentsRepo } from '../../repos/postgres/payments.js';
import { createPostgresApiKeysRepo } from '../../repos/postgres/api-keys.js';
import { createPostgresIdempotencyStore } from '../../idempotency/postgres-store.js';
import { checkout, createPool, rethrow, type PoolOptions } from './pool.js';
import { seedPostgres } from './seed.js';

const MIGRATIONS = fileURLToPath(new URL('../../../drizzle/postgres/migrations', import.meta.url));
// pg_advisory_lock key of start-up (migrations and the seed): any constant no other lock uses.
const STARTUP_LOCK = '7210452931240751457';

export interface PostgresDatabase extends Database {
  readonly dialect: 'postgres';
  readonly pool: pg.Pool;
}

/**
 * Migrates and seeds under a session advisory lock on a connection of its
 * own: N instances starting at once queue on the lock, the first applies
 * the migrations and the seed, the others find both done. The lock dies
 * with its connection, so a crash during start-up blocks nobody. No
 * statement timeout here: a big seed may take longer than DB_TIMEOUT_MS.
 */
async function migrateAndSeed(url: string, opts: ConnectOptions, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'composure-startup' });
  await client.connect();
  client.on('error', () => undefined);
  try {
    await client.query(`SELECT pg_advisory_lock(${STARTUP_LOCK})`);
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS });
    await opts.onMigrated?.({
      isEmpty: async () => (await client.query('SELECT 1 FROM tenants LIMIT 1')).rowCount === 0,
      seed: (seedOpts) => seedPostgres(client, seedOpts),
    });
  } finally {
    await client.end();
  }
}

/**
 * PostgreSQL behind the same interface as SQLite, through drizzle-orm's
 * node-postgres driver: a pool for reads and single statements, one
 * checked-out connection per transaction, repositories built once per
 * connection (named statements are parsed once per connection).
 */
export async function openPostgres(url: string, opts: ConnectOptions & { pool: PoolOptions }): Promise<PostgresDatabase> {
  await migrateAndSeed(url, opts, opts.pool.timeoutMs);
  const pool = createPool(url, opts.pool);
  const db = drizzle(pool, { schema });
  const perConnection = new WeakMap<pg.PoolClient, Repos>();
  const reposFor = (client: pg.PoolClient): Repos => {
    let repos = perConnection.get(client);
    if (!repos) {
      const txDb = drizzle(client, { schema });
      repos = { users: createPostgresUsersRepo(txDb), payments: createPostgresPaymentsRepo(txDb) };
      perConnection.set(client, repos);
    }
    return repos;
  };

  return {
    dialect: 'postgres',
    pool,
    users: createPostgresUsersRepo(db),
    payments: createPostgresPaymentsRepo(db),
    apiKeys: createPostgresApiKeysRepo(db),
    async transaction(work) {
      const session = await checkout(pool);
      const { client } = session;
      try {
        await client.query('BEGIN');
        const value = await work(reposFor(client));
        await client.query('COMMIT');
        session.end();
        return value;
      } catch (err) {
        let broken = session.failure !== null;
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        session.end(broken);
        return rethrow(err);
      }
    },
    idempotencyStore: ({ lockMs, now }) => createPostgresIdempotencyStore({ pool, reposFor, lockMs, now }),
    async cursorSecret(configured) {
      if (configured) return configured;
      // ON CONFLICT DO NOTHING: instances starting together agree on the first secret written.
      await pool
        .query("INSERT INTO server_meta (key, value) VALUES ('cursor_secret', $1) ON CONFLICT (key) DO NOTHING", [
          randomBytes(32).toString('base64url'),
        ])
        .catch(rethrow);
      const { rows } = await pool.query<{ value: string }>("SELECT value FROM server_meta WHERE key = 'cursor_secret'").catch(rethrow);
      if (!rows[0]) throw new Error('cursor secret missing after insert');
      return rows[0].value;
    },
    async query<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      let n = 0;
      // `?` placeholders, as on SQLite, become $1, $2, … (no `?` in literals here: operations and tests only).
      const { rows } = await pool.query(text.replace(/\?/g, () => `$${++n}`), [...params]).catch(rethrow);
      return rows as R[];
    },
    async ping() {
      await pool.query('SELECT 1').catch(rethrow);
    },
    close: () => pool.end(),
  };
}
