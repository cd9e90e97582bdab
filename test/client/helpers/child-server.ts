import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  url: string;
  pid: number;
  close(): Promise<void>;
}

// A string, not `new URL(...)`: under happy-dom the global URL is not Node's, and fileURLToPath refuses it.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const LISTENING = /listening on (http:\/\/[^\s"]+)/;

/**
 * A real server in its own Node process (`server/main.ts` under tsx) on
 * 127.0.0.1:0 with a fresh database. For suites whose environment cannot
 * host the server in-process (happy-dom replaces URL and fetch).
 */
export function startChildServer(env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ChildServer> {
  const dir = mkdtempSync(join(tmpdir(), 'composure-child-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: join(dir, 'test.db'),
      SEED_USERS: '50',
      RATES_SIMULATOR_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  if (pid === undefined) {
    cleanup();
    return Promise.reject(new Error('could not start the server process'));
  }
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      cleanup();
      reject(new Error(`server exited with ${code} before listening:\n${output.slice(-2000)}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = LISTENING.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout.off('data', onData);
      // Keep draining the logs so the child never blocks on a full pipe.
      child.stdout.resume();
      child.stderr.resume();
      resolve({
        url,
        pid,
        close: () =>
          new Promise<void>((done) => {
            const finish = () => {
              cleanup();
              done();
            };
            if (child.exitCode !== null) return finish();
            child.once('exit', finish);
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', onExit);
  });
}
