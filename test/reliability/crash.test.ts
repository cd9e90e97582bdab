import { afterAll, describe, expect, it } from 'vitest';
import { integrityCheck, tempDir } from './support/database.js';
import { bearer, keepAliveAgent, resultData, retryAfterMs, send, header, type Outcome } from './support/http.js';
import { between, prng, runSeed, sleep, Tally } from './support/load.js';
import { killAllServers, startServer, waitForExit, type ServerProcess } from '../helpers/server-process.js';
import { inspectDatabase, onPostgres } from '../helpers/dialect.js';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 6);
const CONCURRENCY = 8;
// Amounts far above the seed's (at most 99 999 cents): one distinct amount per
// key names the key's row in the database without trusting any response.
const AMOUNT_BASE = 500_000_000;
const MAX_KEYS = 20_000;

const env = {
  SEED_USERS: '20',
  LOG_LEVEL: 'info',
  // A crash leaves in-flight claims behind; a short lock lets the retry take them over.
  IDEMPOTENCY_LOCK_MS: '500',
  RATE_LIMIT_BURST: '1000000',
  RATE_LIMIT_PER_SECOND: '1000000',
};

interface KeyState {
  key: string;
  amountCents: number;
  userId: number;
  /** Every payment id a 2xx answer named for this key. */
  paymentIds: Set<number>;
  answered: boolean;
  /** When a key that got 409 may be tried again (its Retry-After). */
  dueAt: number;
}

afterAll(killAllServers);

/**
 * What a kill may leave behind on PostgreSQL: an advisory lock or a session
 * idle inside its transaction. The server sees a dead client's socket close
 * at once, but ends its backend a moment later, so this asks again for up
 * to two seconds before it reports what is still there: a real leak stays.
 */
async function postgresLeftovers(postgres: TestPostgres): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const left = await postgres.leftovers();
    if (left.advisoryLocks === 0 && left.idleInTransaction === 0) return 'ok';
    if (attempt >= 20) return JSON.stringify(left);
    await sleep(100);
  }
}

