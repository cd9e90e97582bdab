import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

/*
 * The PostgreSQL twin of drizzle/schema.ts: the same tables, columns and
 * property names, so one repository interface and one set of mappers serve
 * both (test/server/db/schemas.test.ts checks the row types are equal).
 * Integers that can pass 2^31 (ids, epoch milliseconds, amounts up to 1e11)
 * are bigint read as JavaScript numbers, exact up to 2^53.
 */

const id = () => bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();
const ref = (name: string) => bigint(name, { mode: 'number' });
// Epoch milliseconds, as on SQLite.
const createdAt = () =>
  bigint('created_at', { mode: 'number' })
    .notNull()
    .default(sql`(extract(epoch from clock_timestamp()) * 1000)::bigint`);

export const tenants = pgTable('tenants', {
  id: id(),
  name: text('name').notNull().unique(),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: id(),
    tenantId: ref('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    keyHash: text('key_hash').notNull().unique(),
    label: text('label').notNull(),
    planName: text('plan_name'),
    rateLimitBurst: integer('rate_limit_burst'),
    rateLimitPerSecond: integer('rate_limit_per_second'),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
    createdAt: createdAt(),
  },
  (t) => [index('api_keys_tenant_idx').on(t.tenantId)],
);

// Identity columns never hand out an id twice, so a keyset cursor on the id
// can never land on a row born after the cursor was made (AUTOINCREMENT on SQLite).
export const users = pgTable(
  'users',
  {
    id: id(),
    tenantId: ref('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    email: text('email').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('users_tenant_email_uq').on(t.tenantId, t.email),
    index('users_tenant_id_idx').on(t.tenantId, t.id),
  ],
);

export const payments = pgTable(
  'payments',
  {
    id: id(),
    tenantId: ref('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    userId: ref('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('payments_tenant_id_idx').on(t.tenantId, t.id),
    index('payments_tenant_user_id_idx').on(t.tenantId, t.userId, t.id),
  ],
);

// Only answered keys have rows here: a running request's claim is an
// advisory lock held by its transaction (server/idempotency/postgres-store.ts).
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: ref('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    procedure: text('procedure').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    state: text('state', { enum: ['in_flight', 'done'] }).notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    lockedAt: bigint('locked_at', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.procedure, t.key] }),
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);

export const serverMeta = pgTable('server_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});
