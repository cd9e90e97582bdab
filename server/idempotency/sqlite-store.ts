import type Database from 'better-sqlite3';
import type { Repos } from '../repos/repos.js';
import type { WriteLock } from '../db/sqlite/write-lock.js';
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

export interface SqliteIdempotencyStoreOptions {
  /** The one writer connection, used only inside `lock`. */
  writer: Database.Database;
  /** A connection for reads outside transactions (the writer itself for `:memory:`). */
  reader: Database.Database;
  lock: WriteLock;
  /** The repositories bound to the writer, for the effect inside the transaction. */
  tx: Repos;
  /** Age after which a running request's claim counts as abandoned and may be taken over. */
  lockMs: number;
  now: () => number;
}

type ScopeParams = [tenantId: number, procedure: string, key: string];
type Held = { readonly fingerprint: string; readonly claim: Claim };

/**
 * The `idempotency_keys` table plus the claims of this process's running
 * requests. A claim lives in memory, never in the table: the server has
 * one writer connection, so a transaction held open across the handler's
 * awaits would stall every other write, and a claim row would cost a
 * commit of its own. The claim, the effect and the stored response
 * therefore commit together, in the one `BEGIN IMMEDIATE` transaction of
 * `commit()`, and a
 * process that dies leaves nothing behind: its client's retry runs at once.
 * Across processes on one file, the first to commit wins.
 */
export function createSqliteIdempotencyStore(opts: SqliteIdempotencyStoreOptions): IdempotencyStore {
  const { writer, reader, lock, tx, lockMs, now } = opts;
  const where = 'tenant_id = ? AND procedure = ? AND key = ?';
  const find = reader.prepare<ScopeParams, KeyRow>(
    `SELECT state, fingerprint, response_status AS responseStatus, response_body AS responseBody, locked_at AS lockedAt
     FROM idempotency_keys WHERE ${where}`,
  );
  // A row another process stored first wins (nothing changes); an `in_flight`
  // row left by an older version of this server is replaced.
  const store = writer.prepare<[...ScopeParams, fingerprint: string, status: number, body: string, lockedAt: number, createdAt: number]>(
    `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
     VALUES (?, ?, ?, ?, 'done', ?, ?, ?, ?)
     ON CONFLICT (tenant_id, procedure, key) DO UPDATE SET
       fingerprint = excluded.fingerprint, state = 'done', response_status = excluded.response_status,
       response_body = excluded.response_body, locked_at = excluded.locked_at, created_at = excluded.created_at
     WHERE idempotency_keys.state = 'in_flight'`,
  );
  const rewrite = writer.prepare<[body: string, ...ScopeParams, token: number]>(
    `UPDATE idempotency_keys SET response_body = ? WHERE ${where} AND state = 'done' AND locked_at = ?`,
  );
  // rowid through the created_at index: each statement deletes a bounded batch.
  // `in_flight` rows are only ever left by an older version of this server.
  const purge = writer.prepare<[createdBefore: number, lockedBefore: number, limit: number]>(
    `DELETE FROM idempotency_keys WHERE rowid IN (
       SELECT rowid FROM idempotency_keys
       WHERE created_at < ? AND (state = 'done' OR locked_at < ?)
       LIMIT ?)`,
  );

  const findForWrite = writer.prepare<ScopeParams, Pick<KeyRow, 'state'>>(`SELECT state FROM idempotency_keys WHERE ${where}`);
  const begin = writer.prepare('BEGIN IMMEDIATE');
  const commitStmt = writer.prepare('COMMIT');
  const rollback = writer.prepare('ROLLBACK');

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

  return {
    find: async (scope) => find.get(...params(scope)),

    isHeld: (scope) => held.has(idOf(scope)),

    async claim(scope: KeyScope, fp: string): Promise<ClaimOutcome> {
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

    commit<T>(claim: Claim, effect: (tx: Repos) => Promise<T>, encode: (value: T) => StoredResponse): Promise<Committed<T>> {
      const entry = holds(claim);
      if (!entry) return Promise.reject(new ClaimLostError(claim, 'taken-over'));
      // BEGIN IMMEDIATE under the write lock: the effect may await between
      // statements, and nothing else may write on the connection meanwhile.
      return lock(async () => {
        begin.run();
        try {
          // Another process (cluster mode shares the file) may have stored the key's
          // answer since our claim: its answer is the key's, ours must not commit.
          if (findForWrite.get(...params(claim))?.state === 'done') throw new ClaimLostError(claim, 'answered');
          const value = await effect(tx);
          const response = encode(value);
          // A takeover while the effect ran fences this request out.
          if (!holds(claim)) throw new ClaimLostError(claim, 'taken-over');
          if (!storeRow(claim, entry.fingerprint, response)) throw new ClaimLostError(claim, 'answered');
          commitStmt.run();
          drop(claim);
          return { value, response };
        } catch (err) {
          if (writer.inTransaction) rollback.run();
          if (err instanceof ClaimLostError) drop(claim);
          throw err;
        }
      });
    },

    complete: (claim, response) =>
      lock(() => {
        // Held until stored: a retry meanwhile gets 409, then the answer.
        const entry = holds(claim);
        if (!entry) return false;
        const stored = storeRow(claim, entry.fingerprint, response);
        drop(claim);
        return stored;
      }),

    rewrite: (claim, body) => lock(() => rewrite.run(body, ...params(claim), claim.token).changes === 1),

    release: async (claim) => drop(claim),

    purgeBatch: (createdBefore, limit) => lock(() => purge.run(createdBefore, now() - lockMs, limit).changes),
  };
}
