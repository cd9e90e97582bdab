import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/routers/app.js';
import { randomKey } from './internals/random-key.js';

/** Options of {@link idempotencyLink}. */
export interface IdempotencyLinkOptions {
  /**
   * Makes a key for a mutation whose caller gave none.
   * @default a random UUID v4 (`crypto.randomUUID()`)
   */
  generateKey?: () => string;
}

// The key is 1–255 printable ASCII (DESIGN.md "Idempotency"); a header value
// cannot keep leading or trailing spaces (RFC 9110 §5.5), so refuse them too.
const KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

/**
 * Gives every mutation an idempotency key in `op.context.idempotencyKey`:
 * the caller's (`{ context: { idempotencyKey } }`) or a fresh UUID. It is
 * made once per operation, before the retry link, so every retry of one call
 * sends the same key and two calls never share one. httpLink's `headers`
 * sends it as `Idempotency-Key`. (tRPC's retryLink re-runs `headers()` per
 * attempt, which is why the key cannot be made there.)
 *
 * @example
 * ```ts
 * createTRPCClient<AppRouter>({ links: [idempotencyLink(), retryAfterLink(), httpLink({ url, headers: ({ op }) => ({ 'idempotency-key': String(op.context.idempotencyKey) }) })] });
 * ```
 */
export function idempotencyLink(opts: IdempotencyLinkOptions = {}): TRPCLink<AppRouter> {
  const generateKey = opts.generateKey ?? randomKey;
  return () =>
    ({ op, next }) => {
      if (op.type !== 'mutation') return next(op);
      const given = op.context['idempotencyKey'];
      if (given === undefined) {
        return next({ ...op, context: { ...op.context, idempotencyKey: generateKey() } });
      }
      if (typeof given === 'string' && KEY.test(given)) return next(op);
      return observable((observer) => {
        observer.error(
          TRPCClientError.from(
            new TypeError(`context.idempotencyKey must be 1–255 printable ASCII characters without leading or trailing spaces, got ${JSON.stringify(given)}`),
          ),
        );
      });
    };
}
