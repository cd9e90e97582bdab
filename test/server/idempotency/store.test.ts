import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaimLostError, createIdempotencyStore, type IdempotencyStore } from '../../../server/idempotency/store.js';
import { tempDatabase } from '../../helpers/db.js';

let db: ReturnType<typeof tempDatabase>;
let store: IdempotencyStore;
let clock = 1_000_000;
const scope = { tenantId: 1, procedure: 'payments.create', key: 'k-1' };
const ok = { status: 200, body: '{"result":{"data":{"id":1}}}' };

beforeEach(() => {
  db = tempDatabase();
  db.sqlite.prepare("INSERT INTO tenants (id, name) VALUES (1, 'alice')").run();
  db.sqlite.exec('CREATE TABLE effects (n INTEGER)');
  clock = 1_000_000;
  store = createIdempotencyStore({ sqlite: db.sqlite, lockMs: 500, now: () => clock });
});
afterEach(() => db[Symbol.dispose]());

const effects = () => (db.sqlite.prepare('SELECT count(*) AS n FROM effects').get() as { n: number }).n;
const addEffect = () => db.sqlite.prepare('INSERT INTO effects VALUES (1)').run();
const rows = () => (db.sqlite.prepare('SELECT count(*) AS n FROM idempotency_keys').get() as { n: number }).n;

function claimed(fp = 'fp') {
  const outcome = store.claim(scope, fp);
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
  it('claims a free key once without writing; a second claim sees it in flight, or a mismatch for another fingerprint', () => {
    claimed();
    expect(rows()).toBe(0);
    expect(store.isHeld(scope)).toBe(true);
    expect(store.claim(scope, 'fp').kind).toBe('in_flight');
    expect(store.claim(scope, 'other').kind).toBe('mismatch');
  });

  it('stores the effect and its response together, then answers done with that response', () => {
    const claim = claimed();
    const { value } = store.commit(claim, () => (addEffect(), 42), () => ok);
    expect(value).toBe(42);
    expect(effects()).toBe(1);
    expect(store.isHeld(scope)).toBe(false);
    expect(store.find(scope)).toMatchObject({ state: 'done', fingerprint: 'fp', responseStatus: 200, lockedAt: claim.token });
    expect(store.claim(scope, 'fp')).toEqual({ kind: 'done', response: ok });
    expect(store.claim(scope, 'other').kind).toBe('mismatch');
  });

  it('rolls the effect back and stores nothing when the effect throws; the key stays held until released', () => {
    const claim = claimed();
    expect(() =>
      store.commit(claim, () => {
        addEffect();
        throw new Error('boom');
      }, () => ok),
    ).toThrow('boom');
    expect(effects()).toBe(0);
    expect(rows()).toBe(0);
    expect(store.claim(scope, 'fp').kind).toBe('in_flight');
    expect(store.release(claim)).toBe(true);
    expect(store.claim(scope, 'fp')).toMatchObject({ kind: 'claimed', tookOver: false });
  });

  it('takes over a claim older than the lock, and fences the old holder out', () => {
    const old = claimed();
    clock += 499;
    expect(store.claim(scope, 'fp').kind).toBe('in_flight');
    clock += 1;
    const outcome = store.claim(scope, 'fp');
    expect(outcome).toMatchObject({ kind: 'claimed', tookOver: true });
    // The old holder wakes up: its effect must not commit, and it cannot free or complete the key.
    expect(() => store.commit(old, addEffect, () => ok)).toThrow(ClaimLostError);
    expect(effects()).toBe(0);
    expect(store.complete(old, ok)).toBe(false);
    expect(store.release(old)).toBe(false);
    expect(store.isHeld(scope)).toBe(true);
    if (outcome.kind !== 'claimed') throw new Error('unreachable');
    store.commit(outcome.claim, addEffect, () => ok);
    expect(effects()).toBe(1);
  });

  it('does not let a finished holder release the next claim on its key, even within the same millisecond', () => {
    const first = claimed();
    store.commit(first, addEffect, () => ok);
    db.sqlite.prepare('DELETE FROM idempotency_keys').run();
    const next = claimed();
    expect(next.token).toBe(first.token);
    expect(store.release(first)).toBe(false);
    expect(store.isHeld(scope)).toBe(true);
  });

  it("rolls the effect back when another process stored the key's answer between claim and commit", () => {
    const claim = claimed();
    storeFromAnotherProcess('fp', '{"result":{"data":{"id":99}}}');
    const thrown = (() => {
      try {
        store.commit(claim, addEffect, () => ok);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(thrown).toBeInstanceOf(ClaimLostError);
    expect((thrown as ClaimLostError).reason).toBe('answered');
    expect(effects()).toBe(0);
    expect(store.isHeld(scope)).toBe(false);
    expect(store.claim(scope, 'fp')).toEqual({ kind: 'done', response: { status: 200, body: '{"result":{"data":{"id":99}}}' } });
  });

  it("keeps the answer another process stored first when completing without an effect", () => {
    const claim = claimed();
    storeFromAnotherProcess('fp', '{"theirs":true}');
    expect(store.complete(claim, { status: 404, body: '{"ours":true}' })).toBe(false);
    expect(store.find(scope)?.responseBody).toBe('{"theirs":true}');
    expect(store.isHeld(scope)).toBe(false);
  });

  it('rewrites the body of the answer its own commit stored', () => {
    const claim = claimed();
    store.commit(claim, addEffect, () => ok);
    expect(store.rewrite(claim, '{"rewritten":true}')).toBe(true);
    expect(store.find(scope)?.responseBody).toBe('{"rewritten":true}');
  });

  it('honours an in_flight row an older version left while inside the lock, and replaces it after', () => {
    db.sqlite
      .prepare(
        `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, locked_at, created_at)
         VALUES (1, 'payments.create', 'k-1', 'fp', 'in_flight', ?, ?)`,
      )
      .run(clock, clock);
    expect(store.claim(scope, 'fp').kind).toBe('in_flight');
    expect(store.claim(scope, 'other').kind).toBe('mismatch');
    clock += 500;
    const outcome = store.claim(scope, 'fp');
    expect(outcome).toMatchObject({ kind: 'claimed', tookOver: true });
    if (outcome.kind !== 'claimed') throw new Error('unreachable');
    store.commit(outcome.claim, addEffect, () => ok);
    expect(store.find(scope)).toMatchObject({ state: 'done', responseBody: ok.body, lockedAt: clock });
    expect(effects()).toBe(1);
  });

  it('keeps keys apart by tenant and procedure', () => {
    db.sqlite.prepare("INSERT INTO tenants (id, name) VALUES (2, 'bob')").run();
    claimed();
    expect(store.claim({ ...scope, tenantId: 2 }, 'other').kind).toBe('claimed');
    expect(store.claim({ ...scope, procedure: 'users.create' }, 'other').kind).toBe('claimed');
  });
});
