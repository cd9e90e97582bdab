import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Repos } from '../repos/repos.js';
import { checkout, rethrow, type Session } from '../db/postgres/pool.js';
import {
  ClaimLostError,
  type Claim,
  type ClaimOutcome,
  type Committed,
  type IdempotencyStore,
  type KeyRow,
  type KeyScope,
  type StoredResponse,
} from './store.js';

/*
 * Idempotency across instances on PostgreSQL: one transaction per keyed
 * request. The claim is `pg_try_advisory_xact_lock` on a hash of the key's
 * scope, taken when the request starts; the effect runs inside a savepoint
 * of that transaction; the stored answer is inserted in it; one COMMIT
 * makes claim, effect and answer durable together and frees the lock.
 *
 * Why this design and not Brandur Leach's atomic phases ("Implementing
 * Stripe-like Idempotency Keys in Postgres": a key row with `locked_at` and
 * a recovery point, each phase its own transaction):
 * - A request still running holds the lock, so a retry on any instance
 *   gets 409 at once, from the lock, not after running its handler.
 * - A crashed instance's connection drops, PostgreSQL ends its transaction
 *   and the lock is gone: its client's retry runs at once. A claim row
 *   would stay held until its `locked_at` aged past the lock time.
 * - One commit per request instead of three or more, and no recovery-point
 *   state machine per procedure: our effects are one local transaction
 *   (the rates call happens before the commit, and is read-only), which is
 *   the case atomic phases reduce to anyway.
 * - A hung handler is taken over by PostgreSQL itself:
 *   `idle_in_transaction_session_timeout` (set per transaction to
 *   IDEMPOTENCY_LOCK_MS) ends a session idle inside its transaction that
 *   long, which rolls the late holder's write back and frees the key.
 * The price: each running keyed request holds a pooled connection for its
 * whole duration (DB_POOL_SIZE bounds concurrent keyed writes per
 * instance; a full pool is a 503 within DB_TIMEOUT_MS), where atomic
 * phases hold one only per phase. For payments, being unable to double-run
 * is worth the connection.
 *
 * The table holds only answered keys (`state = 'done'`): a running claim is
 * the lock, never a row.
 */

export interface PostgresIdempotencyStoreOptions {
  pool: pg.Pool;
  /** The repositories bound to one checked-out connection (cached per connection). */
  reposFor: (client: pg.PoolClient) => Repos;
  /** IDEMPOTENCY_LOCK_MS: the idle time after which PostgreSQL ends a claim's session. */
  lockMs: number;
  now: () => number;
}

/** A claim's open transaction on its own connection. */
interface Held {
  readonly fingerprint: string;
  readonly session: Session;
  /** Set once the transaction has ended (committed or rolled back). */
  finished: boolean;
}

const FIND = `SELECT state, fingerprint, response_status AS "responseStatus", response_body AS "responseBody", locked_at AS "lockedAt"
  FROM idempotency_keys WHERE tenant_id = $1 AND procedure = $2 AND key = $3`;
// Nothing else can insert this key while we hold its lock; DO NOTHING only guards against a row from a foreign writer.
const STORE = `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
  VALUES ($1, $2, $3, $4, 'done', $5, $6, $7, $8) ON CONFLICT DO NOTHING`;
const REWRITE = `UPDATE idempotency_keys SET response_body = $1
  WHERE tenant_id = $2 AND procedure = $3 AND key = $4 AND state = 'done' AND locked_at = $5`;
// SKIP LOCKED: instances purging at once take disjoint batches instead of queueing on each other's rows.
const PURGE = `DELETE FROM idempotency_keys WHERE (tenant_id, procedure, key) IN (
  SELECT tenant_id, procedure, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`;

type Row = Omit<KeyRow, 'lockedAt'> & { lockedAt: string | number };
const toKeyRow = (row: Row): KeyRow => ({ ...row, lockedAt: Number(row.lockedAt) });

/** The advisory lock's key: 64 bits of SHA-256 over the scope, as a signed bigint literal. */
export function lockKeyOf(scope: KeyScope): string {
  const digest = createHash('sha256').update(`${scope.tenantId}\n${scope.procedure}\n${scope.key}`).digest();
  return digest.readBigInt64BE(0).toString();
}

