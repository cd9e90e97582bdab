import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaimLostError, type Claim, type IdempotencyStore } from '../../../server/idempotency/store.js';
import { tempDatabase, type TempDatabase } from '../../helpers/db.js';

let db: TempDatabase;
let store: IdempotencyStore;
let clock = 1_000_000;
const scope = { tenantId: 1, procedure: 'payments.create', key: 'k-1' };
const ok = { status: 200, body: '{"result":{"data":{"id":1}}}' };

beforeEach(async () => {
  db = await tempDatabase();
  db.sqlite.prepare("INSERT INTO tenants (id, name) VALUES (1, 'alice')").run();
  db.sqlite.exec('CREATE TABLE effects (n INTEGER)');
  clock = 1_000_000;
  store = db.idempotencyStore({ lockMs: 500, now: () => clock });
});
afterEach(() => db[Symbol.asyncDispose]());

const effects = () => (db.sqlite.prepare('SELECT count(*) AS n FROM effects').get() as { n: number }).n;
const addEffect = async () => {
  db.sqlite.prepare('INSERT INTO effects VALUES (1)').run();
};
const rows = () => (db.sqlite.prepare('SELECT count(*) AS n FROM idempotency_keys').get() as { n: number }).n;

async function claimed(fp = 'fp') {
  const outcome = await store.claim(scope, fp);
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${outcome.kind}`);
  return outcome.claim;
}

/** What another server process sharing the file does: store the key's answer through its own connection. */
function storeFromAnotherProcess(fp: string, body: string) {
  const other = new Database(db.file);
  try {
    other
      .prepare(
        `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
         VALUES (?, ?, ?, ?, 'done', 200, ?, ?, ?)`,
      )
      .run(scope.tenantId, scope.procedure, scope.key, fp, body, clock, clock);
  } finally {
    other.close();
  }
}

describe('idempotency store', () => {
  it('claims a free key once without writing; a second claim sees it in flight, or a mismatch for another fingerprint', async () => {
    await claimed();
    expect(rows()).toBe(0);
    expect(store.isHeld(scope)).toBe(true);
    expect((await store.claim(scope, 'fp')).kind).toBe('in_flight');
    expect((await store.claim(scope, 'other')).kind).toBe('mismatch');
  });

  it('stores the effect and its response together, then answers done with that response', async () => {
    const claim = await claimed();
    const { value } = await store.commit(claim, async () => (await addEffect(), 42), () => ok);
    expect(value).toBe(42);
    expect(effects()).toBe(1);
    expect(store.isHeld(scope)).toBe(false);
    expect(await store.find(scope)).toMatchObject({ state: 'done', fingerprint: 'fp', responseStatus: 200, lockedAt: claim.token });
    expect(await store.claim(scope, 'fp')).toEqual({ kind: 'done', response: ok });
    expect((await store.claim(scope, 'other')).kind).toBe('mismatch');
  });

  it('rolls the effect back and stores nothing when the effect throws; the key stays held until released', async () => {
    const claim = await claimed();
    await expect(
      store.commit(claim, async () => {
        await addEffect();
        throw new Error('boom');
      }, () => ok),
    ).rejects.toThrow('boom');
    expect(effects()).toBe(0);
    expect(rows()).toBe(0);
    expect((await store.claim(scope, 'fp')).kind).toBe('in_flight');
    expect(await store.release(claim)).toBe(true);
    expect(await store.claim(scope, 'fp')).toMatchObject({ kind: 'claimed', tookOver: false });
  });

  it('takes over a claim older than the lock, and fences the old holder out', async () => {
    const old = await claimed();
    clock += 499;
    expect((await store.claim(scope, 'fp')).kind).toBe('in_flight');
    clock += 1;
    const outcome = await store.claim(scope, 'fp');
    expect(outcome).toMatchObject({ kind: 'claimed', tookOver: true });
    // The old holder wakes up: its effect must not commit, and it cannot free or complete the key.
    await expect(store.commit(old, addEffect, () => ok)).rejects.toThrow(ClaimLostError);
    expect(effects()).toBe(0);
    expect(await store.complete(old, ok)).toBe(false);
    expect(await store.release(old)).toBe(false);
    expect(store.isHeld(scope)).toBe(true);
    if (outcome.kind !== 'claimed') throw new Error('unreachable');
    await store.commit(outcome.claim, addEffect, () => ok);
    expect(effects()).toBe(1);
  });

  it('does not let a finished holder release the next claim on its key, even within the same millisecond', async () => {
    const first = await claimed();
    await store.commit(first, addEffect, () => ok);
    db.sqlite.prepare('DELETE FROM idempotency_keys').run();
    const next = await claimed();
    expect(next.token).toBe(first.token);
    expect(await store.release(first)).toBe(false);
    expect(store.isHeld(scope)).toBe(true);
  });

  it("rolls the effect back when another process stored the key's answer between claim and commit", async () => {
    const claim = await claimed();
    storeFromAnotherProcess('fp', '{"result":{"data":{"id":99}}}');
    const thrown = await store.commit(claim, addEffect, () => ok).then(
      () => null,
      (err: unknown) => err,
    );
    expect(thrown).toBeInstanceOf(ClaimLostError);
    expect((thrown as ClaimLostError).reason).toBe('answered');
    expect(effects()).toBe(0);
    expect(store.isHeld(scope)).toBe(false);
    expect(await store.claim(scope, 'fp')).toEqual({ kind: 'done', response: { status: 200, body: '{"result":{"data":{"id":99}}}' } });
  });

  it("keeps the answer another process stored first when completing without an effect", async () => {
    const claim = await claimed();
    storeFromAnotherProcess('fp', '{"theirs":true}');
    expect(await store.complete(claim, { status: 404, body: '{"ours":true}' })).toBe(false);
    expect((await store.find(scope))?.responseBody).toBe('{"theirs":true}');
    expect(store.isHeld(scope)).toBe(false);
  });

  it('rewrites the body of the answer its own commit stored', async () => {
    const claim = await claimed();
    await store.commit(claim, addEffect, () => ok);
    expect(await store.rewrite(claim, '{"rewritten":true}')).toBe(true);
    expect((await store.find(scope))?.responseBody).toBe('{"rewritten":true}');
  });

  it('honours an in_flight row an older version left while inside the lock, and replaces it after', async () => {
    db.sqlite
      .prepare(
        `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, locked_at, created_at)
         VALUES (1, 'payments.create', 'k-1', 'fp', 'in_flight', ?, ?)`,
      )
      .run(clock, clock);
    expect((await store.claim(scope, 'fp')).kind).toBe('in_flight');
    expect((await store.claim(scope, 'other')).kind).toBe('mismatch');
    clock += 500;
    const outcome = await store.claim(scope, 'fp');
    expect(outcome).toMatchObject({ kind: 'claimed', tookOver: true });
    if (outcome.kind !== 'claimed') throw new Error('unreachable');
    await store.commit(outcome.claim, addEffect, () => ok);
    expect(await store.find(scope)).toMatchObject({ state: 'done', responseBody: ok.body, lockedAt: clock });
    expect(effects()).toBe(1);
  });

  it('keeps keys apart by tenant and procedure', async () => {
    db.sqlite.prepare("INSERT INTO tenants (id, name) VALUES (2, 'bob')").run();
    await claimed();
    expect((await store.claim({ ...scope, tenantId: 2 }, 'other')).kind).toBe('claimed');
    expect((await store.claim({ ...scope, procedure: 'users.create' }, 'other')).kind).toBe('claimed');
  });
});

/** Commits with an effect that counts its runs; returns the error it was refused with. */
async function refusal(claim: Claim, during?: () => Promise<void>) {
  let runs = 0;
  const thrown = await store
    .commit(
      claim,
      async () => {
        runs++;
        db.sqlite.prepare('INSERT INTO effects VALUES (1)').run();
        await during?.();
      },
      () => ok,
    )
    .then(
      () => null,
      (err: unknown) => err,
    );
  if (!(thrown instanceof ClaimLostError)) throw new Error(`expected a ClaimLostError, got ${String(thrown)}`);
  return { reason: thrown.reason, runs };
}

describe('idempotency store: a holder fenced out', () => {
  it('never runs the effect of a claim taken over before its commit', async () => {
    const old = await claimed();
    clock += 500;
    await claimed();
    expect(await refusal(old)).toEqual({ reason: 'taken-over', runs: 0 });
  });

  it('never runs the effect of a claim it released', async () => {
    const claim = await claimed();
    expect(await store.release(claim)).toBe(true);
    expect(await refusal(claim)).toEqual({ reason: 'taken-over', runs: 0 });
    expect(store.isHeld(scope)).toBe(false);
  });

  it("never runs the effect once another process has stored the key's answer", async () => {
    const claim = await claimed();
    storeFromAnotherProcess('fp', '{}');
    expect(await refusal(claim)).toEqual({ reason: 'answered', runs: 0 });
  });

  it('rolls back, as taken over, an effect whose claim was taken over while it ran', async () => {
    const old = await claimed();
    const outcome = await refusal(old, async () => {
      clock += 500;
      await claimed();
    });
    expect(outcome).toEqual({ reason: 'taken-over', runs: 1 });
    expect(effects()).toBe(0);
    expect(store.isHeld(scope)).toBe(true);
  });
});
