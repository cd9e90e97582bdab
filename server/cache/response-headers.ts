import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheEntry } from './index.js';
import { ifNoneMatchMatches } from './etag.js';

/**
 * What the tRPC adapter puts on every answer; the fast path sends the same.
 * Authorization is not added although tenant answers depend on it: they are
 * `private`, so no shared cache keeps them, and `no-cache`, so a browser
 * asks again each time with the current key; a validator from one key's
 * answer can only match another's when the bytes are equal.
 */
export const ADAPTER_VARY = 'trpc-accept, accept';
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * Batched answers mix several procedures (and, with a shared key, never one
 * validator for all), so nothing may store them (RFC 9111 §5.2.2.5).
 */
export const NO_STORE = 'no-store';

/**
 * Writes the cache headers of a single GET's 200 or 304: the same call on
 * the fast path and in the middleware, so both answer alike. `Age` (RFC 9111
 * §5.1) goes on answers not produced for this request: hits, and data that
 * was already `ageMs` old (the rates service's value, or a stale fallback).
 */
export function setCacheHeaders(res: ServerResponse, entry: CacheEntry, cacheStatus: string, withAge: boolean, now: number): void {
  res.setHeader('etag', entry.etag);
  res.setHeader('cache-control', entry.policy.cacheControl);
  res.setHeader('cache-status', cacheStatus);
  const age = Math.floor((now - entry.storedAt) / 1000);
  if (withAge || age > 0) res.setHeader('age', age < 0 ? 0 : age);
}

/** Whether the request's If-None-Match names this entry (RFC 9110 §13.1.2), so the answer is a 304. */
export function notModified(req: IncomingMessage, entry: CacheEntry): boolean {
  const header = req.headers['if-none-match'];
  return header !== undefined && ifNoneMatchMatches(header, entry.etag);
}

/**
 * Turns the answer the tRPC adapter is about to write into a 304. The
 * adapter keeps a status a procedure set and its body writes are dropped by
 * node for a 304; but it sets Content-Type, which a 304 should not carry
 * (RFC 9110 §15.4.5: only the fields a 200 would have for cache updating),
 * so it is removed just before the head is written.
 */
export function makeNotModified(res: ServerResponse): void {
  res.statusCode = 304;
  const writeHead = res.writeHead;
  const stripped = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    this.removeHeader('content-type');
    this.removeHeader('content-length');
    return writeHead.apply(this, args);
  };
  res.writeHead = stripped as ServerResponse['writeHead'];
}
