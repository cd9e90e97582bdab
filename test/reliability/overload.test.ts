import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { header, keepAliveAgent, queryPath, send, type Outcome } from './support/http.js';
import { sleep, Tally } from './support/load.js';
import { killAllServers, severe, startServer } from '../helpers/server-process.js';

const FLOOD_MS = Number(process.env.OVERLOAD_MS ?? 8_000);
// Far more than the server can run at once (its limit is at most 64, its queue 128).
const ALICE_CONNECTIONS = 400;
const BOB_INTERVAL_MS = 100;
// Enough for 10 a second at the latency asserted, so bob never waits for a connection of his own.
const BOB_CONNECTIONS = 4;
const RSS_LIMIT_BYTES = 400 * 1024 * 1024;
const PAGE = queryPath('users.list', { limit: 100 });
const METRICS_TOKEN = 'overload-metrics-token-0123456789';
const FLOOD = fileURLToPath(new URL('./support/flood.ts', import.meta.url));

afterAll(killAllServers);

// Bob's p99 ≤ 300 ms is a latency target: like every speed target it is asserted only where the two cores are the
// server's and this test's alone (RELIABILITY_OVERLOAD_LATENCY=1 on an idle machine), and printed on every run. The
// rest (no timeouts, no 5xx but clean 503s, bob ≥ 95 % served, /healthz answered, RSS bounded) always holds.
const assertLatency = process.env.RELIABILITY_OVERLOAD_LATENCY === '1';
if (!assertLatency) console.log("[overload] bob's p99 printed, not asserted: set RELIABILITY_OVERLOAD_LATENCY=1 on an idle machine");

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? 0;
};
const p99 = (values: number[]) => percentile(values, 0.99);

interface FloodResult {
  statuses: Record<string, number>;
  unclean: number;
}

/**
 * Alice's flood from its own process (support/flood.ts): `ready` resolves
 * once its connections are open and accepted, `go()` starts the load,
 * `started` resolves as its first requests go out, `done` with what it was answered.
 */
function flood(url: string, durationMs: number) {
  const opts = { url, path: PAGE, headers: { authorization: 'Bearer demo-alice' }, connections: ALICE_CONNECTIONS, durationMs, honourRetryAfter: false, timeoutMs: 5_000 };
  const child = spawn(process.execPath, ['--import', 'tsx', FLOOD, JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waiters: { line: string; resolve: () => void; reject: (err: Error) => void }[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    for (const w of waiters) if (out.split('\n').includes(w.line)) w.resolve();
  });
  const line = (name: string) => new Promise<void>((resolve, reject) => waiters.push({ line: name, resolve, reject }));
  const done = new Promise<FloodResult>((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      const failure = new Error(`flood exited with ${code}: ${out.slice(-500)}`);
      // A line never printed is never coming (settled promises ignore this).
      for (const w of waiters) w.reject(failure);
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as FloodResult);
      else reject(failure);
    });
  });
  // Awaited once the flood has run; a crash before then fails `ready` or `started` instead.
  done.catch(() => undefined);
  return { ready: line('ready'), started: line('started'), go: () => child.stdin.end('go\n'), done, kill: () => child.kill('SIGKILL') };
}

