/**
 * The Composure client SDK: `createClient` (the typed tRPC client with
 * idempotency keys, Retry-After-aware retries and a shared pause),
 * `paginate`/`pages` over cursor pages, and typed errors with guards.
 *
 * @example
 * ```ts
 * import { createClient, paginate, isRateLimitError } from 'composure-client';
 * ```
 */
export { createClient } from './create-client.js';
export type { ClientOptions, ComposureClient, FetchLike } from './create-client.js';
export { paginate, pages } from './paginate.js';
export type { PageInputOf, PageLike, PaginatedQuery, PaginateOptions } from './paginate.js';
export type { RetryEvent, RetryOptions } from './links/retry-after.js';
export type { PacingOptions } from './links/internals/pacer.js';
export type { ThrottleOptions } from './links/adaptive-throttle.js';
export type { ClientError } from './internals/error-info.js';
export { ComposureError } from './errors/composure-error.js';
export { RateLimitError, isRateLimitError } from './errors/rate-limit-error.js';
export { IdempotencyConflictError, isIdempotencyConflict } from './errors/idempotency-conflict-error.js';
export { ValidationError, isValidationError } from './errors/validation-error.js';
export type { ValidationIssue } from './errors/validation-error.js';
export { NotFoundError, isNotFoundError } from './errors/not-found-error.js';
export { ConflictError, isConflictError } from './errors/conflict-error.js';
export { UnavailableError, isUnavailableError } from './errors/unavailable-error.js';
export { ThrottledError, isThrottledError } from './errors/throttled-error.js';
export { isAbortError, isNetworkError } from './errors/transport.js';
export { isTRPCClientError, TRPCClientError } from '@trpc/client';
export type { AppRouter } from '../server/routers/app.js';
