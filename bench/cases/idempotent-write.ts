import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { successResponse } from '../../server/idempotency/trpc-wire.js';
import { fingerprint } from '../../server/idempotency/fingerprint.js';
import { spawnComposure } from '../support/composure.js';
import { benchDatabase, openBench, type Dialect } from '../support/dialects.js';
import { median } from '../support/load.js';
import type { ServerProcess } from '../support/spawn-server.js';
import { result, type BenchResult } from '../support/types.js';

const OPS = 5000;

/** Transactions per second for `op`, over OPS calls one after another. */
async function perSecond(op: (i: number) => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) await op(i);
  return OPS / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function inProcess(dialect: Dialect, runs: number): Promise<{ keyed: number; plain: number }> {
  const target = await benchDatabase(dialect, 'writes', 10);
  const database = await openBench(target.url);
  const store = database.idempotencyStore({ lockMs: 30_000, now: Date.now });
  const row = { tenantId: 1, userId: 1, amountCents: 100, currency: 'EUR' };
  // The production path of a keyed create, as the middleware runs it. SQLite:
  // claim (in memory, after a read of the key's row), then the insert and the
  // stored response in one BEGIN IMMEDIATE transaction. PostgreSQL: the claim
  // opens the transaction (advisory xact lock), the insert runs in a savepoint,
  // the stored response and COMMIT follow on the same connection.
  const keyed = async (i: number) => {
    const scope = { tenantId: 1, procedure: 'payments.create', key: `bench-${runs}-${i}-${randomUUID()}` };
    const outcome = await store.claim(scope, fingerprint({ ...row, amountCents: i + 1 }));
    if (outcome.kind !== 'claimed') throw new Error(`unexpected claim outcome ${outcome.kind}`);
    await store.commit(outcome.claim, (tx) => tx.payments.insert(row), successResponse);
  };
  const plain = () => database.transaction((tx) => tx.payments.insert(row));
  const k: number[] = [];
  const p: number[] = [];
  for (let r = 0; r < runs; r++) {
    k.push(await perSecond(keyed));
    p.push(await perSecond(plain));
  }
  await database.close();
  await target.drop();
  return { keyed: median(k), plain: median(p) };
}

/** Requests per second, and the server's CPU per request (µs): autocannon shares the cores. */
async function overHttp(server: ServerProcess, keyed: boolean): Promise<{ rps: number; cpuUsPerReq: number }> {
  const cpuBefore = server.cpuMs();
  const r = await autocannon({
    url: server.url,
    connections: 16,
    duration: 3,
    requests: [
      {
        method: 'POST',
        path: '/trpc/users.create',
        setupRequest: (req) => {
          const id = randomUUID();
          return {
            ...req,
            headers: {
              authorization: 'Bearer demo-alice',
              'content-type': 'application/json',
              ...(keyed ? { 'idempotency-key': id } : {}),
            },
            body: JSON.stringify({ name: 'Bench', email: `${id}@bench.example` }),
          };
        },
      },
    ],
  });
  if (r.non2xx > 0) throw new Error(`${r.non2xx} non-2xx answers in the write benchmark`);
  return { rps: r.requests.average, cpuUsPerReq: r.requests.total > 0 ? ((server.cpuMs() - cpuBefore) * 1000) / r.requests.total : Number.NaN };
}

/**
 * Keyed create against a plain insert on `dialect` (SQLite unless told):
 * in process (transactions/s, the target) and over HTTP.
 */
export async function idempotentWrite(runs: number, dialect: Dialect = 'sqlite'): Promise<BenchResult> {
  const local = await inProcess(dialect, runs);
  const target = await benchDatabase(dialect, 'writes-http', 100);
  const server = await spawnComposure(target.url);
  try {
    const keyed: Array<{ rps: number; cpuUsPerReq: number }> = [];
    const plain: Array<{ rps: number; cpuUsPerReq: number }> = [];
    for (let r = 0; r < runs; r++) {
      keyed.push(await overHttp(server, true));
      plain.push(await overHttp(server, false));
    }
    const rps = (rs: typeof keyed) => median(rs.map((r) => r.rps));
    const cpu = (rs: typeof keyed) => median(rs.map((r) => r.cpuUsPerReq));
    return result({
      measures: `keyed create (claim + insert + stored response) vs plain insert on ${dialect}, in process; over HTTP beside it`,
      ratio: local.keyed / local.plain,
      target: 0.7,
      comparison: '>=',
      a: { keyedPerSec: local.keyed, httpKeyedRps: rps(keyed), httpKeyedCpuUsPerReq: cpu(keyed) },
      b: { plainPerSec: local.plain, httpPlainRps: rps(plain), httpPlainCpuUsPerReq: cpu(plain) },
      extra: { httpRatio: rps(keyed) / rps(plain) },
    });
  } finally {
    await server.stop();
    await target.drop();
  }
}
