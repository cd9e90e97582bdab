import type { IdempotencyKeyRow } from '../../drizzle/schema.js';
import type { Repos } from '../repos/repos.js';

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
 * retry took it over after the holder overran the lock, `'answered'` when
 * another process stored the key's answer first. Either way the holder's
 * effect was rolled back.
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

/** What `commit` returns: the effect's value and the answer stored with it. */
export interface Committed<T> {
  value: T;
  response: StoredResponse;
}

/**
 * The `idempotency_keys` table and the claims of running requests, one
 * implementation per dialect (sqlite-store.ts, postgres-store.ts). Both
 * give the same guarantees: a claimed key's effect and stored answer
 * commit together or not at all, a retry of a running request is refused,
 * and a process that dies leaves no key held.
 */
export interface IdempotencyStore {
  /** The stored row for a scope, read outside any transaction (the replay fast path's look-up). */
  find(scope: KeyScope): Promise<KeyRow | undefined>;
  /** Whether a running request of this process holds the key. */
  isHeld(scope: KeyScope): boolean;
  /**
   * Claims a free key for this request, or says why not: answered (`done`,
   * same fingerprint), held by a running request (`in_flight`), or used
   * with another fingerprint (`mismatch`). A claim older than the lock is
   * taken over.
   */
  claim(scope: KeyScope, fp: string): Promise<ClaimOutcome>;
  /**
   * Runs `effect` and stores the response `encode` makes of its value as the
   * key's answer, in one transaction; the claim is over once they have
   * committed. Throws ClaimLostError, having written nothing, when the claim
   * was taken over or another process stored the key's answer first. When
   * `effect` throws, it is rolled back and the claim stays held (complete
   * or release it).
   */
  commit<T>(claim: Claim, effect: (tx: Repos) => Promise<T>, encode: (value: T) => StoredResponse): Promise<Committed<T>>;
  /**
   * Stores `response` as the key's answer without an effect (a stored
   * business error, a handler that wrote nothing) and ends the claim. False
   * when the claim was lost or another process's answer was stored first.
   */
  complete(claim: Claim, response: StoredResponse): Promise<boolean>;
  /** Replaces the stored body of the answer this claim committed. */
  rewrite(claim: Claim, body: string): Promise<boolean>;
  /** Frees a held key (validation failure, unexpected error); a lost or finished claim frees nothing. */
  release(claim: Claim): Promise<boolean>;
  /** Deletes up to `limit` answers created before `createdBefore`; returns how many. One short statement. */
  purgeBatch(createdBefore: number, limit: number): Promise<number>;
}
