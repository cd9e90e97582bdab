import { z } from 'zod';

/** The cursor format's version; a cursor of another version is rejected. */
export const CURSOR_VERSION = 1;

/**
 * What a cursor carries: its version, a digest of the scope it was made for
 * (procedure, tenant and filters) and the last key of the page it ends.
 *
 * @example
 * ```ts
 * const payload: CursorPayload = { v: 1, s: 'a1b2c3', k: 1042 };
 * ```
 */
export const cursorPayloadSchema = z.object({
  v: z.literal(CURSOR_VERSION),
  s: z.string().min(1).max(64),
  k: z.number().int().nonnegative(),
});
export type CursorPayload = z.infer<typeof cursorPayloadSchema>;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * base64url without padding (RFC 4648 §5), for ASCII text. Pure: runs in
 * browsers and Node alike.
 *
 * @example
 * ```ts
 * toBase64Url('{"v":1}'); // 'eyJ2IjoxfQ'
 * ```
 */
export function toBase64Url(ascii: string): string {
  return btoa(ascii).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The inverse of {@link toBase64Url}; returns null for anything that is not
 * base64url.
 *
 * @example
 * ```ts
 * fromBase64Url('eyJ2IjoxfQ'); // '{"v":1}'
 * ```
 */
export function fromBase64Url(text: string): string | null {
  if (!BASE64URL.test(text)) return null;
  try {
    return atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return null;
  }
}

/**
 * Encodes a cursor payload as base64url JSON. The server appends a MAC, so
 * clients must treat the whole cursor as opaque.
 *
 * @example
 * ```ts
 * encodeCursorPayload({ v: 1, s: 'a1b2', k: 20 }); // 'eyJ2IjoxLCJzIjoiYTFiMiIsImsiOjIwfQ'
 * ```
 */
export function encodeCursorPayload(payload: CursorPayload): string {
  return toBase64Url(JSON.stringify(payload));
}

/**
 * Decodes a payload made by {@link encodeCursorPayload}; null when it is not
 * one (bad base64url, bad JSON, unknown version or shape).
 *
 * @example
 * ```ts
 * decodeCursorPayload('not a cursor'); // null
 * ```
 */
export function decodeCursorPayload(text: string): CursorPayload | null {
  const json = fromBase64Url(text);
  if (json === null) return null;
  try {
    const parsed = cursorPayloadSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
