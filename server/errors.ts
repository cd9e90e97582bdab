/**
 * Carried as a TRPCError's `cause` to put machine-readable detail into
 * `error.data` (see the error formatter): why it failed and, for retryable
 * errors, how long to wait.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly reason: string | undefined;
  readonly retryAfterMs: number | undefined;
  /**
   * A finer kind than `reason`, read by the REST problem details
   * (server/rest/problem-types.ts) and kept off the tRPC wire, whose answers
   * stay as they were.
   */
  readonly kind: string | undefined;
  constructor(opts: { reason?: string; retryAfterMs?: number; message?: string; kind?: string }) {
    super(opts.message ?? opts.reason ?? opts.kind ?? 'api error');
    this.reason = opts.reason;
    this.retryAfterMs = opts.retryAfterMs;
    this.kind = opts.kind;
  }
}
