import type Database from 'better-sqlite3';
import type { z } from 'zod';
import type { ServerResponse } from 'node:http';
import { inFlightError } from './errors.js';
import { ClaimLostError, type Claim, type IdempotencyStore, type StoredResponse } from './store.js';
import { successResponse } from './trpc-wire.js';

/**
 * What a mutation calls to write: runs `effect` (synchronous database work)
 * in one `BEGIN IMMEDIATE` transaction and returns its value parsed with
 * `output`, the procedure's output schema, as the client will receive it.
 * Under an Idempotency-Key the same transaction stores the key's row, done,
 * with the exact response bytes: the claim, the write and its replay commit
 * together or not at all. A TRPCError thrown by `effect` rolls the effect
 * back; the middleware then stores that error as the key's answer.
 */
export type Commit = <S extends z.ZodType>(output: S, effect: () => z.input<S>) => z.output<S>;

/** For a mutation sent without a key: the effect alone, still in one transaction. */
export function directCommit(sqlite: Database.Database): Commit {
  return (output, effect) => sqlite.transaction(() => output.parse(effect())).immediate();
}

export interface KeyedCommit {
  commit: Commit;
  /** The response stored with the effect, once `commit` has run. */
  committed(): StoredResponse | null;
}

/** For a request holding `claim`: the effect and the key's stored answer, in one transaction. */
export function keyedCommit(store: Pick<IdempotencyStore, 'commit'>, claim: Claim, res: ServerResponse): KeyedCommit {
  let committed: StoredResponse | null = null;
  const commit: Commit = (output, effect) => {
    if (committed) throw new Error('commit() runs once per request: put the whole write in one effect');
    try {
      const { value, response } = store.commit(claim, () => output.parse(effect()), successResponse);
      committed = response;
      return value;
    } catch (err) {
      // A retry took the key over after this request overran the lock, or another
      // process stored the key's answer first: this effect was rolled back and
      // the other one's answer is (or will be) the key's, which a retry replays.
      if (err instanceof ClaimLostError) throw inFlightError(res, claim, err.reason);
      throw err;
    }
  };
  return { commit, committed: () => committed };
}
