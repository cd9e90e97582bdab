import { ERROR_REASONS } from '../../shared/error-codes.js';

/**
 * `ERROR_REASONS.idempotencyInFlight`: the 409 worth retrying.
 *
 * @example
 * ```ts
 * if (error.data?.reason === IDEMPOTENCY_IN_FLIGHT) retryLater();
 * ```
 */
export const IDEMPOTENCY_IN_FLIGHT = ERROR_REASONS.idempotencyInFlight;

/**
 * `ERROR_REASONS.idempotencyMismatch`: a key reused with another input.
 *
 * @example
 * ```ts
 * if (error.data?.reason === IDEMPOTENCY_MISMATCH) reportBug(error);
 * ```
 */
export const IDEMPOTENCY_MISMATCH = ERROR_REASONS.idempotencyMismatch;
