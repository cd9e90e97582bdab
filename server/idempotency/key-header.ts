/** What the `Idempotency-Key` request header holds. */
export type IdempotencyKeyHeader =
  | { kind: 'absent' }
  | { kind: 'valid'; key: string }
  | { kind: 'invalid'; problem: string };

/** Longest key accepted, in characters (DESIGN.md: 1–255 printable ASCII). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * Reads `Idempotency-Key` from the header's values (`req.headersDistinct`,
 * so a repeated header is seen as such). The IETF draft
 * (draft-ietf-httpapi-idempotency-key-header §2) makes the value an
 * sf-string, `"8e03978e-40d5"`; the same characters bare are accepted too,
 * as Stripe does. Both spell the same key.
 */
export function readIdempotencyKey(values: readonly string[] | undefined): IdempotencyKeyHeader {
  if (values === undefined || values.length === 0) return { kind: 'absent' };
  // The draft defines one Item; several fields would make a List (RFC 8941 §3.1).
  if (values.length > 1) return { kind: 'invalid', problem: 'send exactly one Idempotency-Key header' };
  const raw = values[0] ?? '';
  const key = raw.startsWith('"') ? unquoteSfString(raw) : raw;
  if (key === null) {
    return { kind: 'invalid', problem: 'a quoted Idempotency-Key must be one sf-string (RFC 8941 §3.3.3) with no parameters' };
  }
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE_ASCII.test(key)) {
    return {
      kind: 'invalid',
      problem: `Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`,
    };
  }
  return { kind: 'valid', key };
}

/**
 * RFC 8941 §4.2.5: DQUOTE, then printable ASCII where only `\"` and `\\` are
 * escapes, then DQUOTE. Null for anything else, parameters included: the
 * draft defines none, and ignoring them would let two spellings that look
 * different name one key.
 */
function unquoteSfString(value: string): string | null {
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '\\') {
      const next = value[i + 1];
      if (next !== '"' && next !== '\\') return null;
      out += next;
      i++;
    } else if (c === '"') {
      return i === value.length - 1 ? out : null;
    } else if (c < ' ' || c > '~') {
      return null;
    } else {
      out += c;
    }
  }
  return null;
}
