import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'edge-metrics-token-0123456789';

const servers: TestServer[] = [];
afterEach(() => Promise.all(servers.splice(0).map((s) => s.close())));
async function start(env: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer({ SEED: 'true', ...env });
  servers.push(server);
  return server;
}
const scrape = (server: TestServer, authorization?: string) =>
  fetch(`${server.url}/metrics`, { headers: authorization === undefined ? {} : { authorization } });

describe('who may read /metrics', () => {
  it('in production without METRICS_TOKEN, nobody: it is a 404', async () => {
    const server = await start({ NODE_ENV: 'production' });
    expect((await scrape(server)).status).toBe(404);
    expect((await scrape(server, 'Bearer anything-at-all-here')).status).toBe(404);
  });

  it('in production with METRICS_TOKEN, only a caller sending it as a Bearer token', async () => {
    const server = await start({ NODE_ENV: 'production', METRICS_TOKEN: TOKEN });
    const none = await scrape(server);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect((await scrape(server, `Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await scrape(server, 'Bearer demo-alice')).status).toBe(401);
    const ok = await scrape(server, `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('composure_requests_total');
  });

  it('in development, anyone', async () => {
    const server = await start({ NODE_ENV: 'development' });
    expect((await scrape(server)).status).toBe(200);
  });
});

// ---- under npm run start:cluster ----

const CLUSTER_TEST_MS = 180_000;
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Cluster {
  child: ChildProcess;
  port: Promise<number>;
  exited: Promise<number | null>;
  output(): string;
}
function startCluster(env: Record<string, string>): Cluster {
  const dir = mkdtempSync(join(tmpdir(), 'composure-cluster-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cluster.ts'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: join(dir, 'db.sqlite'), SEED: 'true', SEED_USERS: '20', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let text = '';
  let found: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => (found = resolve));
  const workers = Number(env.WORKERS ?? 1);
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    // Each worker logs "Composure listening on http://127.0.0.1:<port>" once: all must be up.
    const lines = [...text.matchAll(/Composure listening on http:\/\/127\.0\.0\.1:(\d+)/g)];
    if (lines.length >= workers) found(Number(lines[0]?.[1]));
  });
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return { child, port, exited, output: () => text };
}

/** One GET on its own connection, so the primary's round robin spreads them over the workers. */
function get(port: number, path: string, authorization: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { authorization } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(text)?.[1]);

describe('/metrics under npm run start:cluster', () => {
  it('reports the sum over every worker, whichever worker answers the scrape', async () => {
    const cluster = startCluster({ NODE_ENV: 'production', METRICS_TOKEN: TOKEN, WORKERS: '2', PORT: '0' });
    const port = await cluster.port;
    const calls = 10;
    for (let i = 0; i < calls; i++) {
      expect((await get(port, `/trpc/users.byId?input=${encodeURIComponent('{"id":1}')}`, 'Bearer demo-alice')).status).toBe(200);
    }
    const series = 'composure_requests_total{procedure="users.byId",status="200"}';
    for (let i = 0; i < 4; i++) {
      const scrape = await get(port, '/metrics', `Bearer ${TOKEN}`);
      expect(scrape.status).toBe(200);
      expect(value(scrape.body, series)).toBe(calls);
    }
    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toBe(0);
  }, CLUSTER_TEST_MS);

  it('a taken PORT is one line naming PORT and exit code 1, not one per worker', async () => {
    const running = startCluster({ NODE_ENV: 'production', WORKERS: '1', PORT: '0' });
    const port = await running.port;
    const second = startCluster({ NODE_ENV: 'production', WORKERS: '2', PORT: String(port), LOG_LEVEL: 'warn' });
    expect(await second.exited).toBe(1);
    // The primary's own JSON log lines (the REDIS_URL warning) aside, the one line a person reads:
    const lines = second.output().split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{"level"'));
    expect(lines).toEqual([`PORT=${port} is already in use on 127.0.0.1: set PORT to a free port (or 0 for any).`]);
    running.child.kill('SIGTERM');
    await running.exited;
  }, CLUSTER_TEST_MS);
});
