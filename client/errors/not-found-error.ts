import { ComposureError, hasErrorName } from './composure-error.js';

/**
 * 404: no such row in this tenant (or no such procedure).
 *
 * @example
 * ```ts
 * const user = await client.users.byId.query({ id }).catch((e) => (e instanceof NotFoundError ? null : Promise.reject(e)));
 * ```
 */
export class NotFoundError extends ComposureError {
  override readonly name = 'NotFoundError';
}

/**
 * True for a 404 from the API, narrowed to {@link NotFoundError}.
 *
 * @example
 * ```ts
 * try {
 *   await client.users.byId.query({ id: 999_999 });
 * } catch (e) {
 *   if (isNotFoundError(e)) console.log('no such user');
 * }
 * ```
 */
export function isNotFoundError(error: unknown): error is NotFoundError {
  return error instanceof NotFoundError || hasErrorName(error, 'NotFoundError');
}
