import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/open.js';
import { isEmpty, seed } from '../../../server/db/seed.js';
import { hashApiKey } from '../../../server/auth/hash-api-key.js';
import { tempDatabase } from '../../helpers/db.js';

describe('migrations', () => {
  it('apply the committed migrations to an empty in-memory database', () => {
    const { sqlite } = openDatabase(':memory:');
    const tables = sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual(['api_keys', 'idempotency_keys', 'payments', 'server_meta', 'tenants', 'users']);
    expect(isEmpty(sqlite)).toBe(true);
    sqlite.close();
  });

  it('opens the file in WAL mode with foreign keys on', async () => {
    await using db = await tempDatabase();
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('are idempotent: reopening an existing file applies nothing twice', async () => {
    await using db = await tempDatabase();
    const again = openDatabase(db.file);
    expect(again.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual({ n: 1 });
    again.sqlite.close();
  });
});

describe('seed', () => {
  it('is deterministic and stores only hashes of the demo keys', async () => {
    await using a = await tempDatabase();
    await using b = await tempDatabase();
    seed(a.sqlite, { users: 30 });
    seed(b.sqlite, { users: 30 });
    const dump = (s: typeof a.sqlite) => s.prepare('SELECT tenant_id, user_id, amount_cents, currency, created_at FROM payments ORDER BY id').all();
    expect(dump(a.sqlite)).toEqual(dump(b.sqlite));
    const keys = a.sqlite.prepare('SELECT key_hash FROM api_keys ORDER BY id').all() as Array<{ key_hash: string }>;
    expect(keys.map((k) => k.key_hash)).toEqual([hashApiKey('demo-alice'), hashApiKey('demo-bob')]);
    expect(JSON.stringify(a.sqlite.prepare('SELECT * FROM api_keys').all())).not.toContain('demo-alice');
    const counts = a.sqlite.prepare('SELECT tenant_id, count(*) AS n FROM users GROUP BY tenant_id ORDER BY tenant_id').all();
    expect(counts).toEqual([{ tenant_id: 1, n: 30 }, { tenant_id: 2, n: 3 }]);
  });
});