export function createPostgresIdempotencyStore(opts: PostgresIdempotencyStoreOptions): IdempotencyStore {
  const { pool, reposFor, lockMs, now } = opts;
  const params = (s: KeyScope) => [s.tenantId, s.procedure, s.key];
  const claims = new WeakMap<Claim, Held>();
  // This process's running claims by scope: a duplicate arriving here is refused without a connection.
  const local = new Map<string, Claim>();
  const idOf = (s: KeyScope) => `${s.tenantId}\n${s.procedure}\n${s.key}`;

  const live = (claim: Claim): Held | undefined => {
    const held = claims.get(claim);
    return held && !held.finished ? held : undefined;
  };
  const finish = (claim: Claim, held: Held, destroy = false) => {
    held.finished = true;
    held.session.end(destroy);
    if (local.get(idOf(claim)) === claim) local.delete(idOf(claim));
  };
  const rollback = async (claim: Claim, held: Held) => {
    let broken = false;
    await held.session.client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    finish(claim, held, broken);
  };
  // The session ended under us (idle timeout, a dropped connection): the
  // lock went with it, and whatever this request wrote was rolled back.
  const lost = (claim: Claim, held: Held): ClaimLostError => {
    finish(claim, held, true);
    return new ClaimLostError(claim, 'taken-over');
  };
  const storeAnswer = async (claim: Claim, held: Held, response: StoredResponse): Promise<boolean> => {
    const at = now();
    const inserted = await held.session.client.query({
      name: 'idempotency_store',
      text: STORE,
      values: [...params(claim), held.fingerprint, response.status, response.body, claim.token, at],
    });
    return inserted.rowCount === 1;
  };

  return {
    async find(scope) {
      const { rows } = await pool.query<Row>({ name: 'idempotency_find', text: FIND, values: params(scope) }).catch(rethrow);
      return rows[0] ? toKeyRow(rows[0]) : undefined;
    },

    isHeld: (scope) => local.has(idOf(scope)),

    async claim(scope: KeyScope, fp: string): Promise<ClaimOutcome> {
      const at = now();
      const mine = local.get(idOf(scope));
      const mineHeld = mine ? live(mine) : undefined;
      if (mine && mineHeld && at - mine.token < lockMs) return mineHeld.fingerprint === fp ? { kind: 'in_flight' } : { kind: 'mismatch' };
      const session = await checkout(pool);
      const { client } = session;
      try {
        // One round trip: open the transaction, arm the takeover, try the
        // lock, open the effect's savepoint, then read the key's row. Each
        // statement of a simple query takes its own snapshot under READ
        // COMMITTED, so the read sees whatever the lock's last holder
        // committed before releasing it. Only numbers and escaped literals
        // are interpolated.
        const results = (await client.query(
          `BEGIN;
           SELECT set_config('idle_in_transaction_session_timeout', '${Math.max(1, Math.floor(lockMs))}', true);
           SELECT pg_try_advisory_xact_lock(${lockKeyOf(scope)}) AS locked;
           SAVEPOINT effect;
           SELECT state, fingerprint, response_status AS "responseStatus", response_body AS "responseBody", locked_at AS "lockedAt"
             FROM idempotency_keys
             WHERE tenant_id = ${Number(scope.tenantId)} AND procedure = ${client.escapeLiteral(scope.procedure)} AND key = ${client.escapeLiteral(scope.key)};`,
        )) as unknown as pg.QueryResult[];
        const locked = (results[2]?.rows[0] as { locked?: boolean } | undefined)?.locked === true;
        const row = results[4]?.rows[0] as Row | undefined;
        const outcome: ClaimOutcome | null =
          row?.state === 'done'
            ? row.fingerprint === fp
              ? { kind: 'done', response: { status: row.responseStatus ?? 500, body: row.responseBody ?? '' } }
              : { kind: 'mismatch' }
            : locked
              ? null
              : // Held by a running request on another instance (whose input we cannot see).
                { kind: 'in_flight' };
        if (outcome) {
          await client.query('ROLLBACK');
          session.end();
          return outcome;
        }
        const claim: Claim = { ...scope, token: at };
        claims.set(claim, { fingerprint: fp, session, finished: false });
        local.set(idOf(scope), claim);
        // A local claim past the lock whose session PostgreSQL has ended: this request took its key over.
        return { kind: 'claimed', claim, tookOver: mine !== undefined };
      } catch (err) {
        session.end(true);
        return rethrow(err);
      }
    },

    async commit<T>(claim: Claim, effect: (tx: Repos) => Promise<T>, encode: (value: T) => StoredResponse): Promise<Committed<T>> {
      const held = live(claim);
      if (!held) throw new ClaimLostError(claim, 'taken-over');
      if (held.session.failure) throw lost(claim, held);
      const { client } = held.session;
      let value: T;
      try {
        value = await effect(reposFor(client));
      } catch (err) {
        if (held.session.failure) throw lost(claim, held);
        // Back to the savepoint: the lock stays, and the middleware can still store this error as the answer.
        try {
          await client.query('ROLLBACK TO SAVEPOINT effect');
        } catch (undo) {
          finish(claim, held, true);
          return rethrow(undo);
        }
        throw err;
      }
      try {
        const response = encode(value);
        if (!(await storeAnswer(claim, held, response))) {
          await rollback(claim, held);
          throw new ClaimLostError(claim, 'answered');
        }
        await client.query('COMMIT');
        finish(claim, held);
        return { value, response };
      } catch (err) {
        if (err instanceof ClaimLostError) throw err;
        if (held.session.failure) throw lost(claim, held);
        await rollback(claim, held);
        return rethrow(err);
      }
    },

    async complete(claim, response) {
      const held = live(claim);
      if (!held || held.session.failure) {
        if (held) finish(claim, held, true);
        return false;
      }
      try {
        const stored = await storeAnswer(claim, held, response);
        await held.session.client.query(stored ? 'COMMIT' : 'ROLLBACK');
        finish(claim, held);
        return stored;
      } catch (err) {
        finish(claim, held, true);
        return rethrow(err);
      }
    },

    async rewrite(claim, body) {
      const result = await pool
        .query({ name: 'idempotency_rewrite', text: REWRITE, values: [body, ...params(claim), claim.token] })
        .catch(rethrow);
      return result.rowCount === 1;
    },

    async release(claim) {
      const held = live(claim);
      if (!held) return false;
      await rollback(claim, held);
      return true;
    },

    async purgeBatch(createdBefore, limit) {
      const result = await pool.query({ name: 'idempotency_purge', text: PURGE, values: [createdBefore, limit] }).catch(rethrow);
      return result.rowCount ?? 0;
    },
  };
}
