import { afterAll, describe, expect, it } from 'vitest';
import { header, keepAliveAgent, queryPath, send, type Outcome } from './support/http.js';
import { sleep, Tally } from './support/load.js';
import { killAllServers, severe, startServer } from '../helpers/server-process.js';

const FLOOD_MS = Number(process.env.OVERLOAD_MS ?? 8_000);
// Far more than the server can run at once (its limit is at most 64, its queue 128).
const ALICE_CONNECTIONS = 400;
const BOB_INTERVAL_MS = 100;
const RSS_LIMIT_BYTES = 400 * 1024 * 1024;
const PAGE = queryPath('users.list', { limit: 100 });

afterAll(killAllServers);

// Latency is asserted (bob's p99), which only means something when the two cores are the server's and this
// test's alone: opt in with RELIABILITY_OVERLOAD=1 on an otherwise idle machine.
const enabled = process.env.RELIABILITY_OVERLOAD === '1';
if (!enabled) console.log('[overload] skipped: set RELIABILITY_OVERLOAD=1 on an idle machine (it asserts latency)');

const p99 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
};

describe.runIf(enabled)('overload', () => {
  it('sheds a flooding tenant with clean 503s while a small tenant keeps its latency, with no timeouts and bounded memory', async () => {
    const server = await startServer({
      env: {
        SEED_USERS: '1000',
        // Behind a gateway that limits per key, without the cache: every call costs a real page.
        RATE_LIMIT_ENABLED: 'false',
        CACHE_ENABLED: 'false',
        // Every flooding connection comes from 127.0.0.1: above the per-address cap (256) on purpose.
        MAX_CONNECTIONS_PER_ADDRESS: String(ALICE_CONNECTIONS * 2),
      },
    });
    const aliceAgent = keepAliveAgent(ALICE_CONNECTIONS);
    const bobAgent = keepAliveAgent(4);
    const healthAgent = keepAliveAgent(1);
    try {
      // Connections open before the flood, so the listen queue is not what is measured.
      await Promise.all(
        Array.from({ length: ALICE_CONNECTIONS }, () => send({ origin: server.url, path: '/healthz', agent: aliceAgent, timeoutMs: 20_000 })),
      );
      const rssBefore = server.rssBytes();
      const alice = new Tally();
      const bob = new Tally();
      const health = new Tally();
      const bobMs: number[] = [];
      const badRefusals: string[] = [];
      const until = Date.now() + FLOOD_MS;

      const check = (out: Outcome, tally: Tally) => {
        if (!out.ok) return tally.add(out.error);
        tally.add(String(out.status));
        if (out.status === 503) {
          const clean =
            header(out, 'retry-after') === '1' && header(out, 'cache-control') === 'no-store' && out.body.includes('"reason":"overloaded"');
          if (!clean) badRefusals.push(`${JSON.stringify(out.headers)} ${out.body.slice(0, 200)}`);
        }
      };
      // Alice ignores Retry-After: each connection sends again as soon as it is answered.
      const flood = async () => {
        while (Date.now() < until) {
          check(await send({ origin: server.url, path: PAGE, headers: { authorization: 'Bearer demo-alice' }, agent: aliceAgent, timeoutMs: 5_000 }), alice);
        }
      };
      // Bob sends 10 a second, whatever happens to them.
      const steady = async () => {
        const calls: Promise<void>[] = [];
        while (Date.now() < until) {
          const started = performance.now();
          calls.push(
            send({ origin: server.url, path: PAGE, headers: { authorization: 'Bearer demo-bob' }, agent: bobAgent, timeoutMs: 5_000 }).then((out) => {
              check(out, bob);
              if (out.ok && out.status === 200) bobMs.push(performance.now() - started);
            }),
          );
          await sleep(BOB_INTERVAL_MS);
        }
        await Promise.all(calls);
      };
      const probe = async () => {
        while (Date.now() < until) {
          const out = await send({ origin: server.url, path: '/healthz', agent: healthAgent, timeoutMs: 1_000 });
          health.add(out.ok ? String(out.status) : out.error);
          await sleep(250);
        }
      };
      await Promise.all([...Array.from({ length: ALICE_CONNECTIONS }, flood), steady(), probe()]);
      const rssAfter = server.rssBytes();
      const bobServed = bob.get('200') / Math.max(1, bob.total());

      console.log(
        `[overload] ${FLOOD_MS} ms, ${ALICE_CONNECTIONS} connections: alice ${alice}; bob ${bob} (served ${(bobServed * 100).toFixed(1)} %, ` +
          `p99 ${p99(bobMs).toFixed(0)} ms); /healthz ${health}; rss ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MB`,
      );
      // Every answer came, and each was a 200 or a clean overload refusal: no timeout, no other 5xx.
      expect(alice.filter((label) => label !== '200' && label !== '503')).toEqual({});
      expect(bob.filter((label) => label !== '200' && label !== '503')).toEqual({});
      expect(badRefusals.slice(0, 3)).toEqual([]);
      // The flood was shed (else this test tested nothing), and the small tenant kept being served.
      expect(alice.get('503')).toBeGreaterThan(0);
      expect(bobServed).toBeGreaterThanOrEqual(0.95);
      expect(p99(bobMs)).toBeLessThanOrEqual(300);
      expect(health.filter((label) => label !== '200')).toEqual({});
      expect(rssAfter).toBeLessThan(RSS_LIMIT_BYTES);
      expect(severe(server.problems)).toEqual([]);
    } finally {
      aliceAgent.destroy();
      bobAgent.destroy();
      healthAgent.destroy();
      await killAllServers();
    }
  }, 120_000);
});
