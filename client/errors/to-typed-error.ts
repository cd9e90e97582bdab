import type { ClientError } from '../internals/error-info.js';
import { statusOf } from '../internals/error-info.js';
import { ConflictError } from './conflict-error.js';
import { IdempotencyConflictError, isInFlight, isMismatch } from './idempotency-conflict-error.js';
import { NotFoundError } from './not-found-error.js';
import { RateLimitError } from './rate-limit-error.js';
import { UnavailableError } from './unavailable-error.js';
import { ValidationError } from './validation-error.js';

/**
 * The typed error for what httpLink raised: a {@link RateLimitError},
 * {@link ValidationError} and so on, or the error itself when no class fits
 * (401, 500, a network failure).
 *
 * @example
 * ```ts
 * observer.error(toTypedError(error));
 * ```
 */
export function toTypedError(error: ClientError): ClientError {
  if (error.name !== 'TRPCClientError') return error; // already typed
  const status = statusOf(error);
  if (status === 429) return new RateLimitError(error);
  if (isInFlight(error) || (status !== undefined && isMismatch(error))) return new IdempotencyConflictError(error);
  if (status === 400) return new ValidationError(error);
  if (status === 404) return new NotFoundError(error);
  if (status === 409) return new ConflictError(error);
  if (status === 503) return new UnavailableError(error);
  return error;
}
