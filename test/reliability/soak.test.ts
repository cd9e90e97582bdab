import { afterAll, describe, expect, it } from 'vitest';
import { integrityCheck, prepareDatabase, tempDir } from './support/database.js';
import { header, keepAliveAgent, queryPath, resultData, send, type Outcome } from './support/http.js';
import { between, prng, runSeed, sleep, Tally } from './support/load.js';
import { killAllServers, severe, severeSummary, startServer, waitForExit, type ServerProcess } from '../helpers/server-process.js';

const SOAK_MS = Number(process.env.SOAK_MS ?? 60_000);
// Warm-up: long enough for JIT, caches and SQLite's page cache to settle.
const WARMUP_MS = Math.min(10_000, Math.round(SOAK_MS / 4));
const RSS_GROWTH_LIMIT = 1.5;
const SEED_USERS = 300;
const LIMITED_KEY = 'soak-small-plan';
const LIMITED_PLAN = { name: 'soak-small', burst: 5, perSecond: 2 };

type Page = { data: Array<{ id: number; userId?: number }>; nextCursor: string | null };

afterAll(killAllServers);

describe('soak', () => {
  it(`serves ${SOAK_MS / 1000} s of mixed load with only 2xx, 304 and deliberate 429s, and bounded memory`, async () => {
    const seed = runSeed();
    const random = prng(seed);
    const tmp = tempDir('soak');
    // A key with its own small plan: RATE_LIMIT_BURST covers every other key, which must never be limited here.
    prepareDatabase(tmp.dbFile, { users: SEED_USERS, extraKeys: [{ key: LIMITED_KEY, tenant: 'alice', plan: LIMITED_PLAN }] });
    const agent = keepAliveAgent(16);
    let server: ServerProcess | undefined;
    try {
      server = await startServer({
        dbFile: tmp.dbFile,
        env: { RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000', LOG_LEVEL: 'info' },
      });
      const target = server;
      const statuses = new Tally();
      const unexpected = new Tally();
      const limited = new Tally();
      const missingRetryAfter: string[] = [];
      const etags = new Map<string, string>();
      // Ids seen on each key's own pages: a tenant's byId must only ask for its own users.
      const userIds = new Map<string, number[]>();
      const examples = new Map<string, string>();
      const started = Date.now();
      const deadline = started + SOAK_MS;

      /** One call, tallied: statuses other than 2xx, 304 and (limited key only) 429 are errors. */
      const call = async (loop: string, key: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Outcome> => {
        const headers: Record<string, string> = { authorization: `Bearer ${key}`, ...init.headers };
        // Conditional GETs: a 304 is a success when the server answers them.
        const etag = init.method === undefined ? etags.get(`${key} ${path}`) : undefined;
        if (etag) headers['if-none-match'] = etag;
        const out = await send({ origin: target.url, path, method: init.method ?? 'GET', headers, body: init.body, agent, timeoutMs: 15_000 });
        const label = out.ok ? String(out.status) : out.error;
        statuses.add(`${loop} ${label}`);
        if (out.ok) {
          const tag = header(out, 'etag');
          if (tag && init.method === undefined) etags.set(`${key} ${path}`, tag);
          if (out.status === 429) {
            if (key === LIMITED_KEY) limited.add('429');
            else unexpected.add(`${loop} 429 on an unlimited key`);
            if (header(out, 'retry-after') === undefined) missingRetryAfter.push(path);
          } else if ((out.status < 200 || out.status >= 300) && out.status !== 304) {
            unexpected.add(`${loop} ${out.status}`);
            if (!examples.has(`${loop} ${out.status}`)) examples.set(`${loop} ${out.status}`, `${path} -> ${out.body.slice(0, 200)}`);
          } else if (key === LIMITED_KEY) {
            limited.add(String(out.status));
          }
        } else {
          unexpected.add(`${loop} ${out.error}`);
        }
        return out;
      };

      const page = (out: Outcome): Page | undefined => (out.ok && out.status === 200 ? (resultData(out.body) as Page) : undefined);

      const loops = {
        // Walk users page by page with varying limits, starting over at the end.
        usersPages: async (key: string) => {
          let cursor: string | null = null;
          const out = await call('users.list', key, queryPath('users.list', { limit: between(random, 1, 100), cursor }));
          const p = page(out);
          const ids = userIds.get(key) ?? [];
          userIds.set(key, ids);
          for (const u of p?.data ?? []) if (ids.length < 5000) ids.push(u.id);
          cursor = p?.nextCursor ?? null;
          while (cursor && Date.now() < deadline) {
            cursor = page(await call('users.list', key, queryPath('users.list', { limit: between(random, 1, 100), cursor })))?.nextCursor ?? null;
          }
        },
        paymentsPages: async (key: string) => {
          const userId = random() < 0.5 ? between(random, 1, SEED_USERS) : undefined;
          let cursor: string | null = null;
          let pages = 0;
          do {
            cursor = page(await call('payments.list', key, queryPath('payments.list', { limit: between(random, 5, 50), cursor, userId })))?.nextCursor ?? null;
          } while (cursor && ++pages < 20 && Date.now() < deadline);
        },
        reads: async (key: string) => {
          const ids = userIds.get(key) ?? [];
          const id = ids[between(random, 0, Math.max(0, ids.length - 1))];
          if (id !== undefined) await call('users.byId', key, queryPath('users.byId', { id }));
          if (random() < 0.2) await call('stats.summary', key, queryPath('stats.summary'));
          if (random() < 0.3) await call('rates.latest', key, queryPath('rates.latest', { base: 'USD' }));
        },
        // A client ignoring its small plan: about 20 calls a second against 2 a second allowed.
        overLimit: async (key: string) => {
          await call('limited', key, queryPath('users.list', { limit: 5 }));
          await sleep(50);
        },
      };
      let created = 0;
      // Keyed creates; one in ten repeats this loop's previous key and input
      // (finished, so it must replay, not 409).
      const creates = () => {
        let last: { key: string; body: string } | undefined;
        return async (key: string) => {
          const request =
            last !== undefined && random() < 0.1
              ? last
              : { key: `soak-${seed}-${created++}`, body: JSON.stringify({ userId: between(random, 1, SEED_USERS), amountCents: between(random, 1, 1_000_000), currency: 'EUR' }) };
          last = request;
          await call('payments.create', key, '/trpc/payments.create', {
            method: 'POST',
            body: request.body,
            headers: { 'content-type': 'application/json', 'idempotency-key': request.key },
          });
        };
      };
      const plan: Array<[(key: string) => Promise<void>, string]> = [
        [loops.usersPages, 'demo-alice'],
        [loops.usersPages, 'demo-bob'],
        [loops.paymentsPages, 'demo-alice'],
        [loops.reads, 'demo-alice'],
        [loops.reads, 'demo-bob'],
        [creates(), 'demo-alice'],
        [creates(), 'demo-alice'],
        [loops.overLimit, LIMITED_KEY],
      ];

      const rss: Array<{ atMs: number; bytes: number }> = [];
      const sampler = setInterval(() => {
        try {
          rss.push({ atMs: Date.now() - started, bytes: target.rssBytes() });
        } catch {
          // The process is gone; the exit check below reports it.
        }
      }, 1000);
      let warmRss = 0;
      const warmTimer = setTimeout(() => {
        warmRss = target.rssBytes();
      }, WARMUP_MS);
      let crashed = false;
      void target.exited.then(() => {
        crashed = Date.now() < deadline;
      });

      await Promise.all(
        plan.map(async ([run, key]) => {
          while (Date.now() < deadline && !crashed) await run(key);
        }),
      );
      clearInterval(sampler);
      clearTimeout(warmTimer);
      const finalRss = crashed ? 0 : target.rssBytes();
      const peakRss = Math.max(0, ...rss.map((s) => s.bytes));
      const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
      const unhandled = target.problems.filter((p) => /unhandled|uncaught/i.test(p.line)).map((p) => p.line.slice(0, 300));

      console.log(
        `[soak] seed=${seed} ${(SOAK_MS / 1000).toFixed(0)} s, ${statuses.total()} requests (${Math.round(statuses.total() / (SOAK_MS / 1000))}/s)\n` +
          `[soak] per loop and status: ${statuses}\n[soak] small-plan key: ${limited}\n` +
          `[soak] RSS after ${WARMUP_MS / 1000} s warm-up ${mb(warmRss)}, final ${mb(finalRss)} (${(finalRss / warmRss).toFixed(2)}×), peak ${mb(peakRss)}\n` +
          `[soak] unexpected: ${unexpected.total() ? `${unexpected} e.g. ${[...examples.values()].join(' | ')}` : 'none'}; server error logs: ${severeSummary(target.problems).join('; ') || 'none'}`,
      );
      expect(crashed, target.output().slice(-2000)).toBe(false);
      expect(Object.fromEntries(unexpected.counts)).toEqual({});
      expect(unhandled).toEqual([]);
      expect(severe(target.problems)).toEqual([]);
      // The deliberate 429s happened, with Retry-After, and the small plan still let some calls through.
      expect(limited.get('429')).toBeGreaterThan(0);
      expect(limited.get('200') + limited.get('304')).toBeGreaterThan(0);
      expect(missingRetryAfter).toEqual([]);
      expect(warmRss).toBeGreaterThan(0);
      expect(finalRss / warmRss).toBeLessThanOrEqual(RSS_GROWTH_LIMIT);

      target.signal('SIGTERM');
      expect((await waitForExit(target, 15_000)).code).toBe(0);
      expect(integrityCheck(tmp.dbFile)).toBe('ok');
    } finally {
      agent.destroy();
      await killAllServers();
      tmp.remove();
    }
  }, SOAK_MS + 120_000);
});
