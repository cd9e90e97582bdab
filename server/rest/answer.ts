import type { ServerResponse } from 'node:http';
import { JSON_CONTENT_TYPE } from '../cache/response-headers.js';

const TRPC_RESULT_OPEN = '{"result":{"data":';
const TRPC_RESULT_CLOSE = '}}';

/**
 * The output's JSON inside a tRPC success body, `{"result":{"data":…}}`, as
 * the cache and the idempotency store keep it: a REST answer is exactly
 * those bytes, so one stored answer serves both routes. The prefix and
 * suffix are what JSON.stringify writes for that envelope (no transformer).
 */
export function dataOfTrpcBody(body: string): string {
  if (body.startsWith(TRPC_RESULT_OPEN) && body.endsWith(TRPC_RESULT_CLOSE)) {
    return body.slice(TRPC_RESULT_OPEN.length, body.length - TRPC_RESULT_CLOSE.length);
  }
  // Not the envelope written by successResponse/the cache: re-encode what it holds.
  return JSON.stringify((JSON.parse(body) as { result: { data: unknown } }).result.data);
}

const OPEN_BYTES = Buffer.from(TRPC_RESULT_OPEN);
const CLOSE_BYTES = Buffer.from(TRPC_RESULT_CLOSE);

/** `dataOfTrpcBody` for a cache entry's bytes: a view into them, no copy; null when they are not the envelope. */
export function dataBytesOfTrpcBody(body: Buffer): Buffer | null {
  const end = body.length - CLOSE_BYTES.length;
  if (end < OPEN_BYTES.length || !body.subarray(0, OPEN_BYTES.length).equals(OPEN_BYTES) || !body.subarray(end).equals(CLOSE_BYTES)) return null;
  return body.subarray(OPEN_BYTES.length, end);
}

/**
 * A REST success: the procedure's output as the body. A 304 the cache
 * middleware decided on (server/cache/response-headers.ts makeNotModified)
 * goes out without one (RFC 9110 §15.4.5).
 */
export function sendRestResult(res: ServerResponse, status: number, json: string | Buffer): void {
  if (res.statusCode === 304) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  // Replaces the length of the tRPC envelope the cache middleware set.
  res.setHeader('content-length', Buffer.byteLength(json));
  res.end(json);
}
