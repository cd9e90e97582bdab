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

/**
 * Seeds tenants alice and bob, their demo keys, `users` users for alice (a
 * tenth for bob) and 1–4 payments per user. Raw prepared statements in one
 * transaction per tenant: 100 000 users take a few seconds.
 */
export function seed(sqlite: Database.Database, opts: SeedOptions): void {
  const insertTenant = sqlite.prepare('INSERT INTO tenants (name, created_at) VALUES (?, ?) RETURNING id');
  const insertKey = sqlite.prepare('INSERT INTO api_keys (tenant_id, key_hash, label, created_at) VALUES (?, ?, ?, ?)');
  const insertUser = sqlite.prepare('INSERT INTO users (tenant_id, name, email, created_at) VALUES (?, ?, ?, ?) RETURNING id');
  const insertPayment = sqlite.prepare(
    'INSERT INTO payments (tenant_id, user_id, amount_cents, currency, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const tenants: Array<{ name: string; key: string; users: number }> = [
    { name: 'alice', key: DEMO_KEYS.alice, users: opts.users },
    { name: 'bob', key: DEMO_KEYS.bob, users: Math.floor(opts.users / 10) },
  ];
  for (const [index, tenant] of tenants.entries()) {
    const random = prng(index + 1);
    const step = Math.max(1, Math.floor(tenant.users / 10));
    sqlite.transaction(() => {
      const { id: tenantId } = insertTenant.get(tenant.name, SEED_EPOCH) as { id: number };
      insertKey.run(tenantId, hashApiKey(tenant.key), `${tenant.name} demo key`, SEED_EPOCH);
      for (let i = 0; i < tenant.users; i++) {
        const first = FIRST[i % FIRST.length] ?? 'Ada';
        const last = LAST[Math.floor(i / FIRST.length) % LAST.length] ?? 'Lovelace';
        const at = SEED_EPOCH + i * 1000;
        const { id: userId } = insertUser.get(
          tenantId,
          `${first} ${last} ${i + 1}`,
          `user${i + 1}@${tenant.name}.example`,
          at,
        ) as { id: number };
        const count = 1 + Math.floor(random() * 4);
        for (let p = 0; p < count; p++) {
          const currency = CURRENCIES[Math.floor(random() * CURRENCIES.length)] ?? 'USD';
          insertPayment.run(tenantId, userId, 100 + Math.floor(random() * 99_900), currency, at + p);
        }
        if ((i + 1) % step === 0 && tenant.users >= 10_000) {
          opts.progress?.(`seeding ${tenant.name}: ${i + 1}/${tenant.users} users`);
        }
      }
    })();
  }
}
