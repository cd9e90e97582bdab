import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/openapi-client', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const OPENAPI_TS = join(ROOT, 'node_modules/openapi-typescript/bin/cli.js');

interface Outcome {
  code: number;
  output: string;
}

async function node(args: string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

interface Walk {
  ids: number[];
  created: { status: number; payment: { id: number; userId: number } };
  replayed: { status: number; header: string | null; payment: { id: number } };
  missing: { status: number; type: string };
}

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startTestServer({ SEED_USERS: '130' });
  // Under the project's node_modules, so the consumer resolves openapi-fetch, tsx and @types/node as an installed app would.
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(join(cache, 'composure-openapi-client-'));
  cpSync(FIXTURE, dir, { recursive: true });
  // The types come from the running server's document, as a consumer would make them.
  const generated = await node([OPENAPI_TS, `${server.url}/openapi.json`, '-o', join(dir, 'api.d.ts')], dir);
  expect(generated.code, generated.output).toBe(0);
}, 120_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await server.close();
});

describe('a client generated from /openapi.json (openapi-typescript + openapi-fetch)', () => {
  it('typechecks a consumer that pages through users and makes a keyed payment', async () => {
    const result = await node([TSC, '-p', join(dir, 'tsconfig.json')], dir);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('refuses at compile time a payment without Idempotency-Key or with a string amount', async () => {
    const result = await node([TSC, '-p', join(dir, 'tsconfig.bad.json')], dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/^bad\.ts\(6,\d+\): error TS2345: [^\n]*\n\s+Property 'params' is missing[^\n]*"Idempotency-Key": string/m);
    expect(result.output).toMatch(/^bad\.ts\(7,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/m);
  }, 120_000);

  it('pages through every user of the tenant and makes one payment under a key sent twice', async () => {
    const countPayments = async () => Number((await server.services.database.query<{ n: number }>('SELECT count(*) AS n FROM payments'))[0]?.n);
    const before = await countPayments();
    const result = await node(['--import', 'tsx', join(dir, 'walk.ts'), server.url, 'demo-alice'], dir);
    expect(result.code, result.output).toBe(0);
    const walk = JSON.parse(result.output) as Walk;
    const users = (await server.services.database.query<{ id: number }>('SELECT id FROM users WHERE tenant_id = 1 ORDER BY id')).map((u) => ({ id: Number(u.id) }));
    expect(users.length).toBeGreaterThan(50);
    expect(walk.ids).toEqual(users.map((u) => u.id));
    expect(walk.created.status).toBe(201);
    expect(walk.created.payment.userId).toBe(users[0]?.id);
    expect(walk.replayed).toEqual({ status: 201, header: 'true', payment: walk.created.payment });
    expect(await countPayments()).toBe(before + 1);
    expect(walk.missing).toEqual({ status: 404, type: 'tag:composure,2026:problems/not-found' });
  }, 120_000);
});
