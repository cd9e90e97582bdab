import type pg from 'pg';
import { demoTenants, demoUsers, progressEvery, type DemoUser, type SeedOptions } from '../seed.js';

// Rows per statement: each batch is one round trip of a few arrays, not one per row.
const BATCH = 5000;

/**
 * Seeds PostgreSQL with the same demo data as SQLite's seed, in one
 * transaction, in batches: users go in `BATCH` at a time through
 * `unnest` of array parameters (a multi-row INSERT without a parameter
 * per value), their ids come back in order, and their payments follow in
 * one more statement per batch. Hundreds of thousands of users take
 * seconds, not one round trip per row.
 */
export async function seedPostgres(client: pg.ClientBase, opts: SeedOptions): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const [index, tenant] of demoTenants(opts.users).entries()) {
      const { rows } = await client.query<{ id: string }>('INSERT INTO tenants (name, created_at) VALUES ($1, $2) RETURNING id', [
        tenant.name,
        tenant.createdAt,
      ]);
      const tenantId = Number(rows[0]?.id);
      await client.query('INSERT INTO api_keys (tenant_id, key_hash, label, created_at) VALUES ($1, $2, $3, $4)', [
        tenantId,
        tenant.keyHash,
        tenant.label,
        tenant.createdAt,
      ]);
      const step = progressEvery(tenant);
      let batch: DemoUser[] = [];
      let done = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await insertBatch(client, tenantId, batch);
        const before = done;
        done += batch.length;
        batch = [];
        if (step !== null && Math.floor(done / step) > Math.floor(before / step)) {
          opts.progress?.(`seeding ${tenant.name}: ${done}/${tenant.users} users`);
        }
      };
      for (const user of demoUsers(tenant, index)) {
        batch.push(user);
        if (batch.length === BATCH) await flush();
      }
      await flush();
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function insertBatch(client: pg.ClientBase, tenantId: number, users: DemoUser[]): Promise<void> {
  // WITH ORDINALITY keeps the input order, so the ids (ascending, from the
  // identity) match the users one to one, as SQLite's row-by-row inserts do.
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO users (tenant_id, name, email, created_at)
     SELECT $1, u.name, u.email, u.created_at
     FROM unnest($2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS u(name, email, created_at, n)
     ORDER BY u.n
     RETURNING id`,
    [tenantId, users.map((u) => u.name), users.map((u) => u.email), users.map((u) => u.createdAt)],
  );
  const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  const userIds: number[] = [];
  const amounts: number[] = [];
  const currencies: string[] = [];
  const createdAts: number[] = [];
  users.forEach((user, i) => {
    for (const p of user.payments) {
      userIds.push(ids[i] ?? 0);
      amounts.push(p.amountCents);
      currencies.push(p.currency);
      createdAts.push(p.createdAt);
    }
  });
  await client.query(
    `INSERT INTO payments (tenant_id, user_id, amount_cents, currency, created_at)
     SELECT $1, p.user_id, p.amount_cents, p.currency, p.created_at
     FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) WITH ORDINALITY AS p(user_id, amount_cents, currency, created_at, n)
     ORDER BY p.n`,
    [tenantId, userIds, amounts, currencies, createdAts],
  );
}
