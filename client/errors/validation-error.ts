import type { ClientError } from '../internals/error-info.js';
import { ComposureError, hasErrorName } from './composure-error.js';

/** One zod issue as it travels in `error.data.zodIssues`: JSON, so `path` holds strings and numbers. */
export interface ValidationIssue {
  readonly code: string;
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
  readonly [detail: string]: unknown;
}

/**
 * 400: the input was refused. `issues` are the server's zod issues (empty
 * when the 400 had another cause, such as a malformed cursor: see `reason`).
 *
 * @example
 * ```ts
 * if (e instanceof ValidationError) for (const i of e.issues) console.log(i.path.join('.'), i.message);
 * ```
 */
export class ValidationError extends ComposureError {
  override readonly name = 'ValidationError';
  readonly issues: readonly ValidationIssue[];

  constructor(from: ClientError) {
    super(from);
    const raw: unknown = from.data?.zodIssues;
    this.issues = Array.isArray(raw) ? raw.filter(isIssue) : [];
  }
}

function isIssue(value: unknown): value is ValidationIssue {
  return (
    typeof value === 'object' &&
    value !== null &&
    'path' in value &&
    Array.isArray(value.path) &&
    'message' in value &&
    typeof value.message === 'string'
  );
}

/**
 * True for a 400 from the API, narrowed to {@link ValidationError} with the
 * zod `issues`.
 *
 * @example
 * ```ts
 * try {
 *   await client.users.create.mutate({ name: '', email: 'nope' });
 * } catch (e) {
 *   if (isValidationError(e)) console.log(e.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
 * }
 * ```
 */
export function isValidationError(error: unknown): error is ValidationError {
  return error instanceof ValidationError || hasErrorName(error, 'ValidationError');
}
