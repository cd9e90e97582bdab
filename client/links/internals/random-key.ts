/**
 * A random UUID v4. `crypto.randomUUID` exists in Node and in browsers, but
 * browsers offer it only in secure contexts (https, localhost); a page on
 * plain http still has `crypto.getRandomValues`, so build the UUID from
 * that (RFC 9562 §5.4: version 4, variant 10).
 *
 * @example
 * ```ts
 * randomKey(); // '3b241101-e2bb-4255-8caf-4136c566a962'
 * ```
 */
export function randomKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
