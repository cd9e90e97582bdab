import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { integrityCheck, tempDir, withDatabase } from './support/database.js';
import { bearer, keepAliveAgent, queryPath, resultData, send, type Outcome } from './support/http.js';
import { sleep, Tally } from './support/load.js';
import { killAllServers, severe, startServer, waitForExit } from '../helpers/server-process.js';

const CONNECTIONS = 50;
const EXIT_WITHIN_MS = 10_000;

afterAll(killAllServers);

/**
 * A rates provider that answers after 2 s: every rates.latest on a fresh server waits on it. The test's own,
 * because the built-in simulator's control endpoint exists in development only and this server runs as in production.
 */
async function startSlowProvider(): Promise<{ url: string; close(): Promise<void> }> {
  const provider = createServer((_req, res) => {
    const timer = setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ base: 'USD', rates: { EUR: 0.92 }, asOf: new Date().toISOString() }));
    }, 2_000);
    res.once('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(provider.address() as AddressInfo).port}/rates`,
    close: () =>
      new Promise<void>((resolve) => {
        provider.closeAllConnections();
        provider.close(() => resolve());
      }),
  };
}

describe('shutdown under load', () => {
  it('lets 50 in-flight requests finish after SIGTERM, exits 0 within 10 s, and leaves a clean database', async () => {
    const tmp = tempDir('shutdown');
    // One connection per request: 50 sockets busy at once.
    const agent = keepAliveAgent(CONNECTIONS);
    const provider = await startSlowProvider();
    try {
      const server = await startServer({
        dbFile: tmp.dbFile,
        env: {
          RATE_LIMIT_BURST: '1000000',
          RATE_LIMIT_PER_SECOND: '1000000',
          // Above the provider's 2 s, so the slow answers succeed.
          RATES_URL: provider.url,
          RATES_TIMEOUT_MS: '6000',
          // A fixed limit above the 50 connections: all of them must be inside a handler at SIGTERM,
          // none waiting in (or shed by) admission; shedding is overload.test.ts's subject.
          ADMISSION_LIMIT: '100',
          LOG_LEVEL: 'info',
        },
      });
      // A write before the drain, so the reopened file has something to check;
      // users.create, because anything that reads rates would cache them and
      // let the requests below finish at once.
      const write = await send({
        origin: server.url,
        method: 'POST',
        path: '/trpc/users.create',
        headers: { ...bearer('demo-alice'), 'content-type': 'application/json', 'idempotency-key': 'before-shutdown' },
        body: JSON.stringify({ name: 'Written Before Shutdown', email: 'before-shutdown@alice.example' }),
        agent,
        timeoutMs: 15_000,
      });
      expect(write.ok && write.status).toBe(200);

      // rates.latest on a fresh server has no answer to serve: every call waits on the slow provider.
      let finished = 0;
      let written = 0;
      let allWritten: () => void = () => undefined;
      const onWritten = () => {
        if (++written === CONNECTIONS) allWritten();
      };
      const inFlight: Array<Promise<Outcome>> = Array.from({ length: CONNECTIONS }, (_, i) =>
        send({ origin: server.url, path: queryPath('rates.latest', { base: 'USD' }), headers: bearer(i % 2 ? 'demo-alice' : 'demo-bob'), agent, timeoutMs: 20_000, onWritten }).then((out) => {
          finished++;
          return out;
        }),
      );
      await Promise.race([new Promise<void>((resolve) => (allWritten = resolve)), sleep(5_000)]);
      expect(written, 'requests on the wire').toBe(CONNECTIONS);
      // Give the server time to accept and parse them: a connection still in
      // the listen backlog when the server stops listening would be refused.
      await sleep(400);
      expect(finished, 'requests answered before SIGTERM: the provider was not slow enough').toBe(0);

      const sigterm = Date.now();
      server.signal('SIGTERM');
      const results = await Promise.all(inFlight.map((p) => p.then((out) => ({ out, ms: Date.now() - sigterm }))));
      const exit = await waitForExit(server, EXIT_WITHIN_MS + 5_000);
      const exitMs = Date.now() - sigterm;

      const statuses = new Tally();
      for (const { out } of results) statuses.add(out.ok ? String(out.status) : out.error);
      const complete = results.filter(({ out }) => {
        if (!out.ok || out.status !== 200) return false;
        const data = resultData(out.body) as { base?: unknown; rates?: unknown } | undefined;
        return data?.base === 'USD' && typeof data.rates === 'object';
      });
      const lastAnswerMs = Math.max(...results.map((r) => r.ms));
      const integrity = integrityCheck(tmp.dbFile);
      const kept = withDatabase(tmp.dbFile, (sqlite) => sqlite.prepare("SELECT count(*) FROM users WHERE email = 'before-shutdown@alice.example'").pluck().get());

      console.log(
        `[shutdown] ${CONNECTIONS} in flight at SIGTERM: ${statuses}; complete 200s ${complete.length}; ` +
          `last answer ${lastAnswerMs} ms after SIGTERM; exit code ${exit.code} signal ${exit.signal} after ${exitMs} ms; integrity ${integrity}`,
      );
      expect(Object.fromEntries(statuses.counts)).toEqual({ 200: CONNECTIONS });
      expect(complete).toHaveLength(CONNECTIONS);
      expect(exit.killed, 'still running long after SIGTERM').toBe(false);
      expect(exit.signal).toBeNull();
      expect(exit.code).toBe(0);
      expect(exitMs).toBeLessThan(EXIT_WITHIN_MS);
      expect(severe(server.problems)).toEqual([]);
      expect(integrity).toBe('ok');
      expect(kept).toBe(1);
    } finally {
      agent.destroy();
      await killAllServers();
      await provider.close();
      tmp.remove();
    }
  }, 60_000);
});
