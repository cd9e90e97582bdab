import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectDatabase } from '../../../server/db/connect.js';
import type { Database } from '../../../server/db/database.js';
import { seedOnStart } from '../../../server/db/seed-on-start.js';
import { loadConfig } from '../../../server/config.js';
import { DuplicateError } from '../../../server/repos/repos.js';
import { createTestPostgres, postgresSkipReason, type TestPostgres } from '../../helpers/postgres.js';

const skip = postgresSkipReason('postgres dialect');
const log = pino({ level: 'silent' });
const pool = { size: 4, timeoutMs: 2000 };

let pgdb: TestPostgres | undefined;
const open: Database[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
  await pgdb?.drop();
  pgdb = undefined;
});

async function connect(url: string, seedUsers: number | null): Promise<Database> {
  const config = loadConfig({ NODE_ENV: 'test', SEED: seedUsers === null ? 'false' : 'true', SEED_USERS: String(seedUsers ?? 0) });
  const database = await connectDatabase(url, { log, pool, onMigrated: (target) => seedOnStart(target, config, log) });
  open.push(database);
  return database;
}

describe.skipIf(skip !== null)('the PostgreSQL dialect', () => {
  it('migrates and seeds exactly once when several instances start at the same moment', async () => {
    pgdb = await createTestPostgres();
    const url = pgdb.url;
    const instances = await Promise.all(Array.from({ length: 4 }, () => connect(url, 200)));
    const [first] = instances;
    if (!first) throw new Error('unreachable');
    expect(await first.query('SELECT count(*)::int AS n FROM tenants')).toEqual([{ n: 2 }]);
    expect(await first.query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 220 }]);
    expect(await first.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).toEqual([{ n: 1 }]);
    const secrets = await Promise.all(instances.map((d) => d.cursorSecret(undefined)));
    expect(new Set(secrets).size).toBe(1);
    expect(await pgdb.leftovers()).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
  });

  it('seeds the same rows as SQLite, hundreds of thousands of payments in batches', async () => {
    pgdb = await createTestPostgres();
    const database = await connect(pgdb.url, 30);
    const payments = await database.query<{ user_id: string; amount_cents: string; currency: string; created_at: string }>(
      'SELECT user_id, amount_cents, currency, created_at FROM payments ORDER BY id LIMIT 3',
    );
    expect(payments.length).toBe(3);
    const users = await database.users.page(1, 0, 3);
    expect(users.map((u) => u.email)).toEqual(['user1@alice.example', 'user2@alice.example', 'user3@alice.example']);
    expect(typeof users[0]?.id).toBe('number');
    expect(typeof users[0]?.createdAt).toBe('number');
  });

  it('keeps integers past 2^31 exact: ids, epoch milliseconds and amounts are bigint read as numbers', async () => {
    pgdb = await createTestPostgres();
    const database = await connect(pgdb.url, 5);
    await database.query("SELECT setval('payments_id_seq', 5000000000)");
    const payment = await database.transaction((tx) => tx.payments.insert({ tenantId: 1, userId: 1, amountCents: 99_999_999_999, currency: 'EUR' }));
    expect(payment.id).toBe(5_000_000_001);
    expect(payment.amountCents).toBe(99_999_999_999);
    expect(payment.createdAt).toBeGreaterThan(2 ** 31);
    const summary = await database.payments.summary(1);
    expect(summary.totalsByCurrency.EUR).toBeGreaterThanOrEqual(99_999_999_999);
  });

  it('turns a duplicate email into DuplicateError and rolls the transaction back', async () => {
    pgdb = await createTestPostgres();
    const database = await connect(pgdb.url, 5);
    await expect(database.transaction((tx) => tx.users.insert(1, 'Ada', 'user1@alice.example'))).rejects.toBeInstanceOf(DuplicateError);
    const [row] = await database.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE tenant_id = 1');
    expect(row?.n).toBe(5);
    expect(await pgdb.leftovers()).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
  });
});
