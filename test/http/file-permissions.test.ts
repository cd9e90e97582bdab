import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';

const mode = (path: string) => statSync(path).mode & 0o777;
let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'composure-perms-'));
  dirs.push(dir);
  return dir;
}

describe('files the server creates', () => {
  it('the database, its WAL and SHM files are 0600, in a 0700 folder the server made', async () => {
    const dbFile = join(tempDir(), 'fresh', 'data', 'app.db');
    await using server = await startTestServer({ DATABASE_URL: dbFile });
    // A write over HTTP, so the WAL holds the secret-bearing pages too.
    const res = await server.call('users.create', { method: 'POST', input: { name: 'Ada', email: 'ada@perms.example' } });
    expect(res.status).toBe(200);
    expect(existsSync(`${dbFile}-wal`)).toBe(true);
    expect(existsSync(`${dbFile}-shm`)).toBe(true);
    expect(mode(dbFile)).toBe(0o600);
    expect(mode(`${dbFile}-wal`)).toBe(0o600);
    expect(mode(`${dbFile}-shm`)).toBe(0o600);
    expect(mode(join(dbFile, '..'))).toBe(0o700);
    expect(mode(join(dbFile, '..', '..'))).toBe(0o700);
  });

  it('a database file an older version left readable by others is narrowed to its owner on start', async () => {
    const dbFile = join(tempDir(), 'old.db');
    closeSync(openSync(dbFile, 'w'));
    chmodSync(dbFile, 0o644);
    await using server = await startTestServer({ DATABASE_URL: dbFile });
    expect((await server.call('users.list')).status).toBe(200);
    expect(mode(dbFile)).toBe(0o600);
    expect(mode(`${dbFile}-shm`)).toBe(0o600);
  });
});
