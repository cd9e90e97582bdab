import type Database from 'better-sqlite3';
import type { IdempotencyKeyRow } from '../../drizzle/schema.js';

/** Who may use a key: one tenant, one procedure (DESIGN.md "Idempotency"). */
export interface KeyScope {
  tenantId: number;
  procedure: string;
  key: string;
}

/** An answer as the client received it: status and body bytes. */
export interface StoredResponse {
  status: number;
  body: string;
}

/**
 * A key held by one request. `token` is the row's `locked_at` when claimed:
 * a fencing token, so a holder whose claim was taken over can no longer
 * complete or release it.
 */
export interface Claim extends KeyScope {
  readonly token: number;
}

export type ClaimOutcome =
  | { kind: 'claimed'; claim: Claim; tookOver: boolean }
  | { kind: 'done'; response: StoredResponse }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' };

export type KeyRow = Pick<IdempotencyKeyRow, 'state' | 'fingerprint' | 'responseStatus' | 'responseBody' | 'lockedAt'>;

/** The claim was taken over by another request while this one ran: its effect must not commit. */
export class ClaimLostError extends Error {
  override readonly name = 'ClaimLostError';
  constructor(readonly scope: KeyScope) {
    super(`the claim on Idempotency-Key ${JSON.stringify(scope.key)} was taken over`);
  }
}

export interface IdempotencyStoreOptions {
  sqlite: Database.Database;
  /** Age after which an in-flight claim counts as abandoned and is taken over. */
  lockMs: number;
  now: () => number;
}

type ScopeParams = [tenantId: number, procedure: string, key: string];

/**
 * The `idempotency_keys` table. Every method is synchronous and each write
 * is its own short transaction: the server shares one connection, so a
 * transaction must never stay open across an `await`.
 */
export function createIdempotencyStore(opts: IdempotencyStoreOptions) {
  const { sqlite, lockMs, now } = opts;
  const where = 'tenant_id = ? AND procedure = ? AND key = ?';
  const find = sqlite.prepare<ScopeParams, KeyRow>(
    `SELECT state, fingerprint, response_status AS responseStatus, response_body AS responseBody, locked_at AS lockedAt
     FROM idempotency_keys WHERE ${where}`,
  );
  const insert = sqlite.prepare<[...ScopeParams, fingerprint: string, lockedAt: number, createdAt: number]>(
    `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, locked_at, created_at)
     VALUES (?, ?, ?, ?, 'in_flight', ?, ?)`,
  );
  const takeOver = sqlite.prepare<[fingerprint: string, lockedAt: number, createdAt: number, ...ScopeParams, oldToken: number]>(
    `UPDATE idempotency_keys SET fingerprint = ?, locked_at = ?, created_at = ?
     WHERE ${where} AND state = 'in_flight' AND locked_at = ?`,
  );
  const complete = sqlite.prepare<[status: number, body: string, ...ScopeParams, token: number]>(
    `UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ?
     WHERE ${where} AND state = 'in_flight' AND locked_at = ?`,
  );
  const rewrite = sqlite.prepare<[body: string, ...ScopeParams, token: number]>(
    `UPDATE idempotency_keys SET response_body = ? WHERE ${where} AND state = 'done' AND locked_at = ?`,
  );
  const release = sqlite.prepare<[...ScopeParams, token: number]>(
    `DELETE FROM idempotency_keys WHERE ${where} AND state = 'in_flight' AND locked_at = ?`,
  );
  // rowid through the created_at index: each statement deletes a bounded batch.
  const purge = sqlite.prepare<[createdBefore: number, lockedBefore: number, limit: number]>(
    `DELETE FROM idempotency_keys WHERE rowid IN (
       SELECT rowid FROM idempotency_keys
       WHERE created_at < ? AND (state = 'done' OR locked_at < ?)
       LIMIT ?)`,
  );

  const params = (s: KeyScope): ScopeParams => [s.tenantId, s.procedure, s.key];

  const claim = sqlite.transaction((scope: KeyScope, fp: string): ClaimOutcome => {
    const at = now();
    const row = find.get(...params(scope));
    if (!row) {
      insert.run(...params(scope), fp, at, at);
      return { kind: 'claimed', claim: { ...scope, token: at }, tookOver: false };
    }
    if (row.state === 'done') {
      if (row.fingerprint !== fp) return { kind: 'mismatch' };
      return { kind: 'done', response: { status: row.responseStatus ?? 500, body: row.responseBody ?? '' } };
    }
    if (at - row.lockedAt < lockMs) return row.fingerprint === fp ? { kind: 'in_flight' } : { kind: 'mismatch' };
    // Abandoned (its holder died or overran the lock): it left no result, so
    // the key is free again. The new token is at least lockMs past the old
    // one, so the old holder is fenced out.
    takeOver.run(fp, at, at, ...params(scope), row.lockedAt);
    return { kind: 'claimed', claim: { ...scope, token: at }, tookOver: true };
  });

  return {
    /** The row for a scope, read without a transaction (the fast path's look-up). */
    find: (scope: KeyScope): KeyRow | undefined => find.get(...params(scope)),

    /**
     * In one `BEGIN IMMEDIATE` transaction: claims a free or abandoned key,
     * or says why not (done, in flight, or used with another fingerprint).
     */
    claim: (scope: KeyScope, fp: string): ClaimOutcome => claim.immediate(scope, fp),

    /**
     * Runs `effect` and stores the response `encode` makes of its value in one
     * `BEGIN IMMEDIATE` transaction: both commit or neither does. Throws
     * ClaimLostError (after rolling back) when the claim was taken over.
     */
    commit<T>(held: Claim, effect: () => T, encode: (value: T) => StoredResponse): { value: T; response: StoredResponse } {
      return sqlite
        .transaction(() => {
          const value = effect();
          const response = encode(value);
          if (complete.run(response.status, response.body, ...params(held), held.token).changes !== 1) {
            throw new ClaimLostError(held);
          }
          return { value, response };
        })
        .immediate();
    },

    /** Marks a held key done with `response`; false when the claim was lost. */
    complete: (held: Claim, response: StoredResponse): boolean =>
      complete.run(response.status, response.body, ...params(held), held.token).changes === 1,

    /** Replaces the stored body of a key this claim completed. */
    rewrite: (held: Claim, body: string): boolean => rewrite.run(body, ...params(held), held.token).changes === 1,

    /** Frees a held key (validation failure, unexpected error); a lost claim frees nothing. */
    release: (held: Claim): boolean => release.run(...params(held), held.token).changes === 1,

    /**
     * Deletes up to `limit` rows created before `createdBefore` (done, or
     * in flight and abandoned); returns how many. One short statement.
     */
    purgeBatch: (createdBefore: number, limit: number): number =>
      purge.run(createdBefore, now() - lockMs, limit).changes,
  };
}
export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
