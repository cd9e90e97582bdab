import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

async function tsc(project: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, '-p', project], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

// The type checks of paginate, compiled here rather than only under
// `npm run typecheck`, so `npm test` fails when paginate's types loosen.
describe("paginate's types", () => {
  it('refuse a wrong limit, a filter the procedure lacks, a cursor of its own and a mutation', async () => {
    const result = await tsc('test/fixtures/paginate-types');
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('are checked at all: an @ts-expect-error over correct code fails the compile', async () => {
    const result = await tsc('test/fixtures/paginate-types/tsconfig.control.json');
    expect(result.output).toMatch(/control\.ts\(\d+,\d+\): error TS2578: Unused '@ts-expect-error' directive/);
  }, 120_000);
});
