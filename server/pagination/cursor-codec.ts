import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { CURSOR_VERSION, decodeCursorPayload, encodeCursorPayload } from '../../shared/cursor.js';
import { ERROR_REASONS } from '../../shared/errors.js';
import { ApiError } from '../errors.js';

const MAC_BYTES = 16;

/**
 * Signs and checks cursors. A cursor is `payload.mac`: the payload is
 * versioned base64url JSON, the MAC an HMAC-SHA256 under the server secret,
 * so a client can neither forge a position nor reuse a cursor for other
 * filters or another tenant (the scope digest is inside the signed part).
 */
export function createCursorCodec(secret: string) {
  const mac = (text: string) => createHmac('sha256', secret).update(text).digest().subarray(0, MAC_BYTES);
  const scopeDigest = (scope: string) => createHash('sha256').update(scope).digest('base64url').slice(0, 16);
  const invalid = (why: string) =>
    new TRPCError({
      code: 'BAD_REQUEST',
      message: `Invalid cursor: ${why}. Pass a nextCursor from this query with the same filters, or null to start over.`,
      cause: new ApiError({ reason: ERROR_REASONS.invalidCursor }),
    });

  return {
    /** `scope` names the query, the tenant and every filter the cursor is bound to. */
    encode(scope: string, lastKey: number): string {
      const payload = encodeCursorPayload({ v: CURSOR_VERSION, s: scopeDigest(scope), k: lastKey });
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    /** The last key of the previous page; 0 for no cursor. Throws a 400 for anything else. */
    decode(scope: string, cursor: string | null | undefined): number {
      if (cursor === null || cursor === undefined || cursor === '') return 0;
      const [payload, signature, extra] = cursor.split('.');
      if (!payload || !signature || extra !== undefined) throw invalid('malformed');
      const given = Buffer.from(signature, 'base64url');
      // Buffer decoding forgives padding and stray bits; only the canonical spelling is ours.
      const canonical = given.length === MAC_BYTES && given.toString('base64url') === signature;
      if (!canonical || !timingSafeEqual(given, mac(payload))) throw invalid('signature mismatch');
      const decoded = decodeCursorPayload(payload);
      if (!decoded) throw invalid('unsupported version or shape');
      if (decoded.s !== scopeDigest(scope)) throw invalid('made for other filters');
      return decoded.k;
    },
  };
}
export type CursorCodec = ReturnType<typeof createCursorCodec>;
