import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { integrityCheck, tempDir, withDatabase } from './support/database.js';
import { bearer, keepAliveAgent, queryPath, resultData, send, type Outcome } from './support/http.js';
import { sleep, Tally } from './support/load.js';
import { killAllServers, severe, startServer, waitForExit } from '../helpers/server-process.js';

const CONNECTIONS = 50;
const EXIT_WITHIN_MS = 10_000;

afterAll(killAllServers);

/** POSTs a mode to the rates simulator's control endpoint (`POST /mode`, body `slow`). */
function setSimulatorMode(ratesUrl: string, mode: string): Promise<number> {
  const control = new URL(ratesUrl.replace(/\/rates$/, '/mode'));
  return new Promise((resolve, reject) => {
    const req = request(control, { method: 'POST', headers: { 'content-type': 'text/plain' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(mode);
  });
}

describe('shutdown under load', () => {
  it('lets 50 in-flight requests finish after SIGTERM, exits 0 within 10 s, and leaves a clean database', async () => {
    const tmp = tempDir('shutdown');
    // One connection per request: 50 sockets busy at once.
    const agent = keepAliveAgent(CONNECTIONS);
    try {
      const server = await startServer({
        dbFile: tmp.dbFile,
        env: {
          RATE_LIMIT_BURST: '1000000',
          RATE_LIMIT_PER_SECOND: '1000000',
          // Above the simulator's 2 s in slow mode, so the slow answers succeed.
          RATES_TIMEOUT_MS: '6000',
          // A fixed limit above the 50 connections: all of them must be inside a handler at SIGTERM,
          // none waiting in (or shed by) admission; shedding is overload.test.ts's subject.
          ADMISSION_LIMIT: '100',
          LOG_LEVEL: 'info',
        },
      });
      expect(server.ratesSimulatorUrl, 'the startup line names the simulator').toBeDefined();
      expect(await setSimulatorMode(server.ratesSimulatorUrl ?? '', 'slow')).toBe(200);
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
      tmp.remove();
    }
  }, 60_000);
});
