import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllServers, startServer, type ServerProcess } from '../helpers/server-process.js';
import Database from 'better-sqlite3';
import { call } from '../helpers/server.js';
import { hashApiKey } from '../../server/auth/hash-api-key.js';
import { deleteKeysAt } from '../helpers/redis-keys.js';

const BIG = 'scale-big-plan';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('skipping multi-instance tests: REDIS_URL is not set');

describe.skipIf(!REDIS_URL)('two server processes sharing SQLite and Redis', () => {
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  const prefix = `test:${randomUUID()}:`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'composure-scale-'));
    const dbFile = join(dir, 'shared.db');
    const env = {
      REDIS_URL: REDIS_URL ?? '',
      REDIS_PREFIX: prefix,
      RATES_SIMULATOR_PORT: '0',
      SEED_USERS: '30',
      RATE_LIMIT_BURST: '10',
      RATE_LIMIT_PER_SECOND: '0.01',
      LOG_LEVEL: 'info',
    };
    // The parent's environment, with REDIS_URL passed explicitly above.
    const start = (overrides: Record<string, string> = {}) =>
      startServer({ dbFile, inheritEnv: true, env: { ...env, ...overrides }, startTimeoutMs: 120_000 });
    a = await start();
    // A key of alice's with a large plan, so only the limit test meets the small default burst.
    const db = new Database(dbFile);
    db.prepare('INSERT INTO api_keys (tenant_id, key_hash, label, rate_limit_burst, rate_limit_per_second) VALUES (1, ?, ?, 100000, 1000)').run(
      hashApiKey(BIG),
      'scale test key',
    );
    db.close();
    b = await start({ SEED: 'false' });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    // One still starting when beforeAll failed.
    await killAllServers();
    rmSync(dir, { recursive: true, force: true });
    await deleteKeysAt(REDIS_URL ?? '', prefix);
  });

  it('share one bucket: 20 requests alternating between them admit 10 to 12', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const server = i % 2 === 0 ? a : b;
      statuses.push((await call(server.url, 'users.list', { input: { limit: 1 }, key: 'demo-bob' })).status);
    }
    const admitted = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(12);
  });

  it('show a write made on one instance on the other within 500 ms', async () => {
    const first = await call(b.url, 'users.list', { input: { limit: 100 }, key: BIG });
    expect(first.status).toBe(200);
    // A second read makes sure B holds the list in its cache before the write.
    await call(b.url, 'users.list', { input: { limit: 100 }, key: BIG });
    const email = `cross-${randomUUID()}@example.com`;
    const created = await call(a.url, 'users.create', { method: 'POST', input: { name: 'Cross', email }, key: BIG });
    expect(created.status).toBe(200);
    const started = Date.now();
    let seen = false;
    while (!seen && Date.now() - started < 2000) {
      const page = await call(b.url, 'users.list', { input: { limit: 100 }, key: BIG });
      seen = (page.body.result?.data as { data: Array<{ email: string }> }).data.some((u) => u.email === email);
      if (!seen) await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('replay an Idempotency-Key across instances with the same bytes', async () => {
    const key = `cross-instance-${randomUUID()}`;
    const input = { userId: 2, amountCents: 4242, currency: 'EUR' };
    const headers = { 'idempotency-key': key };
    const first = await call(a.url, 'payments.create', { method: 'POST', input, headers, key: BIG });
    const replay = await call(b.url, 'payments.create', { method: 'POST', input, headers, key: BIG });
    expect(first.status).toBe(200);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(first.text);
  });

  it('share an expensive answer through Redis, and a write on either instance retires it', async () => {
    const stats = async (url: string) => (await call(url, 'stats.summary', { key: BIG })).body.result?.data as { payments: number };
    const before = await stats(a.url);
    // A row written behind the API's back (no event): only a shared answer can hide it from B.
    const db = new Database(join(dir, 'shared.db'));
    db.prepare("INSERT INTO payments (tenant_id, user_id, amount_cents, currency) VALUES (1, 1, 100, 'USD')").run();
    db.close();
    expect((await stats(b.url)).payments).toBe(before.payments);
    const created = await call(b.url, 'payments.create', {
      method: 'POST',
      input: { userId: 1, amountCents: 200, currency: 'USD' },
      headers: { 'idempotency-key': `l2-${randomUUID()}` },
      key: BIG,
    });
    expect(created.status).toBe(200);
    // The writer reads its own write at once; the other instance within the bus's delivery time.
    expect((await stats(b.url)).payments).toBe(before.payments + 2);
    const deadline = Date.now() + 2000;
    let onA = await stats(a.url);
    while (onA.payments !== before.payments + 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      onA = await stats(a.url);
    }
    expect(onA.payments).toBe(before.payments + 2);
  });
});
