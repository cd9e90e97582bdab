import { Agent, get, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Registry } from 'prom-client';
import { createAdmission } from '../../server/admission/index.js';
import { loadConfig } from '../../server/config.js';
import { spawnComposure } from '../support/composure.js';
import { ALICE, input } from '../support/fixtures.js';
import { percentile, rawLoad } from '../support/raw-load.js';
import type { ServerProcess } from '../support/spawn-server.js';
import { result, type BenchResult } from '../support/types.js';

const CONNECTIONS = Number(process.env.BENCH_OVERLOAD_CONNECTIONS ?? 2000);
const CAPACITY_CONNECTIONS = 16;
const PHASE_MS = Number(process.env.BENCH_OVERLOAD_MS ?? 5000);
const PATH = `/trpc/users.list${input({ limit: 100 })}`;

interface Phase {
  rps: number;
  okPerSec: number;
  p50Ms: number;
  p99OkMs: number;
  p99AllMs: number;
  answered: number;
  timeouts: number;
  refused: number;
  unclean: number;
  cpuUsPerReq: number;
  statuses: Record<string, number>;
  healthzMaxMs?: number;
  healthzFailed?: number;
  /** Refusals by the Retry-After they were told, in seconds. */
  retryAfterS: Record<string, number>;
}

/**
 * /healthz every 200 ms on one keep-alive connection of its own, opened
 * before the load (a connection opened mid-flood would measure the listen
 * queue: libuv accepts one per event-loop turn) and kept busy while the
 * load's connections open; only probes sent once the load runs count.
 * Gives the slowest answer and those not in within 1 s.
 */
