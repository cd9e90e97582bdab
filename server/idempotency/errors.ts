import type { ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { ERROR_REASONS } from '../../shared/errors.js';
import { HEADERS } from '../../shared/http-headers.js';
import { ApiError } from '../errors.js';
import type { KeyScope } from './store.js';

/** ApiError kinds of the key-header errors, which have no `reason` on the tRPC wire. */
export const IDEMPOTENCY_KINDS = { missing: 'idempotency-key-missing', invalid: 'idempotency-key-invalid' } as const;

/** The wait a 409 asks for: the draft's "retry later", as `Retry-After: 1`. */
export const IN_FLIGHT_RETRY_AFTER_MS = 1000;

export function missingKeyError(path: string): TRPCError {
  return new TRPCError({
    code: 'BAD_REQUEST',
    message: `${path} requires an Idempotency-Key header (1–255 printable ASCII, e.g. a UUID), reused on every retry.`,
    cause: new ApiError({ kind: IDEMPOTENCY_KINDS.missing }),
  });
}

export function invalidKeyError(problem: string): TRPCError {
  return new TRPCError({ code: 'BAD_REQUEST', message: `Invalid Idempotency-Key: ${problem}.`, cause: new ApiError({ kind: IDEMPOTENCY_KINDS.invalid }) });
}

export function batchedKeyError(calls: number): TRPCError {
  return new TRPCError({
    code: 'BAD_REQUEST',
    message: `One Idempotency-Key cannot cover a batch of ${calls} calls: send each mutation in its own request, with its own key.`,
  });
}

/** Same key, other request: 422 (draft-ietf-httpapi-idempotency-key-header §2.7). */
export function mismatchError(scope: KeyScope): TRPCError {
  return new TRPCError({
    code: 'UNPROCESSABLE_CONTENT',
    message: `Idempotency-Key ${JSON.stringify(scope.key)} was already used for ${scope.procedure} with a different input; use a new key for a new request.`,
    cause: new ApiError({ reason: ERROR_REASONS.idempotencyMismatch }),
  });
}

/**
 * A request with this key is being processed: 409 with Retry-After
 * (draft §2.7; Retry-After as delay-seconds, RFC 9110 §10.2.3). Headers set
 * on `res` survive on tRPC's error answer.
 */
export function inFlightError(
  res: ServerResponse,
  scope: KeyScope,
  why: 'running' | 'just-finished' | 'taken-over' | 'answered',
): TRPCError {
  res.setHeader(HEADERS.retryAfter, String(IN_FLIGHT_RETRY_AFTER_MS / 1000));
  const detail = {
    running: 'is still being processed',
    'just-finished': 'finished while this request was being received; retry to get its stored answer',
    'taken-over': 'was taken over by a retry after this request overran the lock',
    answered: 'was answered by another request meanwhile; retry to get its stored answer',
  }[why];
  return new TRPCError({
    code: 'CONFLICT',
    message: `A request with Idempotency-Key ${JSON.stringify(scope.key)} ${detail}; retry after 1 s.`,
    cause: new ApiError({ reason: ERROR_REASONS.idempotencyInFlight, retryAfterMs: IN_FLIGHT_RETRY_AFTER_MS }),
  });
}
