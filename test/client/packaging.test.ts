import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

interface Outcome {
  code: number;
  output: string;
}

async function tsc(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the published package', () => {
  // The consumer resolves `composure/client` through package.json `exports`, which point at dist/.
  beforeAll(async () => {
    await run('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  }, 240_000);

  it('typechecks a consumer that imports only composure/client, with full inference', async () => {
    const result = await tsc('-p', 'test/fixtures/consumer');
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('fails to compile a consumer that passes a wrong input, naming the field', async () => {
    const result = await tsc('-p', 'test/fixtures/consumer/tsconfig.bad.json');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/bad\.ts\(\d+,\d+\): error TS2353: .*'amount' does not exist/);
  }, 120_000);
});

describe('the browser bundle', () => {
  // Our server folder (esbuild names inputs relative to the cwd) and its runtime dependencies.
  // `@trpc/server` is expected: @trpc/client runs on its observable and error-shape core.
  const SERVER_ONLY = /^server\/|better-sqlite3|drizzle-orm|node:http|ioredis|pino|lru-cache|prom-client/;

  it('bundles the client entry with no server code', async () => {
    const result = await build({
      entryPoints: [`${ROOT}client/index.ts`],
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
      entryPoints: [`${ROOT}client/react.tsx`],
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
