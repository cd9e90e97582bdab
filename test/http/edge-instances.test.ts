import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllServers, startServer, type ServerProcess } from '../helpers/server-process.js';

// Each test starts a process or two: slow on a loaded machine, never a wait for time to pass.
const PROCESS_TEST_MS = 120_000;

// The helper passes no RATES_SIMULATOR_PORT: this one runs on the defaults.
let first: ServerProcess;
beforeAll(async () => {
  first = await startServer({ env: { SEED: 'true' } });
}, PROCESS_TEST_MS);
afterAll(killAllServers);

/** Runs server/main.ts to its end (it must end by itself) and returns its exit code and everything it wrote. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'composure-taken-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: join(dir, 'db.sqlite'), SEED: 'true', SEED_USERS: '10', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    child.once('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

describe('several instances on one machine', () => {
  it('start with nothing but another PORT: each runs its own rates simulator on a free port', async () => {
    const second = await startServer({ env: { SEED: 'true' } });
    expect(first.port).not.toBe(second.port);
    expect(first.ratesSimulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rates$/);
    expect(second.ratesSimulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rates$/);
    expect(first.ratesSimulatorUrl).not.toBe(second.ratesSimulatorUrl);
    for (const server of [first, second]) {
      const res = await fetch(`${server.url}/trpc/rates.latest`, { headers: { authorization: 'Bearer demo-alice' } });
      expect(res.status).toBe(200);
    }
    await second.stop();
  }, PROCESS_TEST_MS);

  it('a taken PORT ends the process with one line naming PORT, exit code 1 and no stack trace', async () => {
    // warn: the seed's progress lines at info would stand beside the one line this is about.
    const { code, output } = await runToExit({ NODE_ENV: 'production', PORT: String(first.port), LOG_LEVEL: 'warn' });
    expect(code).toBe(1);
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toEqual([`PORT=${first.port} is already in use on 127.0.0.1: set PORT to a free port (or 0 for any).`]);
  });

  it('a taken RATES_SIMULATOR_PORT is one line naming that variable', async () => {
    const simulatorPort = new URL(first.ratesSimulatorUrl ?? '').port;
    const { code, output } = await runToExit({ NODE_ENV: 'production', PORT: '0', RATES_SIMULATOR_PORT: simulatorPort, LOG_LEVEL: 'warn' });
    expect(code).toBe(1);
    expect(output.trim()).toBe(`RATES_SIMULATOR_PORT=${simulatorPort} is already in use on 127.0.0.1: set RATES_SIMULATOR_PORT to a free port (or 0 for any).`);
  }, PROCESS_TEST_MS);
});