function probeHealth(url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let counting = false;
  let running = true;
  let maxMs = 0;
  let failed = 0;
  const once = () =>
    new Promise<boolean>((resolve) => {
      const req = get(`${url}/healthz`, { agent, timeout: 1000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  const loop = (async () => {
    while (running) {
      const measured = counting;
      const started = performance.now();
      const ok = await once();
      if (measured) {
        maxMs = Math.max(maxMs, performance.now() - started);
        if (!ok) failed++;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    start: () => (counting = true),
    async stop(): Promise<{ maxMs: number; failed: number }> {
      running = false;
      await loop;
      agent.destroy();
      return { maxMs, failed };
    },
  };
}

async function phase(server: ServerProcess, connections: number, honourRetryAfter: boolean, probe: boolean): Promise<Phase> {
  const health = probe ? probeHealth(server.url) : undefined;
  // CPU from the first request of the load on: opening and confirming the connections is not what is measured.
  let cpuBefore = 0;
  const onStart = () => {
    cpuBefore = server.cpuMs();
    health?.start();
  };
  const retryAfterS: Record<string, number> = {};
  const onAnswer = (_status: number, s: number | undefined) => {
    if (s !== undefined) retryAfterS[s] = (retryAfterS[s] ?? 0) + 1;
  };
  const r = await rawLoad({ url: server.url, path: PATH, headers: ALICE, connections, durationMs: PHASE_MS, honourRetryAfter, onStart, onAnswer });
  const cpuMs = server.cpuMs() - cpuBefore;
  const h = await health?.stop();
  const answered = r.allMs.length;
  const seconds = r.durationMs / 1000;
  return {
    rps: answered / seconds,
    okPerSec: r.okMs.length / seconds,
    p50Ms: percentile(r.okMs, 50),
    p99OkMs: percentile(r.okMs, 99),
    p99AllMs: percentile(r.allMs, 99),
    answered,
    timeouts: r.statuses['timeout'] ?? 0,
    refused: r.statuses['503'] ?? 0,
    unclean: r.unclean,
    cpuUsPerReq: answered > 0 ? (cpuMs * 1000) / answered : 0,
    statuses: r.statuses,
    retryAfterS,
    ...(h ? { healthzMaxMs: h.maxMs, healthzFailed: h.failed } : {}),
  };
}

/**
 * CPU the admission itself costs per request, in µs: admit and the
 * answer's close on real node:http objects, one event-loop turn per 16
 * requests as at capacity, minus making and closing those objects alone;
 * the median of interleaved rounds. Resolvable where a 2 % difference
 * between two servers' CPU per request, in 10 ms ticks on shared cores, is not.
 */
async function admissionMicros(): Promise<number> {
  // The phases' result arrays are garbage now: collected here, not in the rounds below (npm run bench has --expose-gc).
  globalThis.gc?.();
  const admission = createAdmission({ config: loadConfig({}), tenantOf: () => undefined });
  admission.register(new Registry());
  const socket = new Socket();
  const headers = { authorization: ALICE.authorization };
  const run = async (admit: boolean, n: number) => {
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
      const req = new IncomingMessage(socket);
      req.headers = headers;
      const res = new ServerResponse(req);
      if (admit && admission.admit(req, res) !== true) throw new Error('the unloaded admission refused or queued a request');
      res.emit('close');
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / n;
  };
  await run(true, 20_000);
  const costs: number[] = [];
  for (let round = 0; round < 5; round++) {
    const base = await run(false, 100_000);
    costs.push((await run(true, 100_000)) - base);
  }
  admission.close();
  socket.destroy();
  return percentile(costs, 50);
}

const round = (phase: Phase) =>
  Object.fromEntries(Object.entries(phase).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 100) / 100 : v]));

/**
 * Overload (issue "admit what can be served in time"): one server with
 * admission control, one without (ADMISSION_ENABLED=false), both on the
 * uncached read as alice with rate limits off, phase by phase side by side:
 * capacity at 16 connections, then 2 000 connections (opened first) whose
 * clients wait as Retry-After says, then 2 000 that ignore it. A third
 * server sheds without spreading Retry-After (every refusal told 1 s),
 * in the honouring phase only, for what the spread is worth.
 */
export async function overload(dbFile: string): Promise<Record<string, BenchResult>> {
  const env = { CACHE_ENABLED: 'false', RATE_LIMIT_ENABLED: 'false', MAX_CONNECTIONS: String(CONNECTIONS * 2), MAX_CONNECTIONS_PER_ADDRESS: String(CONNECTIONS * 2) };
  const on = await spawnComposure(dbFile, { ...env, ADMISSION_ENABLED: 'true' });
  const off = await spawnComposure(dbFile, { ...env, ADMISSION_ENABLED: 'false' });
  // Shedding on, every refusal told the same 1 s (no spread): what the spread of Retry-After is worth.
  const flat = await spawnComposure(dbFile, { ...env, ADMISSION_ENABLED: 'true', ADMISSION_RETRY_AFTER_MAX_S: '1' });
  try {
    // Warm-up of both (JIT, SQLite page cache).
    await phase(on, CAPACITY_CONNECTIONS, true, false);
    await phase(off, CAPACITY_CONNECTIONS, true, false);
    await phase(flat, CAPACITY_CONNECTIONS, true, false);
    const capOn = await phase(on, CAPACITY_CONNECTIONS, true, false);
    const capOff = await phase(off, CAPACITY_CONNECTIONS, true, false);
    const respectOn = await phase(on, CONNECTIONS, true, true);
    const respectFlat = await phase(flat, CONNECTIONS, true, false);
    const respectOff = await phase(off, CONNECTIONS, true, true);
    const ignoreOn = await phase(on, CONNECTIONS, false, true);
    const ignoreOff = await phase(off, CONNECTIONS, false, true);
    // The same capacity again, so the CPU ratio is a median of two interleaved pairs.
    const capOn2 = await phase(on, CAPACITY_CONNECTIONS, true, false);
    const capOff2 = await phase(off, CAPACITY_CONNECTIONS, true, false);
    const admissionUs = await admissionMicros();

    // Capacity measured twice, before and after the floods: their mean, so one noisy phase does not make the ratio.
    const capacity = (capOn.okPerSec + capOn2.okPerSec) / 2;
    const p99Bound = Math.max(5 * capOn.p99OkMs, 250);
    const inTurnMs = (CONNECTIONS / capacity) * 1000;
    const cpuRatio = (capOn.cpuUsPerReq + capOn2.cpuUsPerReq) / (capOff.cpuUsPerReq + capOff2.cpuUsPerReq);
    const sides = (a: Phase, b: Phase) => ({ a: round(a), b: round(b) });
    const respectTotal = respectOn.answered + respectOn.timeouts;
    return {
      'overload/goodput': result({
        measures: `${CONNECTIONS} conns honouring Retry-After: 2xx/s ÷ capacity (${capacity.toFixed(0)}/s at ${CAPACITY_CONNECTIONS}, mean of two), shedding on (b: off)`,
        ratio: respectOn.okPerSec / capacity,
        target: 0.8,
        comparison: '>=',
        ...sides(respectOn, respectOff),
        extra: {
          offRatio: respectOff.okPerSec / ((capOff.okPerSec + capOff2.okPerSec) / 2),
          unspreadRatio: respectFlat.okPerSec / capacity,
          unspread: round(respectFlat),
        },
      }),
      'overload/p99': result({
        measures: `${CONNECTIONS} conns honouring Retry-After: p99 of 2xx ÷ max(5 × p99 at capacity, 250 ms) = ${p99Bound.toFixed(0)} ms`,
        ratio: respectOn.p99OkMs / p99Bound,
        target: 1,
        comparison: '<=',
        ...sides(respectOn, respectOff),
        extra: { p99OkMsOn: respectOn.p99OkMs, p99OkMsOff: respectOff.p99OkMs, p99AtCapacityMs: capOn.p99OkMs },
      }),
      'overload/timeouts': result({
        measures: `${CONNECTIONS} conns honouring Retry-After: timeouts (2 s) ÷ requests, shedding on; every 503 clean (Retry-After, overloaded)`,
        ratio: respectTotal > 0 ? respectOn.timeouts / respectTotal : 1,
        target: 0.01,
        comparison: '<=',
        ...sides(respectOn, respectOff),
        extra: { uncleanRefusals: respectOn.unclean + ignoreOn.unclean, offTimeouts: respectOff.timeouts },
      }),
      'overload/healthz': result({
        measures: `/healthz during ${CONNECTIONS} conns honouring Retry-After: slowest answer ÷ 1 s, shedding on`,
        ratio: (respectOn.healthzMaxMs ?? 0) / 1000 + (respectOn.healthzFailed ?? 0),
        target: 1,
        comparison: '<=',
        ...sides(respectOn, respectOff),
        extra: { healthzMaxMsOff: respectOff.healthzMaxMs, healthzFailedOff: respectOff.healthzFailed },
      }),
      'overload/ignore-retry-after': result({
        measures: `${CONNECTIONS} conns ignoring Retry-After: p99 of all answers ÷ half of serving them all in turn (${(inTurnMs / 2).toFixed(0)} ms); none unanswered`,
        ratio: ignoreOn.timeouts > 0 ? Infinity : ignoreOn.p99AllMs / (inTurnMs / 2),
        target: 1,
        comparison: '<=',
        ...sides(ignoreOn, ignoreOff),
        extra: { p99AllMsOn: ignoreOn.p99AllMs, p99AllMsOff: ignoreOff.p99AllMs, timeoutsOn: ignoreOn.timeouts, timeoutsOff: ignoreOff.timeouts },
      }),
      'overload/admission-cpu': result({
        measures: `server CPU per request at capacity (${CAPACITY_CONNECTIONS} conns), admission on ÷ off (cost of admission ≤ 2 %)`,
        ratio: cpuRatio,
        target: 1.02,
        comparison: '<=',
        ...sides(capOn, capOff),
        extra: { cpuUsPerReqOn: [capOn.cpuUsPerReq, capOn2.cpuUsPerReq], cpuUsPerReqOff: [capOff.cpuUsPerReq, capOff2.cpuUsPerReq] },
      }),
      'overload/admission-cost': result({
        measures: `admission's own CPU per request (${admissionUs.toFixed(2)} µs, in-process on node:http objects) ÷ server CPU per request at capacity, shedding off`,
        ratio: admissionUs / ((capOff.cpuUsPerReq + capOff2.cpuUsPerReq) / 2),
        target: 0.02,
        comparison: '<=',
        ...sides(capOn, capOff),
        extra: { admissionUs, cpuUsPerReqOff: [capOff.cpuUsPerReq, capOff2.cpuUsPerReq] },
      }),
    };
  } finally {
    await Promise.all([on.stop(), off.stop(), flat.stop()]);
  }
}
