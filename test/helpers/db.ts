import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type OpenDatabase } from '../../server/db/open.js';

/** A freshly migrated SQLite file in a temp folder, removed on dispose. */
export function tempDatabase(): OpenDatabase & { file: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'composure-db-'));
  const file = join(dir, 'test.db');
  const opened = openDatabase(file);
  return {
    ...opened,
    file,
    [Symbol.dispose]() {
      opened.sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
