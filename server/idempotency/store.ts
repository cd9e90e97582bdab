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
 * A key held by one running request of this process. `token` is when it was
 * claimed (ms): it ages the claim against the lock and becomes the stored
 * row's `locked_at`. The object itself is the fencing token: pass back the
 * one `claim()` returned. Once another request has taken the key over, the
 * old object can no longer commit, complete or release it.
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

/**
 * The claim no longer entitles its holder to write: `'taken-over'` when a
 * retry in this process took it over after the holder overran the lock,
 * `'answered'` when another process stored the key's answer first. Either
 * way the holder's effect was rolled back.
 */
export class ClaimLostError extends Error {
  override readonly name = 'ClaimLostError';
  constructor(
    readonly scope: KeyScope,
    readonly reason: 'taken-over' | 'answered',
  ) {
    super(
      reason === 'taken-over'
        ? `the claim on Idempotency-Key ${JSON.stringify(scope.key)} was taken over`
        : `Idempotency-Key ${JSON.stringify(scope.key)} was answered by another request meanwhile`,
    );
  }
}

export interface IdempotencyStoreOptions {
  sqlite: Database.Database;
  /** Age after which a running request's claim counts as abandoned and may be taken over. */
  lockMs: number;
  now: () => number;
}

/** What `commit` returns: the effect's value and the answer stored with it. */
export interface Committed<T> {
  value: T;
  response: StoredResponse;
}

type ScopeParams = [tenantId: number, procedure: string, key: string];
type Held = { readonly fingerprint: string; readonly claim: Claim };

/**
 * The `idempotency_keys` table plus the claims of this process's running
 * requests. A claim lives in memory, never in the table: the server shares
 * one connection, so a transaction cannot stay open across the handler's
 * awaits, and a claim row would cost a commit of its own. The claim, the
 * effect and the stored response therefore commit together, in the one
 * `BEGIN IMMEDIATE` transaction of `commit()` (issue 3, item 3), and a
 * process that dies leaves nothing behind: its client's retry runs at once.
 * Every method is synchronous.
 */
