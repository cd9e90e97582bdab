import { afterAll, describe, expect, it } from 'vitest';
import { integrityCheck, tempDir } from './support/database.js';
import { bearer, header, keepAliveAgent, retryAfterMs, send, type Reply } from './support/http.js';
import { sleep, Tally } from './support/load.js';
import { killAllServers, severe, startServer, waitForExit } from '../helpers/server-process.js';
import { inspectDatabase, onPostgres } from '../helpers/dialect.js';
import { createTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const REQUESTS = 1000;
const AMOUNT = 424_242_424;

afterAll(killAllServers);

describe('idempotency storm', () => {
  it('turns 1000 concurrent requests with one key into one payment and byte-identical answers', async () => {
    const tmp = tempDir('storm');
    // A SQLite file, or in the `postgres` project (TEST_DIALECT=postgres) a database of its own.
    const postgres: TestPostgres | null = onPostgres ? await createTestPostgres() : null;
    const target = postgres?.url ?? tmp.dbFile;
    // One socket per request, so all 1000 are on the wire at once rather than queued in the client.
    const agent = keepAliveAgent(REQUESTS);
    try {
      const server = await startServer({
        dbFile: tmp.dbFile,
        env: {
          DATABASE_URL: target,
          RATE_LIMIT_BURST: '1000000',
          RATE_LIMIT_PER_SECOND: '1000000',
          // All 1000 sockets come from 127.0.0.1: above the connection caps, which are not this test's subject.
          MAX_CONNECTIONS: '2000',
          MAX_CONNECTIONS_PER_ADDRESS: '2000',
        },
      });
      const body = JSON.stringify({ userId: 3, amountCents: AMOUNT, currency: 'GBP' });
      const headers = {
        ...bearer('demo-alice'),
        'content-type': 'application/json',
        'idempotency-key': 'storm-one-key',
      };
      const firstAnswers = new Tally();
      const retries = new Tally();
      const unexpected: string[] = [];
      const deadline = Date.now() + 60_000;
      const started = Date.now();

      // Each caller retries a 409 (first attempt still running) and an
      // overload 503 (admission shed it before any work) after its
      // Retry-After, as a client following the contract would, until a 2xx.
      const caller = async (): Promise<Reply | undefined> => {
        let attempt = 0;
        while (Date.now() < deadline) {
          const outcome = await send({ origin: server.url, method: 'POST', path: '/trpc/payments.create', headers, body, agent, timeoutMs: 30_000 });
          const label = outcome.ok ? `${outcome.status}${header(outcome, 'idempotent-replayed') === 'true' ? ' replayed' : ''}` : outcome.error;
          (attempt++ === 0 ? firstAnswers : retries).add(label);
          if (!outcome.ok) {
            unexpected.push(outcome.error);
            return undefined;
          }
          if (outcome.status >= 200 && outcome.status < 300) return outcome;
          const overloaded = outcome.status === 503 && outcome.body.includes('"reason":"overloaded"');
          if (outcome.status !== 409 && !overloaded) {
            unexpected.push(`${outcome.status} ${outcome.body.slice(0, 300)}`);
            return undefined;
          }
          if (header(outcome, 'retry-after') === undefined) unexpected.push(`${outcome.status} without Retry-After`);
          await sleep(retryAfterMs(outcome, 1000, 5000));
        }
        unexpected.push('no 2xx before the deadline');
        return undefined;
      };
      const replies = await Promise.all(Array.from({ length: REQUESTS }, caller));
      const elapsed = Date.now() - started;
      agent.destroy();

      const successes = replies.filter((r): r is Reply => r !== undefined);
      const bodies = new Set(successes.map((r) => r.body));
      const originals = successes.filter((r) => header(r, 'idempotent-replayed') !== 'true');
      // Asked while the server still holds its pool: 999 losers and one winner must have let every
      // lock and transaction go, or an idle connection would still be inside one.
      const leftovers = await postgres?.leftovers();
      server.signal('SIGTERM');
      const exit = await waitForExit(server, 15_000);
      const db = await inspectDatabase(target);
      const rows = await db
        .all<{ n: number | string }>('SELECT count(*) AS n FROM payments WHERE amount_cents = ?', [AMOUNT])
        .then(([row]) => Number(row?.n))
        .finally(() => db.close());

      console.log(
        `[storm ${onPostgres ? 'postgres' : 'sqlite'}] ${REQUESTS} callers in ${elapsed} ms: first answers ${firstAnswers}; retries ${retries.total() ? retries : 'none'}; ` +
          `payment rows=${String(rows)} distinct 2xx bodies=${bodies.size} originals=${originals.length}`,
      );
      expect(unexpected.slice(0, 10)).toEqual([]);
      expect(successes).toHaveLength(REQUESTS);
      expect(rows).toBe(1);
      expect(bodies.size, [...bodies].slice(0, 3).join('\n')).toBe(1);
      // Exactly one answer is the original; every other is marked as a replay.
      expect(originals).toHaveLength(1);
      expect(severe(server.problems)).toEqual([]);
      expect(exit.code).toBe(0);
      // What 999 losers may leave behind: a damaged SQLite file, or on PostgreSQL a held lock or an open transaction.
      if (postgres) expect(leftovers).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
      else expect(integrityCheck(tmp.dbFile)).toBe('ok');
    } finally {
      agent.destroy();
      await killAllServers();
      await postgres?.drop();
      tmp.remove();
    }
  }, 120_000);
});
