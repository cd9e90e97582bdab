import type { ClientError } from '../internals/error-info.js';
import { reasonOf, retryAfterMsOf, statusOf } from '../internals/error-info.js';
import { IDEMPOTENCY_IN_FLIGHT, IDEMPOTENCY_MISMATCH } from '../internals/reasons.js';
import { ComposureError, hasErrorName } from './composure-error.js';

/**
 * The Idempotency-Key could not be honoured: `'in_flight'` (409, the first
 * request with this key is still running; the client retried until
 * `retry.maxAttempts`) or `'mismatch'` (422, the key was already used with
 * a different input: a bug in the caller, never retried).
 *
 * @example
 * ```ts
 * if (e instanceof IdempotencyConflictError && e.kind === 'mismatch') reportBug(e);
 * ```
 */
export class IdempotencyConflictError extends ComposureError {
  override readonly name = 'IdempotencyConflictError';
  readonly kind: 'in_flight' | 'mismatch';
  /** For `'in_flight'`: how long the server asked to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(from: ClientError) {
    super(from);
    this.kind = isInFlight(from) ? 'in_flight' : 'mismatch';
    this.retryAfterMs = retryAfterMsOf(from);
  }
}

/**
 * 409 with reason `idempotency_in_flight`: the only 409 worth a retry (a duplicate email is a 409 too).
 *
 * @example
 * ```ts
 * if (isInFlight(error)) retryWithTheSameKey();
 * ```
 */
export function isInFlight(error: ClientError): boolean {
  return statusOf(error) === 409 && reasonOf(error) === IDEMPOTENCY_IN_FLIGHT;
}

/**
 * 422 or reason `idempotency_mismatch`: the key was used before with another input.
 *
 * @example
 * ```ts
 * if (isMismatch(error)) throw new Error('idempotency key reused with another input');
 * ```
 */
export function isMismatch(error: ClientError): boolean {
  return reasonOf(error) === IDEMPOTENCY_MISMATCH || statusOf(error) === 422;
}

/**
 * True when the server refused a mutation's Idempotency-Key, narrowed to
 * {@link IdempotencyConflictError} (`kind`: `'in_flight'` or `'mismatch'`).
 *
 * @example
 * ```ts
 * try {
 *   await client.payments.create.mutate(input, { context: { idempotencyKey: 'order-1001' } });
 * } catch (e) {
 *   if (isIdempotencyConflict(e) && e.kind === 'mismatch') console.error('order-1001 was used for another payment');
 * }
 * ```
 */
export function isIdempotencyConflict(error: unknown): error is IdempotencyConflictError {
  return error instanceof IdempotencyConflictError || hasErrorName(error, 'IdempotencyConflictError');
}
