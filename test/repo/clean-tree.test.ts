import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

// `npm install` rewrites the lockfile's root entry from package.json; a field
// missing there (peerDependencies once was) shows up as a change after every install.
const ROOT_FIELDS = ['name', 'version', 'license', 'dependencies', 'devDependencies', 'peerDependencies', 'peerDependenciesMeta', 'engines'] as const;

describe('a checkout stays clean', () => {
  it('package-lock.json records package.json as npm install would write it', () => {
    const pkg = JSON.parse(read('package.json')) as Record<string, unknown>;
    const lock = JSON.parse(read('package-lock.json')) as { name: string; packages: Record<string, Record<string, unknown>> };
    const root = lock.packages[''];
    expect(root).toBeDefined();
    for (const field of ROOT_FIELDS) expect(root?.[field], field).toEqual(pkg[field]);
  });

  it('keeps bench/results.json, which every npm run bench rewrites, out of git', () => {
    const ignored = read('.gitignore').split('\n').map((line) => line.trim());
    expect(ignored).toContain('bench/results.json');
  });
});
