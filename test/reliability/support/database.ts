import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../../server/db/open.js';
import { seed } from '../../../server/db/seed.js';
import { hashApiKey } from '../../../server/auth/hash-api-key.js';

export interface TempDir {
  dir: string;
  dbFile: string;
  remove(): void;
}

export function tempDir(prefix: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), `composure-reliability-${prefix}-`));
  return { dir, dbFile: join(dir, 'reliability.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ExtraKey {
  key: string;
  /** Tenant name from the seed: `alice` or `bob`. */
  tenant: string;
  plan: { name: string; burst: number; perSecond: number };
}

/**
 * Migrates and seeds the file the way the server would on first start, and
 * adds API keys with their own plans: RATE_LIMIT_BURST applies to every key
 * without plan columns, so a small per-key plan is the way to get 429s on
 * one key while the others run freely.
 */
export function prepareDatabase(file: string, opts: { users: number; extraKeys?: ExtraKey[] }): void {
  const { sqlite } = openDatabase(file);
  try {
    seed(sqlite, { users: opts.users });
    const tenantId = sqlite.prepare('SELECT id FROM tenants WHERE name = ?').pluck();
    const insertKey = sqlite.prepare(
      'INSERT INTO api_keys (tenant_id, key_hash, label, plan_name, rate_limit_burst, rate_limit_per_second) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const extra of opts.extraKeys ?? []) {
      const id: unknown = tenantId.get(extra.tenant);
      if (typeof id !== 'number') throw new Error(`no seeded tenant ${extra.tenant}`);
      insertKey.run(id, hashApiKey(extra.key), `reliability ${extra.plan.name}`, extra.plan.name, extra.plan.burst, extra.plan.perSecond);
    }
  } finally {
    sqlite.close();
  }
}

/**
 * Opens the file after the server is gone, as an operator would, and runs
 * `check` on it. `readonly` leaves a crashed server's WAL alone (closing a
 * writable connection would checkpoint it), so the restarted server still
 * recovers the file itself.
 */
export function withDatabase<T>(file: string, check: (sqlite: Database.Database) => T, opts: { readonly?: boolean } = {}): T {
  const sqlite = new Database(file, { fileMustExist: true, readonly: opts.readonly ?? false });
  try {
    return check(sqlite);
  } finally {
    sqlite.close();
  }
}

/** `PRAGMA integrity_check`'s rows joined: `ok` for a sound file. */
export function integrityCheck(file: string, opts: { readonly?: boolean } = {}): string {
  return withDatabase(
    file,
    (sqlite) => (sqlite.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>).map((row) => row.integrity_check).join('; '),
    opts,
  );
}
