import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trpcCallsOf } from '../../../server/idempotency/trpc-request.js';

describe('trpcCallsOf', () => {
  it('reads a URL without a query exactly as with an empty one (the shortcut agrees with the URL parser)', () => {
    const segment = fc.stringMatching(/^[\w.%,-]{0,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 3 }), (segments) => {
        const url = `/trpc/${segments.join('/')}`;
        expect(trpcCallsOf(url)).toEqual(trpcCallsOf(`${url}?`));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a single call, a batch and a path with dot segments as the adapter does', () => {
    expect(trpcCallsOf('/trpc/payments.create')).toEqual({ paths: ['payments.create'], isBatch: false });
    expect(trpcCallsOf('/trpc/users.create,payments.create?batch=1')).toEqual({ paths: ['users.create', 'payments.create'], isBatch: true });
    expect(trpcCallsOf('/trpc/x/../payments.create')).toEqual({ paths: ['payments.create'], isBatch: false });
    expect(trpcCallsOf('/other/payments.create')).toBeNull();
  });
});
