import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIR = 0o700;

/**
 * Makes the SQLite file (and its folder, when created here) readable by its
 * owner only before SQLite opens it: the file holds the cursor secret and the
 * API-key hashes. SQLite gives the `-wal` and `-shm` files the main file's
 * mode, so creating the main file 0600 covers them; files left wider by an
 * older version are narrowed when this process owns them.
 */
export function preparePrivateDatabaseFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: OWNER_ONLY_DIR });
  closeSync(openSync(file, 'a', OWNER_ONLY_FILE));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) narrow(path);
}

function narrow(path: string): void {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return; // not there (yet): SQLite creates it with the main file's mode
  }
  const mine = process.getuid === undefined || stat.uid === process.getuid();
  if (mine && (stat.mode & 0o077) !== 0) chmodSync(path, OWNER_ONLY_FILE);
}