describe('crash recovery', () => {
  it('loses and duplicates no keyed payment when the server is SIGKILLed mid-stream and every key is retried', async () => {
    const seed = runSeed();
    const random = prng(seed);
    const tmp = tempDir('crash');
    // A SQLite file, or in the `postgres` project (TEST_DIALECT=postgres) a database of its own.
    const postgres: TestPostgres | null = onPostgres ? await createTestPostgres() : null;
    const databaseUrl = postgres?.url ?? tmp.dbFile;
    const serverEnv = { ...env, DATABASE_URL: databaseUrl };
    const runId = seed.toString(36);
    const keys: KeyState[] = [];
    const pending: KeyState[] = [];
    const statuses = new Tally();
    const unexpected: string[] = [];
    const killedInFlight: number[] = [];
    const notReplayed: string[] = [];
    const integrityAfterKill: string[] = [];
    let server: ServerProcess | undefined;
    const started = Date.now();

    const newKey = (): KeyState => {
      const state: KeyState = {
        key: `crash-${runId}-${keys.length}`,
        amountCents: AMOUNT_BASE + keys.length,
        userId: 1 + (keys.length % 20),
        paymentIds: new Set(),
        answered: false,
        dueAt: 0,
      };
      keys.push(state);
      return state;
    };

    const create = (target: ServerProcess, state: KeyState, agent: ReturnType<typeof keepAliveAgent>): Promise<Outcome> =>
      send({
        origin: target.url,
        method: 'POST',
        path: '/trpc/payments.create',
        headers: { ...bearer('demo-alice'), 'content-type': 'application/json', 'idempotency-key': state.key },
        body: JSON.stringify({ userId: state.userId, amountCents: state.amountCents, currency: 'EUR' }),
        agent,
        timeoutMs: 15_000,
      });

    /** Records one answer; true when the key now has its 2xx. */
    const record = (state: KeyState, outcome: Outcome, phase: string): boolean => {
      if (!outcome.ok) {
        statuses.add(`${phase} ${outcome.error}`);
        return false;
      }
      statuses.add(`${phase} ${outcome.status}${header(outcome, 'idempotent-replayed') === 'true' ? ' replayed' : ''}`);
      if (outcome.status >= 200 && outcome.status < 300) {
        const data = resultData(outcome.body) as { id?: unknown; amountCents?: unknown } | undefined;
        if (typeof data?.id !== 'number' || data.amountCents !== state.amountCents) {
          unexpected.push(`${state.key}: 2xx without its payment: ${outcome.body.slice(0, 300)}`);
          return false;
        }
        state.paymentIds.add(data.id);
        state.answered = true;
        return true;
      }
      // 409: the key's first attempt is (or, after a crash, looks) still in flight: retry later.
      if (outcome.status !== 409) unexpected.push(`${state.key}: ${outcome.status} ${outcome.body.slice(0, 300)}`);
      return false;
    };

    try {
      server = await startServer({ dbFile: tmp.dbFile, env: serverEnv });
      for (let round = 1; round <= ROUNDS; round++) {
        const target: ServerProcess = server;
        const agent = keepAliveAgent(CONCURRENCY);
        let stop = false;
        let inFlight = 0;
        const loop = async () => {
          while (!stop && keys.length < MAX_KEYS) {
            const due = pending.findIndex((k) => k.dueAt <= Date.now());
            const state = due >= 0 ? (pending.splice(due, 1)[0] as KeyState) : newKey();
            inFlight++;
            const outcome = await create(target, state, agent);
            inFlight--;
            // A key without its 2xx goes back in line, for this server or the
            // next one; after a 409, not before its Retry-After.
            if (!record(state, outcome, 'stream')) {
              state.dueAt = Date.now() + (outcome.ok ? retryAfterMs(outcome, 250, 2000) : 0);
              pending.push(state);
            }
          }
        };
        const loops = Array.from({ length: CONCURRENCY }, loop);
        await sleep(between(random, 300, 1500));
        killedInFlight.push(inFlight);
        target.signal('SIGKILL');
        stop = true;
        await target.exited;
        await Promise.all(loops);
        agent.destroy();
        // The database as the kill left it, before any restart has recovered it: the file's
        // integrity, or on PostgreSQL no lock and no open transaction of the dead server's.
        integrityAfterKill.push(postgres ? await postgresLeftovers(postgres) : integrityCheck(tmp.dbFile, { readonly: true }));
        // Restart on the same database, and on the same port when the OS still lets us have it.
        server = await startServer({ dbFile: tmp.dbFile, env: serverEnv, port: target.port }).catch(() =>
          startServer({ dbFile: tmp.dbFile, env: serverEnv }),
        );
      }

      // Retry every key, answered or not, until each has its 2xx: an answered
      // key must replay the payment it already named.
      const target: ServerProcess = server;
      const agent = keepAliveAgent(CONCURRENCY);
      const deadline = Date.now() + 45_000;
      let next = 0;
      const retryLoop = async () => {
        while (next < keys.length) {
          const state = keys[next++] as KeyState;
          const answeredBefore = state.answered;
          state.answered = false;
          while (Date.now() < deadline) {
            const outcome = await create(target, state, agent);
            if (record(state, outcome, 'retry')) {
              // A key that already had its answer must get it again as a replay, not a second execution.
              if (answeredBefore && outcome.ok && header(outcome, 'idempotent-replayed') !== 'true') notReplayed.push(state.key);
              break;
            }
            await sleep(outcome.ok ? retryAfterMs(outcome, 250, 2000) : 100);
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, retryLoop));
      agent.destroy();
      // On PostgreSQL, asked while the last server still holds its pool: every answered request let its lock go.
      const leftoversAtEnd = postgres ? await postgresLeftovers(postgres) : null;
      target.signal('SIGTERM');
      const exit = await waitForExit(target, 15_000);
      expect(exit.code, target.output()).toBe(0);

      const db = await inspectDatabase(databaseUrl);
      const rows = await db
        .all<{ id: number | string; amountCents: number | string }>(
          'SELECT id, amount_cents AS "amountCents" FROM payments WHERE amount_cents >= ? ORDER BY id',
          [AMOUNT_BASE],
        )
        .then((found) => found.map((r) => ({ id: Number(r.id), amountCents: Number(r.amountCents) })))
        .finally(() => db.close());
      const rowsByAmount = new Map<number, number[]>();
      for (const row of rows) rowsByAmount.set(row.amountCents, [...(rowsByAmount.get(row.amountCents) ?? []), row.id]);
      const lost = keys.filter((k) => !rowsByAmount.has(k.amountCents)).map((k) => k.key);
      const duplicated = [...rowsByAmount].filter(([, ids]) => ids.length > 1);
      const unanswered = keys.filter((k) => !k.answered).map((k) => k.key);
      const inconsistent = keys.filter((k) => k.paymentIds.size !== 1).map((k) => `${k.key}: ${[...k.paymentIds].join(',')}`);
      const mismatched = keys.filter((k) => {
        const ids = rowsByAmount.get(k.amountCents);
        return ids?.length === 1 && !k.paymentIds.has(ids[0] as number);
      });
      const integrity = leftoversAtEnd ?? integrityCheck(tmp.dbFile);

      console.log(
        `[crash ${onPostgres ? 'postgres' : 'sqlite'}] seed=${seed} rounds=${ROUNDS} keys=${keys.length} rows=${rows.length} in flight at each kill=${killedInFlight.join('/')} ` +
          `lost=${lost.length} duplicated=${duplicated.length} unanswered=${unanswered.length} inconsistent=${inconsistent.length} ` +
          `integrity after each kill=${integrityAfterKill.join('/')} at the end=${integrity} in ${((Date.now() - started) / 1000).toFixed(1)} s\n[crash] answers: ${statuses}`,
      );
      expect(unexpected.slice(0, 10), 'statuses other than 2xx and 409').toEqual([]);
      expect(unanswered.slice(0, 10), 'keys that never got a 2xx').toEqual([]);
      expect(lost.slice(0, 10), 'keys with no payment row').toEqual([]);
      expect(duplicated.slice(0, 10), 'amounts (keys) with more than one payment row').toEqual([]);
      expect(inconsistent.slice(0, 10), 'keys whose 2xx answers named different payments').toEqual([]);
      expect(mismatched.map((k) => k.key).slice(0, 10), 'keys whose answer names another row').toEqual([]);
      expect(notReplayed.slice(0, 10), 'answered keys whose retry was not marked Idempotent-Replayed').toEqual([]);
      expect(rows.length).toBe(keys.length);
      expect(integrityAfterKill.filter((r) => r !== 'ok')).toEqual([]);
      expect(integrity).toBe('ok');
    } finally {
      server?.signal('SIGKILL');
      await killAllServers();
      await postgres?.drop();
      tmp.remove();
    }
  }, 150_000);
});
