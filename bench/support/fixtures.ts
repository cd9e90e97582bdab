import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { openDatabase } from '../../server/db/open.js';
import { seed } from '../../server/db/seed.js';

export const TMP = fileURLToPath(new URL('../.tmp', import.meta.url));

/** A migrated, seeded SQLite file under bench/.tmp, made fresh for this run. */
export function seededDatabase(name: string, users: number): string {
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, `${name}.db`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  const { sqlite } = openDatabase(file);
  seed(sqlite, { users });
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
  return file;
}

/** Limits so high that the limiter decides but never rejects. */
export const UNLIMITED_ENV = { RATE_LIMIT_BURST: '1000000000', RATE_LIMIT_PER_SECOND: '1000000000' } as const;

export const ALICE = { authorization: 'Bearer demo-alice' } as const;

export const input = (value: unknown) => `?input=${encodeURIComponent(JSON.stringify(value))}`;
