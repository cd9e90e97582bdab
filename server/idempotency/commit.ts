import type { z } from 'zod';
import type { ServerResponse } from 'node:http';
import type { Database } from '../db/database.js';
import type { Repos } from '../repos/repos.js';
import { inFlightError } from './errors.js';
import { ClaimLostError, type Claim, type IdempotencyStore, type StoredResponse } from './store.js';
import { successResponse } from './trpc-wire.js';

/**
 * What a mutation calls to write: runs `effect` in one transaction, with
 * the repositories bound to it, and returns its value parsed with `output`,
 * the procedure's output schema, as the client will receive it. Under an
 * Idempotency-Key the same transaction stores the key's answer with the
 * exact response bytes: the claim, the write and its replay commit together
 * or not at all. A TRPCError thrown by `effect` rolls the effect back; the
 * middleware then stores that error as the key's answer.
 */
export type Commit = <S extends z.ZodType>(output: S, effect: (tx: Repos) => Promise<z.input<S>>) => Promise<z.output<S>>;

/** For a mutation sent without a key: the effect alone, still in one transaction. */
export function directCommit(database: Database): Commit {
  return (output, effect) => database.transaction(async (tx) => output.parse(await effect(tx)));
}

export interface KeyedCommit {
  commit: Commit;
  /** The response stored with the effect, once `commit` has run. */
  committed(): StoredResponse | null;
}

/** For a request holding `claim`: the effect and the key's stored answer, in one transaction. */
export function keyedCommit(store: Pick<IdempotencyStore, 'commit'>, claim: Claim, res: ServerResponse): KeyedCommit {
  let committed: StoredResponse | null = null;
  const commit: Commit = async (output, effect) => {
    if (committed) throw new Error('commit() runs once per request: put the whole write in one effect');
    try {
      const { value, response } = await store.commit(claim, async (tx) => output.parse(await effect(tx)), successResponse);
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
