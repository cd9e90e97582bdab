import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(ROOT, 'node_modules/.cache/composure-client');

// Everything the package's build reads: the client, shared/, and the server files the router's type is made of.
function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'dist' && entry.name !== '.types' && entry.name !== 'node_modules') walk(path);
      } else {
        hash.update(relative(ROOT, path)).update(readFileSync(path));
      }
    }
  };
  for (const dir of ['client', 'shared', 'server']) walk(join(ROOT, dir));
  hash.update(readFileSync(join(ROOT, 'tsconfig.json')));
  return hash.digest('hex').slice(0, 16);
}

/**
 * `npm pack --workspace client`, as a user would publish it; the tarball is
 * kept per source hash, so the test files that need it pack once between them.
 */
export async function packClient(): Promise<string> {
  const tarball = join(CACHE, `composure-client-${sourceHash()}.tgz`);
  if (existsSync(tarball)) return tarball;
  const out = mkdtempSync(join(tmpdir(), 'composure-pack-'));
  try {
    await run('npm', ['pack', '--workspace', 'client', '--pack-destination', out, '--silent'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const [file] = readdirSync(out).filter((f) => f.endsWith('.tgz'));
    if (!file) throw new Error('npm pack made no tarball');
    mkdirSync(CACHE, { recursive: true });
    // Rename is atomic: a second test file packing at the same time just writes the same bytes.
    renameSync(join(out, file), tarball);
    return tarball;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export interface Consumer {
  dir: string;
  /** `npm install` in the consumer, from the local npm cache where it can. */
  install(...specs: string[]): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** An empty project in a temp folder that installs the tarball as a user would. */
export async function createConsumer(tarball: string): Promise<Consumer> {
  const dir = mkdtempSync(join(tmpdir(), 'composure-consumer-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = async (...specs: string[]) => {
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  };
  await install(tarball);
  return { dir, install, [Symbol.asyncDispose]: async () => rmSync(dir, { recursive: true, force: true }) };
}
