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

function claimed(fp = 'fp') {
  const outcome = store.claim(scope, fp);
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${outcome.kind}`);
  return outcome.claim;
}

describe('idempotency store', () => {
  it('claims a free key once; a second claim sees it in flight, or a mismatch for another fingerprint', () => {
    claimed();
    expect(store.claim(scope, 'fp').kind).toBe('in_flight');
    expect(store.claim(scope, 'other').kind).toBe('mismatch');
  });

  it('stores the effect and its response together, then answers done with that response', () => {
    const claim = claimed();
    const { value } = store.commit(claim, () => (addEffect(), 42), () => ok);
    expect(value).toBe(42);
    expect(effects()).toBe(1);
    expect(store.claim(scope, 'fp')).toEqual({ kind: 'done', response: ok });
    expect(store.claim(scope, 'other').kind).toBe('mismatch');
  });

  it('rolls the effect back and keeps the key in flight when the effect throws', () => {
    const claim = claimed();
    expect(() =>
      store.commit(claim, () => {
        addEffect();
        throw new Error('boom');
      }, () => ok),
    ).toThrow('boom');
    expect(effects()).toBe(0);
    expect(store.find(scope)?.state).toBe('in_flight');
    expect(store.release(claim)).toBe(true);
    expect(store.find(scope)).toBeUndefined();
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
    if (outcome.kind !== 'claimed') throw new Error('unreachable');
    store.commit(outcome.claim, addEffect, () => ok);
    expect(effects()).toBe(1);
  });

  it('keeps keys apart by tenant and procedure', () => {
    db.sqlite.prepare("INSERT INTO tenants (id, name) VALUES (2, 'bob')").run();
    claimed();
    expect(store.claim({ ...scope, tenantId: 2 }, 'other').kind).toBe('claimed');
    expect(store.claim({ ...scope, procedure: 'users.create' }, 'other').kind).toBe('claimed');
  });
});