export function createIdempotencyStore(opts: IdempotencyStoreOptions) {
  const { sqlite, lockMs, now } = opts;
  const where = 'tenant_id = ? AND procedure = ? AND key = ?';
  const find = sqlite.prepare<ScopeParams, KeyRow>(
    `SELECT state, fingerprint, response_status AS responseStatus, response_body AS responseBody, locked_at AS lockedAt
     FROM idempotency_keys WHERE ${where}`,
  );
  // A row another process stored first wins (nothing changes); an `in_flight`
  // row left by an older version of this server is replaced.
  const store = sqlite.prepare<[...ScopeParams, fingerprint: string, status: number, body: string, lockedAt: number, createdAt: number]>(
    `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
     VALUES (?, ?, ?, ?, 'done', ?, ?, ?, ?)
     ON CONFLICT (tenant_id, procedure, key) DO UPDATE SET
       fingerprint = excluded.fingerprint, state = 'done', response_status = excluded.response_status,
       response_body = excluded.response_body, locked_at = excluded.locked_at, created_at = excluded.created_at
     WHERE idempotency_keys.state = 'in_flight'`,
  );
  const rewrite = sqlite.prepare<[body: string, ...ScopeParams, token: number]>(
    `UPDATE idempotency_keys SET response_body = ? WHERE ${where} AND state = 'done' AND locked_at = ?`,
  );
  // rowid through the created_at index: each statement deletes a bounded batch.
  // `in_flight` rows are only ever left by an older version of this server.
  const purge = sqlite.prepare<[createdBefore: number, lockedBefore: number, limit: number]>(
    `DELETE FROM idempotency_keys WHERE rowid IN (
       SELECT rowid FROM idempotency_keys
       WHERE created_at < ? AND (state = 'done' OR locked_at < ?)
       LIMIT ?)`,
  );

  const held = new Map<string, Held>();
  // Printable ASCII keys and dotted procedure paths never hold a newline.
  const idOf = (s: KeyScope) => `${s.tenantId}\n${s.procedure}\n${s.key}`;
  const params = (s: KeyScope): ScopeParams => [s.tenantId, s.procedure, s.key];
  const holds = (c: Claim): Held | undefined => {
    const entry = held.get(idOf(c));
    return entry?.claim === c ? entry : undefined;
  };
  const drop = (c: Claim): boolean => holds(c) !== undefined && held.delete(idOf(c));
  const storeRow = (c: Claim, fp: string, r: StoredResponse): boolean =>
    store.run(...params(c), fp, r.status, r.body, c.token, now()).changes === 1;

  // One prepared transaction for every commit; `work` runs the effect and encodes its answer.
  const commitTx = sqlite.transaction((c: Claim, fp: string, work: () => Committed<unknown>): Committed<unknown> => {
    // Another process (cluster mode shares the file) may have stored the key's
    // answer since our claim: its answer is the key's, ours must not commit.
    if (find.get(...params(c))?.state === 'done') throw new ClaimLostError(c, 'answered');
    const done = work();
    if (!storeRow(c, fp, done.response)) throw new ClaimLostError(c, 'answered');
    return done;
  });

  return {
    /** The stored row for a scope, read without a transaction (the replay fast path's look-up). */
    find: (scope: KeyScope): KeyRow | undefined => find.get(...params(scope)),

    /** Whether a running request of this process holds the key. */
    isHeld: (scope: KeyScope): boolean => held.has(idOf(scope)),

    /**
     * Claims a free key for this request, or says why not: answered (`done`,
     * same fingerprint), held by a running request younger than the lock
     * (`in_flight`), or used with another fingerprint (`mismatch`). A claim
     * older than the lock is taken over. Reads the table, writes nothing.
     */
    claim(scope: KeyScope, fp: string): ClaimOutcome {
      const at = now();
      const row = find.get(...params(scope));
      if (row?.state === 'done') {
        if (row.fingerprint !== fp) return { kind: 'mismatch' };
        return { kind: 'done', response: { status: row.responseStatus ?? 500, body: row.responseBody ?? '' } };
      }
      // An in_flight row can only come from an older version of this server, perhaps still running.
      if (row && at - row.lockedAt < lockMs) return row.fingerprint === fp ? { kind: 'in_flight' } : { kind: 'mismatch' };
      const id = idOf(scope);
      const current = held.get(id);
      if (current && at - current.claim.token < lockMs) {
        return current.fingerprint === fp ? { kind: 'in_flight' } : { kind: 'mismatch' };
      }
      // A claim still here has overrun the lock (its handler hangs): replacing
      // it fences its holder out, whose commit will now roll back.
      const claim: Claim = { ...scope, token: at };
      held.set(id, { fingerprint: fp, claim });
      return { kind: 'claimed', claim, tookOver: current !== undefined || row !== undefined };
    },

    /**
     * In one `BEGIN IMMEDIATE` transaction: runs `effect`, and stores the
     * response `encode` makes of its value as the key's answer; both commit
     * or neither does, and the claim is dropped once they have. Throws
     * ClaimLostError, having written nothing, when the claim was taken over or
     * another process stored the key's answer first. When `effect` throws, it
     * is rolled back and the claim stays held (release it).
     */
    commit<T>(claim: Claim, effect: () => T, encode: (value: T) => StoredResponse): Committed<T> {
      const entry = holds(claim);
      if (!entry) throw new ClaimLostError(claim, 'taken-over');
      let done: Committed<T>;
      try {
        // The transaction hands back what `work` made: a Committed<T>.
        done = commitTx.immediate(claim, entry.fingerprint, () => {
          const value = effect();
          return { value, response: encode(value) };
        }) as Committed<T>;
      } catch (err) {
        if (err instanceof ClaimLostError) drop(claim);
        throw err;
      }
      drop(claim);
      return done;
    },

    /**
     * Stores `response` as the key's answer without an effect (a stored
     * business error, a handler that wrote nothing) and drops the claim.
     * False when the claim was lost or another process's answer was stored first.
     */
    complete(claim: Claim, response: StoredResponse): boolean {
      const entry = holds(claim);
      if (!entry) return false;
      drop(claim);
      return storeRow(claim, entry.fingerprint, response);
    },

    /** Replaces the stored body of the answer this claim committed. */
    rewrite: (claim: Claim, body: string): boolean => rewrite.run(body, ...params(claim), claim.token).changes === 1,

    /** Frees a held key (validation failure, unexpected error); a lost or finished claim frees nothing. */
    release: (claim: Claim): boolean => drop(claim),

    /**
     * Deletes up to `limit` rows created before `createdBefore` (answers, and
     * `in_flight` rows an older version left, once past the lock); returns
     * how many. One short statement.
     */
    purgeBatch: (createdBefore: number, limit: number): number =>
      purge.run(createdBefore, now() - lockMs, limit).changes,
  };
}
export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
