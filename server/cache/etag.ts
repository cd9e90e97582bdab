import { createHash } from 'node:crypto';

/**
 * A strong validator (RFC 9110 §8.8.3) for a stored body: a hash of the exact
 * bytes sent, so equal bytes give an equal tag on every instance and after
 * every restart. 128 bits of SHA-256 are plenty against accidental collisions.
 */
export function strongEtag(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

/** The opaque-tag of an entity-tag, without `W/` (RFC 9110 §8.8.3). */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * Whether `If-None-Match` matches `etag`, so the answer is a 304. RFC 9110
 * §13.1.2: `*` matches any current representation, and the list is compared
 * with the weak comparison (§8.8.3.2), so `W/"x"` matches `"x"`. An entity
 * tag may hold commas inside its quotes, so the list is scanned, not split.
 */
export function ifNoneMatchMatches(header: string, etag: string): boolean {
  // The common case, a client echoing the tag it was given.
  if (header === etag) return true;
  const wanted = opaque(etag);
  let i = 0;
  const n = header.length;
  while (i < n) {
    const c = header.charCodeAt(i);
    // OWS and list separators between members.
    if (c === 0x20 || c === 0x09 || c === 0x2c) {
      i++;
      continue;
    }
    if (c === 0x2a /* * */) return true;
    if (header.startsWith('W/', i)) i += 2;
    if (header.charCodeAt(i) !== 0x22 /* " */) return false; // malformed: match nothing
    const close = header.indexOf('"', i + 1);
    if (close === -1) return false;
    if (header.slice(i, close + 1) === wanted) return true;
    i = close + 1;
  }
  return false;
}
