import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { openSqlite } from '../../server/db/sqlite/database.js';
import { seed } from '../../server/db/seed.js';
import { successResponse } from '../../server/idempotency/trpc-wire.js';
import { fingerprint } from '../../server/idempotency/fingerprint.js';
import { spawnComposure } from '../support/composure.js';
import { TMP, seededDatabase } from '../support/fixtures.js';
import { median } from '../support/load.js';
import { result, type BenchResult } from '../support/types.js';

const OPS = 5000;

/** Transactions per second for `op`, over OPS calls one after another. */
async function perSecond(op: (i: number) => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) await op(i);
  return OPS / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function inProcess(runs: number): Promise<{ keyed: number; plain: number }> {
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, 'writes.db');
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  const database = await openSqlite(file, { log: pino({ level: 'silent' }) });
  seed(database.sqlite, { users: 10 });
  const store = database.idempotencyStore({ lockMs: 30_000, now: Date.now });
  const row = { tenantId: 1, userId: 1, amountCents: 100, currency: 'EUR' };
  // The production path of a keyed create, as the middleware runs it: claim
  // (in memory, after a read of the key's row), then the insert and the stored
  // response in one BEGIN IMMEDIATE transaction.
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
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  return { keyed: median(k), plain: median(p) };
}

async function overHttp(url: string, keyed: boolean): Promise<number> {
  const r = await autocannon({
    url,
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
  return r.requests.average;
}

/** Keyed create against a plain insert: in process (transactions/s, the target) and over HTTP. */
export async function idempotentWrite(runs: number): Promise<BenchResult> {
  const local = await inProcess(runs);
  const server = await spawnComposure(seededDatabase('writes-http', 100));
  try {
    const keyed: number[] = [];
    const plain: number[] = [];
    for (let r = 0; r < runs; r++) {
      keyed.push(await overHttp(server.url, true));
      plain.push(await overHttp(server.url, false));
    }
    return result({
      measures: 'keyed create (claim + insert + stored response) vs plain insert, in process; over HTTP beside it',
      ratio: local.keyed / local.plain,
      target: 0.7,
      comparison: '>=',
      a: { keyedPerSec: local.keyed, httpKeyedRps: median(keyed) },
      b: { plainPerSec: local.plain, httpPlainRps: median(plain) },
      extra: { httpRatio: median(keyed) / median(plain) },
    });
  } finally {
    await server.stop();
  }
}
