import { ComposureError, hasErrorName } from './composure-error.js';

/**
 * 409 that the request itself causes, whatever its key: a value that must
 * be unique is taken (`reason: 'duplicate'`, a user's email within the
 * tenant). Retrying cannot help, so the client does not. A 409 for an
 * Idempotency-Key still in flight is an {@link IdempotencyConflictError} instead.
 *
 * @example
 * ```ts
 * const user = await client.users.create.mutate(input).catch((e) => (e instanceof ConflictError ? null : Promise.reject(e)));
 * ```
 */
export class ConflictError extends ComposureError {
  override readonly name = 'ConflictError';
}

/**
 * True for a 409 that is not about an idempotency key (a duplicate email),
 * narrowed to {@link ConflictError}; `error.reason` says which conflict.
 *
 * @example
 * ```ts
 * try {
 *   await client.users.create.mutate({ name: 'Ada', email: 'ada@example.com' });
 * } catch (e) {
 *   if (isConflictError(e)) console.log(`already there (${e.reason})`);
 * }
 * ```
 */
export function isConflictError(error: unknown): error is ConflictError {
  return error instanceof ConflictError || hasErrorName(error, 'ConflictError');
}
