import { HEADERS } from '../../shared/http-headers.js';
import type { AuthInfo } from '../auth/authenticate.js';
import { middleware } from '../trpc.js';
import { directCommit, keyedCommit } from '../idempotency/commit.js';
import { batchedKeyError, inFlightError, invalidKeyError, mismatchError, missingKeyError } from '../idempotency/errors.js';
import { fingerprint } from '../idempotency/fingerprint.js';
import { readIdempotencyKey } from '../idempotency/key-header.js';
import { trpcCallsOf } from '../idempotency/trpc-request.js';
import { errorResponse, isStorableError, successResponse } from '../idempotency/trpc-wire.js';

/**
 * Idempotency-Key for mutations (DESIGN.md "Idempotency"; Stripe and
 * draft-ietf-httpapi-idempotency-key-header). Claims (tenant, procedure,
 * key) in the dialect's store (see its file for how), then gives the handler
 * `ctx.commit`, which stores the effect and the key's answer in one
 * transaction. Completed keys are replayed byte for byte by
 * server/http/idempotent-replay.ts before tRPC runs; what reaches this
 * middleware is a first attempt, a retry of one still running (409), or
 * another input under a used key (422).
 */
export const idempotency = middleware(async ({ ctx, meta, path, getRawInput, next }) => {
  const { services, req, res } = ctx;
  const { auth } = ctx as typeof ctx & { auth: AuthInfo };
  const header = readIdempotencyKey(req.headersDistinct[HEADERS.idempotencyKey]);
  if (header.kind === 'invalid') throw invalidKeyError(header.problem);
  if (header.kind === 'absent') {
    if (meta?.idempotency === 'required') throw missingKeyError(path);
    return next({ ctx: { commit: directCommit(services.database) } });
  }
  const calls = trpcCallsOf(req.url)?.paths.length ?? 1;
  if (calls > 1) throw batchedKeyError(calls);

  // A body that is not JSON fails here, before anything is claimed.
  const input = await getRawInput();
  const scope = { tenantId: auth.tenantId, procedure: path, key: header.key };
  const outcome = await services.idempotency.claim(scope, fingerprint(input));
  if (outcome.kind === 'mismatch') throw mismatchError(scope);
  // 'done' here means the first request finished after the replay fast path
  // looked: a retry now gets the stored answer from the fast path.
  if (outcome.kind !== 'claimed') throw inFlightError(res, scope, outcome.kind === 'done' ? 'just-finished' : 'running');
  const { claim } = outcome;
  if (outcome.tookOver) ctx.log.warn({ key: scope.key, procedure: path }, 'took over an abandoned idempotency claim');

  const write = keyedCommit(services.idempotency, claim, res);
  try {
    const result = await next({ ctx: { commit: write.commit } });
    const stored = write.committed();
    if (result.ok) {
      const sent = successResponse(result.data);
      if (!stored) {
        // The handler wrote nothing through commit(): its answer is all there is to keep.
        await services.idempotency.complete(claim, sent);
      } else if (stored.body !== sent.body) {
        // commit() was given another schema than .output(): replays must still match what was sent.
        ctx.log.error({ key: scope.key, procedure: path }, 'stored idempotent body differed from the answer; rewriting it');
        await services.idempotency.rewrite(claim, sent.body);
      }
    } else if (stored) {
      // The effect committed, then the handler failed: the stored success is the truth for replays.
      ctx.log.warn({ key: scope.key, procedure: path, err: result.error }, 'mutation failed after its write committed');
    } else if (isStorableError(result.error)) {
      await services.idempotency.complete(claim, errorResponse(result.error, { ctx, path, input }));
    }
    // Anything else (a validation failure, an unexpected error) is not an answer:
    // the release below frees the key for a retry.
    return result;
  } finally {
    // Committed, completed or not, this request is over: its claim must not outlive it.
    await services.idempotency.release(claim);
  }
});
