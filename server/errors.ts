/**
 * Carried as a TRPCError's `cause` to put machine-readable detail into
 * `error.data` (see the error formatter): why it failed and, for retryable
 * errors, how long to wait.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly reason: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(opts: { reason?: string; retryAfterMs?: number; message?: string }) {
    super(opts.message ?? opts.reason ?? 'api error');
    this.reason = opts.reason;
    this.retryAfterMs = opts.retryAfterMs;
  }
}
