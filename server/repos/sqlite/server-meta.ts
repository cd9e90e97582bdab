import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * The cursor secret: from config when given, else generated once and kept in
 * the database so cursors survive restarts. INSERT OR IGNORE makes two
 * processes starting together agree on one secret.
 */
export function sqliteCursorSecret(sqlite: Database.Database, configured: string | undefined): string {
  if (configured) return configured;
  sqlite
    .prepare("INSERT OR IGNORE INTO server_meta (key, value) VALUES ('cursor_secret', ?)")
    .run(randomBytes(32).toString('base64url'));
  const row = sqlite.prepare("SELECT value FROM server_meta WHERE key = 'cursor_secret'").get() as { value: string };
  return row.value;
}
