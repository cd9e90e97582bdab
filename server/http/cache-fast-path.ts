import type { IncomingMessage, ServerResponse } from 'node:http';
import { getTRPCErrorFromUnknown } from '@trpc/server/unstable-core-do-not-import';
import { createContext } from '../context.js';
import type { AuthInfo } from '../auth/authenticate.js';
import type { CachePolicy } from '../cache/index.js';
import { inputDigest } from '../cache/input-digest.js';
import { ADAPTER_VARY, JSON_CONTENT_TYPE, notModified } from '../cache/response-headers.js';
import type { Services } from '../services.js';
import { chargeCacheHit } from './charge-cache-hit.js';
import type { FastPath } from './fast-paths.js';
import { isPlainJsonGet, rawInputOf, UNHANDLED } from './single-get.js';
import { sendTrpcError } from './trpc-answer.js';

const PREFIX_LENGTH = '/trpc/'.length;
const NO_INPUT = inputDigest(undefined) ?? '';

/*
 * Decoding, parsing, canonicalizing and hashing the same few query strings on
 * every hit cost more than the cache lookup itself, so their result is kept per
 * query string. Bounded in count and in key length: a client sending
 * endless distinct long inputs only empties it now and then.
 */
const MEMO_MAX_ENTRIES = 10_000;
const MEMO_MAX_QUERY_LENGTH = 256;
const digestByQuery = new Map<string, string | typeof UNHANDLED>();

/** The input digest of the request's query (`?…`, from index q), or UNHANDLED. Exported for its tests. */
export function inputDigestOf(url: string, q: number): string | typeof UNHANDLED {
  if (q === -1 || q === url.length - 1) return NO_INPUT;
  const query = url.slice(q + 1);
  let digest = digestByQuery.get(query);
  if (digest === undefined) {
    const raw = rawInputOf(query);
    digest = raw === UNHANDLED ? UNHANDLED : (inputDigest(raw) ?? UNHANDLED);
    if (query.length <= MEMO_MAX_QUERY_LENGTH) {
      if (digestByQuery.size >= MEMO_MAX_ENTRIES) digestByQuery.clear();
      digestByQuery.set(query, digest);
    }
  }
  return digest;
}

/** How many query strings the digest memo holds now (its bounds are tested). */
export function digestMemoSize(): number {
  return digestByQuery.size;
}

/**
 * Answers a failed authentication as the adapter would (see trpc-answer.ts).
 * Answering here, rather than handing the request on, matters: the gate
 * has already counted this failure against the client's IP, and the
 * adapter's auth middleware would count it again.
 */
function sendAuthError(req: IncomingMessage, res: ServerResponse, services: Services, path: string, cause: unknown): void {
  // `input` is what the adapter passes: nothing, since auth runs before the input is read.
  sendTrpcError(res, { error: getTRPCErrorFromUnknown(cause), path, input: undefined, ctx: createContext(req, res, services) });
}

async function serveHit(req: IncomingMessage, res: ServerResponse, services: Services, policy: CachePolicy, input: string): Promise<boolean> {
  let auth: AuthInfo;
  try {
    auth = await services.authGate(req, res);
  } catch (cause) {
    sendAuthError(req, res, services, policy.path, cause);
    return true;
  }
  const { cache } = services;
  const entry = cache.get(cache.keyForDigest(policy, auth.tenantId, input));
  // A miss goes on untouched: only the gate ran, and a successful authentication counts nothing.
  if (entry === undefined) return false;
  if (!(await chargeCacheHit(services, res, auth, policy, entry))) return false;
  res.setHeader('vary', ADAPTER_VARY);
  if (notModified(req, entry)) {
    // RFC 9110 §15.4.5: no content and no Content-Type or Content-Length.
    res.statusCode = 304;
    res.end();
    return true;
  }
  res.statusCode = 200;
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  res.setHeader('content-length', entry.body.length);
  res.end(entry.body);
  return true;
}

/**
 * Answers a cache hit of a single GET `/trpc/<query>?input=…` in node:http,
 * before the tRPC adapter (whose per-request set-up costs several times a
 * whole hit here), with the same auth, rate limit, bytes and headers as the
 * middleware would give. Everything else — misses, batches, other methods,
 * unusual queries or headers, an empty bucket — goes on to the adapter,
 * which stays the reference; nothing is charged twice (see above).
 */
export const cacheFastPath: FastPath = (req, res, services) => {
  if (req.method !== 'GET' || !services.cache.fastPath) return false;
  const url = req.url ?? '';
  const q = url.indexOf('?', PREFIX_LENGTH);
  const policy = services.cache.policies.get(q === -1 ? url.slice(PREFIX_LENGTH) : url.slice(PREFIX_LENGTH, q));
  if (policy === undefined) return false;
  if (!isPlainJsonGet(req.headers)) return false;
  const input = inputDigestOf(url, q);
  if (input === UNHANDLED) return false;
  return serveHit(req, res, services, policy, input);
};
