import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClaimLostError, type Claim, type IdempotencyStore } from '../../../server/idempotency/store.js';
import { tempDatabase, type TempDatabase } from '../../helpers/db.js';

let db: TempDatabase;
let store: IdempotencyStore;
let clock = 1_000_000;
const scope = { tenantId: 1, procedure: 'payments.create', key: 'k-fence' };
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

async function claimed(): Promise<Claim> {
  const outcome = await store.claim(scope, 'fp');
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${outcome.kind}`);
  return outcome.claim;
}

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
    const other = new Database(db.file);
    try {
      other
        .prepare(
          `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
           VALUES (1, 'payments.create', 'k-fence', 'fp', 'done', 200, '{}', ?, ?)`,
        )
        .run(clock, clock);
    } finally {
      other.close();
    }
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
