import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packClient, ROOT, type Consumer } from '../helpers/client-package.js';

const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const FIXTURES = join(ROOT, 'test/fixtures/consumer');

interface Outcome {
  code: number;
  output: string;
}

async function tsc(cwd: string, ...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

interface InstalledPackage {
  name: string;
  dir: string;
  manifest: { scripts?: Record<string, string>; gypfile?: boolean };
}

function installedPackages(nodeModules: string): InstalledPackage[] {
  const found: InstalledPackage[] = [];
  for (const entry of existsSync(nodeModules) ? readdirSync(nodeModules) : []) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      const dir = join(nodeModules, name);
      found.push({ name, dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as InstalledPackage['manifest'] });
      found.push(...installedPackages(join(dir, 'node_modules')));
    }
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('the composure-client package, installed from its tarball', () => {
  let consumer: Consumer;
  beforeAll(async () => {
    consumer = await createConsumer(await packClient());
    cpSync(FIXTURES, consumer.dir, { recursive: true });
  }, 600_000);
  afterAll(() => consumer?.[Symbol.asyncDispose]());

  it('brings only what the client runs: no database driver, no native build, no server code', () => {
    const packages = installedPackages(join(consumer.dir, 'node_modules'));
    const names = packages.map((p) => p.name).sort();
    console.log(`composure-client installs ${names.length} packages: ${names.join(', ')}`);
    expect(names).toContain('composure-client');
    expect(names.length).toBeLessThanOrEqual(15);
    expect(names.filter((n) => /sqlite|drizzle|ioredis|pino|prom-client|lru-cache|cockatiel|^pg$|zod|tsx|esbuild/.test(n))).toEqual([]);
    const building = packages.filter((p) => p.manifest.gypfile || existsSync(join(p.dir, 'binding.gyp')) || p.manifest.scripts?.install || p.manifest.scripts?.postinstall);
    expect(building.map((p) => p.name)).toEqual([]);
    const own = filesUnder(join(consumer.dir, 'node_modules/composure-client')).sort();
    expect(own.filter((f) => /server|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(own).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/react.js', 'dist/react.d.ts', 'package.json']));
  });

  it('typechecks a consumer that imports only composure-client, with full inference', async () => {
    const result = await tsc(consumer.dir, '-p', 'tsconfig.json');
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('fails to compile a consumer that passes a wrong input, naming the field', async () => {
    const result = await tsc(consumer.dir, '-p', 'tsconfig.bad.json');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/bad\.ts\(\d+,\d+\): error TS2353: .*'amount' does not exist/);
  }, 120_000);

  it('bundles createClient and paginate for the browser within 25 KB gzipped', async () => {
    const result = await build({
      stdin: { contents: "export { createClient, paginate } from 'composure-client';", resolveDir: consumer.dir, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    const bytes = result.outputFiles[0]?.contents ?? new Uint8Array();
    const gzipped = gzipSync(bytes, { level: 9 }).length;
    console.log(`createClient + paginate: ${bytes.length} B minified, ${gzipped} B gzipped`);
    expect(gzipped).toBeLessThanOrEqual(25 * 1024);
  });
});

describe('the browser bundle of the sources', () => {
  // Our server folder (esbuild names inputs relative to the cwd) and its runtime dependencies.
  // `@trpc/server` is expected: @trpc/client runs on its observable and error-shape core.
  const SERVER_ONLY = /^server\/|better-sqlite3|drizzle-orm|node:http|ioredis|pino|lru-cache|prom-client/;

  it('bundles the client entry with no server code', async () => {
    const result = await build({
      entryPoints: [join(ROOT, 'client/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      minify: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    // The router is imported for its type only: not even its file is in the bundle.
    expect(inputs.filter((path) => SERVER_ONLY.test(path))).toEqual([]);
    const text = result.outputFiles[0]?.text ?? '';
    expect(text).not.toMatch(/better-sqlite3|drizzle|node:http/);
  });

  it('bundles the React entry with no server code', async () => {
    const result = await build({
      entryPoints: [join(ROOT, 'client/react.tsx')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      jsx: 'automatic',
      external: ['react', 'react/jsx-runtime', '@tanstack/react-query'],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => SERVER_ONLY.test(path))).toEqual([]);
  });
});
