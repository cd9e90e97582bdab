import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllServers, startServer, type ServerProcess } from '../helpers/server-process.js';
import { inspectDatabase, onPostgres } from '../helpers/dialect.js';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const KEYS = 60;
const KILLS = 4;
const WORKERS = 8;
// Amounts no seeded payment has (the seed stays under 100 000), one per key.
const amountOf = (i: number) => 700_000 + i;
// Generous: on a loaded machine one restart can take several seconds, and the killer waits for progress between kills.
const DEADLINE_MS = 100_000;

const dir = mkdtempSync(join(tmpdir(), 'composure-crash-'));
// A SQLite file, or on PostgreSQL (TEST_DIALECT=postgres) a database of its own.
let postgres: TestPostgres | null = null;
let dbFile = join(dir, 'crash.db');
let child: ServerProcess | null = null;
let provider: Server | null = null;
afterAll(async () => {
  await child?.kill();
  // A restart still starting when the test failed is killed too.
  await killAllServers();
  await new Promise((r) => provider?.close(r) ?? r(undefined));
  await postgres?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A rates provider that answers after 50–250 ms: every payments.create waits
 * on it (RATES_TTL_MS=0) between claiming its key and writing, so kills land
 * while claims are held, as well as mid-commit and between requests.
 */
let waiting = 0;
async function startSlowProvider(): Promise<string> {
  provider = createServer((_req, res) => {
    waiting++;
    res.once('close', () => waiting--);
    const timer = setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ base: 'USD', rates: { EUR: 0.92 }, asOf: new Date().toISOString() }));
    }, 50 + Math.floor(Math.random() * 200));
    res.once('close', () => clearTimeout(timer));
  });
  const server = provider;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/rates`;
}
let ratesUrl = '';

let takeovers = 0;
function start(first: boolean): Promise<ServerProcess> {
  return startServer({
    ...(onPostgres ? {} : { dbFile }),
    // The parent's environment, REDIS_URL excepted: SQLite alone holds the claims.
    inheritEnv: true,
    startTimeoutMs: 20_000,
    onLog: (entry) => {
      if (entry.msg === 'took over an abandoned idempotency claim') takeovers++;
    },
    env: {
      NODE_ENV: 'production',
      SEED: first ? 'true' : 'false',
      SEED_USERS: '20',
      LOG_LEVEL: 'info',
      // The default lock: a killed server's claims die with it, so its clients' retries
      // must run at once on the restarted one, never wait for the lock to expire.
      IDEMPOTENCY_LOCK_MS: '30000',
      RATES_URL: ratesUrl,
      RATES_TTL_MS: '0',
      RATE_LIMIT_BURST: '100000',
      RATE_LIMIT_PER_SECOND: '100000',
      ...(onPostgres ? { DATABASE_URL: dbFile } : {}),
    },
  });
}

describe('idempotent writes across crashes', () => {
  it('leaves every key with exactly one payment when the server is SIGKILLed at random moments', async () => {
    if (onPostgres) {
      postgres = await createTestPostgres();
      dbFile = postgres.url;
    }
    ratesUrl = await startSlowProvider();
    const deadline = Date.now() + DEADLINE_MS;
    child = await start(true);
    const answers = new Map<number, string>();
    let next = 0;
    let statuses: Record<string, number> = {};

    // Each worker takes keys in turn and retries one until it gets a 2xx, whatever server is up.
    const worker = async () => {
      while (next < KEYS && Date.now() < deadline) {
        const i = next++;
        while (!answers.has(i) && Date.now() < deadline) {
          const url = child?.url;
          try {
            const res = await fetch(`${url}/trpc/payments.create`, {
              method: 'POST',
              headers: { authorization: 'Bearer demo-alice', 'content-type': 'application/json', 'idempotency-key': `crash-${i}` },
              body: JSON.stringify({ userId: 1 + (i % 20), amountCents: amountOf(i), currency: 'EUR' }),
              signal: AbortSignal.timeout(5000),
            });
            const text = await res.text();
            statuses = { ...statuses, [res.status]: (statuses[res.status] ?? 0) + 1 };
            if (res.ok) answers.set(i, text);
            else await sleep(50);
          } catch {
            statuses = { ...statuses, network: (statuses.network ?? 0) + 1 };
            await sleep(50);
          }
        }
      }
    };

    let killedWhileHeld = 0;
    const killer = async () => {
      for (let k = 0; k < KILLS && answers.size < KEYS && Date.now() < deadline; k++) {
        // Kill only a server that has served since it started: on a loaded machine a restart can take
        // longer than the gap between kills, and a kill before any progress tests nothing.
        const served = answers.size;
        while (answers.size === served && Date.now() < deadline) await sleep(20);
        await sleep(150 + Math.floor(Math.random() * 600));
        // Every other kill waits for a handler to be inside its claim (waiting on the provider),
        // so abandoned claims are certain; the others land wherever they land.
        for (let i = 0; k % 2 === 0 && waiting === 0 && i < 300; i++) await sleep(10);
        if (waiting > 0) killedWhileHeld++;
        await child?.kill();
        child = await start(false);
      }
    };

    await Promise.all([killer(), ...Array.from({ length: WORKERS }, worker)]);
    await child.kill();
    child = null;
    expect(answers.size, JSON.stringify(statuses)).toBe(KEYS);
    // Kills landed while handlers held claims, and yet no retry met a 409 or needed a
    // takeover: a dead server leaves no claim behind (one key is one worker's at a time).
    expect(killedWhileHeld).toBeGreaterThan(0);
    expect(statuses[409] ?? 0, JSON.stringify(statuses)).toBe(0);
    expect(takeovers).toBe(0);

    const db = await inspectDatabase(dbFile);
    try {
      // What a killed server may leave behind: a damaged SQLite file, or on PostgreSQL a held lock or an open transaction.
      if (postgres) expect(await postgres.leftovers()).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
      else expect(await db.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      const made = (
        await db.all<{ id: number; amount: number }>('SELECT id, amount_cents AS amount FROM payments WHERE amount_cents >= ? ORDER BY amount_cents', [
          amountOf(0),
        ])
      ).map((p) => ({ id: Number(p.id), amount: Number(p.amount) }));
      // Exactly one payment per key: no key lost, none charged twice.
      expect(made.map((p) => p.amount)).toEqual(Array.from({ length: KEYS }, (_, i) => amountOf(i)));
      for (let i = 0; i < KEYS; i++) {
        const [row] = await db.all<{ state: string; body: string }>(
          "SELECT state, response_body AS body FROM idempotency_keys WHERE tenant_id = 1 AND procedure = 'payments.create' AND key = ?",
          [`crash-${i}`],
        );
        expect(row?.state).toBe('done');
        // The stored answer is the one the client got, and names the one payment made for the key.
        expect(row?.body).toBe(answers.get(i));
        const id = (JSON.parse(row?.body ?? '{}') as { result?: { data?: { id?: number } } }).result?.data?.id;
        expect(made.find((p) => p.amount === amountOf(i))?.id).toBe(id);
      }
    } finally {
      await db.close();
    }
  }, 120_000);
});
