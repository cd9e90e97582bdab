import type { ERROR_REASONS } from '../../shared/errors.js';

type Reasons = typeof ERROR_REASONS;

// shared/errors.ts also builds a zod schema at load time, and importing its
// constants at run time would put all of zod (~450 KB minified) into a
// browser bundle. The values are repeated here instead, each typed as the
// shared constant's literal, so a change there fails to compile here.

/**
 * `ERROR_REASONS.idempotencyInFlight`: the 409 worth retrying.
 *
 * @example
 * ```ts
 * if (error.data?.reason === IDEMPOTENCY_IN_FLIGHT) retryLater();
 * ```
 */
export const IDEMPOTENCY_IN_FLIGHT: Reasons['idempotencyInFlight'] = 'idempotency_in_flight';

/**
 * `ERROR_REASONS.idempotencyMismatch`: a key reused with another input.
 *
 * @example
 * ```ts
 * if (error.data?.reason === IDEMPOTENCY_MISMATCH) reportBug(error);
 * ```
 */
export const IDEMPOTENCY_MISMATCH: Reasons['idempotencyMismatch'] = 'idempotency_mismatch';
