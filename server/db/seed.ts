import type Database from 'better-sqlite3';
import { hashApiKey } from '../auth/hash-api-key.js';

export const DEMO_KEYS = { alice: 'demo-alice', bob: 'demo-bob' } as const;

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tony', 'Margaret', 'Linus'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Hoare', 'Hamilton', 'Torvalds'];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD'];
// A fixed epoch keeps the seed byte-for-byte reproducible.
const SEED_EPOCH = Date.UTC(2026, 0, 1);

/**
 * mulberry32: a tiny deterministic PRNG, so the same SEED_USERS always yields
 * the same data (tests and demos can rely on it).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  users: number;
  progress?: (line: string) => void;
}

/** True when the database holds no tenant yet. */
export function isEmpty(sqlite: Database.Database): boolean {
  return sqlite.prepare('SELECT 1 FROM tenants LIMIT 1').get() === undefined;
}

export interface DemoPayment {
  amountCents: number;
  currency: string;
  createdAt: number;
}

export interface DemoUser {
  name: string;
  email: string;
  createdAt: number;
  payments: DemoPayment[];
}

export interface DemoTenant {
  name: string;
  keyHash: string;
  label: string;
  createdAt: number;
  users: number;
}

/** The demo tenants: alice with `users` users, bob with a tenth. */
export function demoTenants(users: number): DemoTenant[] {
  return [
    { name: 'alice', key: DEMO_KEYS.alice, users },
    { name: 'bob', key: DEMO_KEYS.bob, users: Math.floor(users / 10) },
  ].map((t) => ({ name: t.name, keyHash: hashApiKey(t.key), label: `${t.name} demo key`, createdAt: SEED_EPOCH, users: t.users }));
}

/**
 * The users of the `index`-th demo tenant, each with 1–4 payments, in the
 * same order and from the same PRNG on every dialect: the data is the same
 * byte for byte wherever it is written.
 */
export function* demoUsers(tenant: DemoTenant, index: number): Generator<DemoUser> {
  const random = prng(index + 1);
  for (let i = 0; i < tenant.users; i++) {
    const first = FIRST[i % FIRST.length] ?? 'Ada';
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length] ?? 'Lovelace';
    const at = SEED_EPOCH + i * 1000;
    const count = 1 + Math.floor(random() * 4);
    const payments: DemoPayment[] = [];
    for (let p = 0; p < count; p++) {
      const currency = CURRENCIES[Math.floor(random() * CURRENCIES.length)] ?? 'USD';
      payments.push({ amountCents: 100 + Math.floor(random() * 99_900), currency, createdAt: at + p });
    }
    yield { name: `${first} ${last} ${i + 1}`, email: `user${i + 1}@${tenant.name}.example`, createdAt: at, payments };
  }
}

/** Progress lines for big seeds: every tenth of the users, from 10 000 users up. */
export function progressEvery(tenant: DemoTenant): number | null {
  return tenant.users >= 10_000 ? Math.max(1, Math.floor(tenant.users / 10)) : null;
}

/**
 * Seeds SQLite with the demo data: tenants alice and bob, their demo keys,
 * `users` users for alice (a tenth for bob) and 1–4 payments per user. Raw
 * prepared statements in one transaction per tenant: 100 000 users take a
 * few seconds (server/db/postgres/seed.ts is PostgreSQL's batched twin).
 */
export function seed(sqlite: Database.Database, opts: SeedOptions): void {
  const insertTenant = sqlite.prepare('INSERT INTO tenants (name, created_at) VALUES (?, ?) RETURNING id');
  const insertKey = sqlite.prepare('INSERT INTO api_keys (tenant_id, key_hash, label, created_at) VALUES (?, ?, ?, ?)');
  const insertUser = sqlite.prepare('INSERT INTO users (tenant_id, name, email, created_at) VALUES (?, ?, ?, ?) RETURNING id');
  const insertPayment = sqlite.prepare(
    'INSERT INTO payments (tenant_id, user_id, amount_cents, currency, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  for (const [index, tenant] of demoTenants(opts.users).entries()) {
    const step = progressEvery(tenant);
    sqlite.transaction(() => {
      const { id: tenantId } = insertTenant.get(tenant.name, tenant.createdAt) as { id: number };
      insertKey.run(tenantId, tenant.keyHash, tenant.label, tenant.createdAt);
      let done = 0;
      for (const user of demoUsers(tenant, index)) {
        const { id: userId } = insertUser.get(tenantId, user.name, user.email, user.createdAt) as { id: number };
        for (const p of user.payments) insertPayment.run(tenantId, userId, p.amountCents, p.currency, p.createdAt);
        done++;
        if (step !== null && done % step === 0) opts.progress?.(`seeding ${tenant.name}: ${done}/${tenant.users} users`);
      }
    })();
  }
}