describe('overload', () => {
  it('sheds a flooding tenant with clean 503s while a small tenant keeps its latency, with no timeouts and bounded memory', async () => {
    const server = await startServer({
      env: {
        SEED_USERS: '1000',
        // Behind a gateway that limits per key, without the cache: every call costs a real page.
        RATE_LIMIT_ENABLED: 'false',
        CACHE_ENABLED: 'false',
        // Every flooding connection comes from 127.0.0.1: above the per-address cap (256) on purpose.
        MAX_CONNECTIONS_PER_ADDRESS: String(ALICE_CONNECTIONS * 2),
        METRICS_TOKEN,
      },
    });
    const bobAgent = keepAliveAgent(BOB_CONNECTIONS);
    const healthAgent = keepAliveAgent(1);
    // Alice's connections open and are accepted first; then bob and the probe take theirs and warm the page's
    // code path (a connection opened mid-flood would measure the listen queue: Node accepts one per event-loop
    // turn), all well within the server's 5 s keep-alive; then the flood starts.
    const alice = flood(server.url, FLOOD_MS);
    try {
      await alice.ready;
      for (let round = 0; round < 10; round++) {
        const warm = await Promise.all(
          Array.from({ length: BOB_CONNECTIONS }, () => send({ origin: server.url, path: PAGE, headers: { authorization: 'Bearer demo-bob' }, agent: bobAgent })),
        );
        expect(warm.map((out) => (out.ok ? out.status : out.error))).toEqual(Array(BOB_CONNECTIONS).fill(200));
      }
      expect(await send({ origin: server.url, path: '/healthz', agent: healthAgent })).toMatchObject({ ok: true, status: 200 });
      alice.go();
      await alice.started;
      const rssBefore = server.rssBytes();
      const bob = new Tally();
      const health = new Tally();
      const bobMs: number[] = [];
      const badRefusals: string[] = [];
      const until = Date.now() + FLOOD_MS - 500;

      const check = (out: Outcome, tally: Tally) => {
        if (!out.ok) return tally.add(out.error);
        tally.add(String(out.status));
        if (out.status === 503) {
          const clean =
            // Whole seconds from 1 to 10 (the default 1 s, spread over up to ten times it as refusals pile up).
            /^([1-9]|10)$/.test(header(out, 'retry-after') ?? '') &&
            header(out, 'cache-control') === 'no-store' &&
            out.body.includes('"reason":"overloaded"');
          if (!clean) badRefusals.push(`${JSON.stringify(out.headers)} ${out.body.slice(0, 200)}`);
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
      await Promise.all([steady(), probe()]);
      const flooded = await alice.done;
      const rssAfter = server.rssBytes();
      const aliceTally = new Tally();
      for (const [label, n] of Object.entries(flooded.statuses)) aliceTally.add(label, n);
      const bobServed = bob.get('200') / Math.max(1, bob.total());
      const metrics = await send({ origin: server.url, path: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` }, agent: healthAgent });
      const admissionLines = metrics.ok ? metrics.body.split('\n').filter((l) => /^composure_admission_(shed_total|limit|queue_wait_seconds_(sum|count))/.test(l)) : [];

      console.log(
        `[overload] ${FLOOD_MS} ms, ${ALICE_CONNECTIONS} connections: alice ${aliceTally}; bob ${bob} (served ${(bobServed * 100).toFixed(1)} %, ` +
          `p50 ${percentile(bobMs, 0.5).toFixed(0)}, p90 ${percentile(bobMs, 0.9).toFixed(0)}, p99 ${p99(bobMs).toFixed(0)} ms); /healthz ${health}; rss ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MB\n` +
          admissionLines.join('\n'),
      );
      // Every answer came, and each was a 200 or a clean overload refusal: no timeout, no other 5xx.
      expect(aliceTally.filter((label) => label !== '200' && label !== '503')).toEqual({});
      expect(flooded.unclean).toBe(0);
      expect(bob.filter((label) => label !== '200' && label !== '503')).toEqual({});
      expect(badRefusals.slice(0, 3)).toEqual([]);
      // The flood was shed (else this test tested nothing), and the small tenant kept being served.
      expect(aliceTally.get('503')).toBeGreaterThan(0);
      expect(bobServed).toBeGreaterThanOrEqual(0.95);
      if (assertLatency) expect(p99(bobMs)).toBeLessThanOrEqual(300);
      expect(health.filter((label) => label !== '200')).toEqual({});
      expect(rssAfter).toBeLessThan(RSS_LIMIT_BYTES);
      expect(severe(server.problems)).toEqual([]);
    } finally {
      alice.kill();
      bobAgent.destroy();
      healthAgent.destroy();
      await killAllServers();
    }
  }, 120_000);
});
