import { createTRPCClientProxy, type Operation, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '../server/routers/app.js';
import { HEADERS } from '../shared/http-headers.js';
import { ComposureUntypedClient } from './internals/untyped-client.js';
import { fetchLink, type HeadersFor } from './links/fetch.js';
import { idempotencyLink } from './links/idempotency.js';
import { Pacer, resolvePacing, type PacingOptions } from './links/internals/pacer.js';
import { pacingLink } from './links/pacing.js';
import { retryAfterLink, type RetryOptions } from './links/retry-after.js';
import { AdaptiveThrottle, adaptiveThrottleLink, resolveThrottle, type ThrottleOptions } from './links/adaptive-throttle.js';

/** The typed client `createClient` returns: `client.users.list.query(...)` and so on, inferred from the router. */
export type ComposureClient = TRPCClient<AppRouter>;

/** A `fetch` the client can use instead of the global one. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** Options of {@link createClient}. `url` and `apiKey` are required; everything else is optional. */
export interface ClientOptions {
  /**
   * The API's base URL, such as `http://127.0.0.1:3000`; tRPC is served
   * under `/trpc`, which is appended unless the URL already ends with it.
   * In a browser it may be relative to the page: `'/'` is the page's own origin.
   */
  url: string;
  /** The API key, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /**
   * The fetch to use (a test double, a proxy-aware fetch, ...).
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /**
   * Extra request headers, or a function returning them per request.
   * `Authorization` and `Idempotency-Key` are the client's and win.
   * @default {}
   */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /**
   * Retries of 429, 503, 409-in-flight and network failures.
   * @default { maxAttempts: 4, maxDelayMs: 30000, baseDelayMs: 200 }
   */
  retry?: RetryOptions;
  /**
   * Caps this client's concurrency and pace through its bottleneck scheduler.
   * @default undefined (unlimited: calls skip the scheduler unless paused by a 429)
   */
  pacing?: PacingOptions;
  /**
   * Client-side adaptive throttling (Google SRE book, "Handling Overload"):
   * once the server rejects most calls as overloaded or rate limited, the
   * client refuses some itself (ThrottledError) instead of sending them.
   * `false` turns it off.
   * @default { k: 2, windowMs: 120000 }
   */
  throttle?: ThrottleOptions | false;
}

function endpointOf(url: unknown): string {
  // In a page, a relative URL ('/', '') means the page's own server, resolved
  // against the page's address as fetch and <a href> resolve it (WHATWG URL).
  const page = typeof location === 'undefined' ? undefined : location.href;
  const wanted = page ? 'an http(s) URL' : 'an absolute http(s) URL';
  let parsed: URL;
  try {
    parsed = new URL(String(url), page);
  } catch {
    throw new TypeError(`createClient: url must be ${wanted}, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`createClient: url must be ${wanted}, got ${JSON.stringify(url)}`);
  }
  const base = `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
  return base.endsWith('/trpc') ? base : `${base}/trpc`;
}

// Lower-case names, so a caller's `Authorization` cannot sit beside ours and be joined with it by fetch.
function lowerCased(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/**
 * Creates the typed Composure client. Every mutation gets an idempotency
 * key (a fresh UUID, or yours through `{ context: { idempotencyKey } }`),
 * reused on each of its retries; 429, 503, 409-in-flight and network
 * failures are retried as `Retry-After` says, else with capped exponential
 * backoff and full jitter; a 429 pauses all of this client's calls until
 * its Retry-After, and an overload 503 likewise (spread past it); when the
 * server keeps refusing, the client throttles itself (`throttle`).
 * Requests are not batched: each mutation needs its own
 * Idempotency-Key header (the server refuses a batch of mutations under one
 * key), and each query its own cache entry, ETag and Retry-After. Invalid
 * options throw here, naming the option.
 *
 * @example
 * ```ts
 * import { createClient } from 'composure-client';
 *
 * const client = createClient({ url: 'http://127.0.0.1:3000', apiKey: 'demo-alice' });
 * const page = await client.users.list.query({ limit: 20 });
 * const payment = await client.payments.create.mutate({ userId: page.data[0]!.id, amountCents: 1999, currency: 'EUR' });
 * ```
 */
export function createClient(opts: ClientOptions): ComposureClient {
  const url = endpointOf(opts.url);
  const apiKey = opts.apiKey;
  if (typeof apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(apiKey)) {
    throw new TypeError('createClient: apiKey must be a non-empty string of printable ASCII without spaces');
  }
  if (opts.fetch !== undefined && typeof opts.fetch !== 'function') throw new TypeError('createClient: fetch must be a function');
  const extra = opts.headers ?? {};
  if (typeof extra !== 'function' && (typeof extra !== 'object' || extra === null)) {
    throw new TypeError('createClient: headers must be an object or a function returning one');
  }
  const retry = retryAfterLink(opts.retry);
  const pacer = new Pacer(resolvePacing(opts.pacing));
  if (opts.throttle !== undefined && opts.throttle !== false && (typeof opts.throttle !== 'object' || opts.throttle === null)) {
    throw new TypeError('createClient: throttle must be an object of options or false');
  }
  const throttle = opts.throttle === false ? null : new AdaptiveThrottle(resolveThrottle(opts.throttle));

  const own = { [HEADERS.authorization]: `Bearer ${apiKey}` };
  const withKey = (base: Record<string, string>, op: Operation): Record<string, string> => {
    const key = op.type === 'mutation' ? op.context['idempotencyKey'] : undefined;
    return typeof key === 'string' ? { ...base, [HEADERS.idempotencyKey]: key } : base;
  };
  let headers: HeadersFor;
  if (typeof extra === 'function') {
    headers = (op) => Promise.resolve(extra()).then((h) => withKey({ ...lowerCased(h), ...own }, op));
  } else {
    // Static headers are merged once; per call only a mutation's key is added.
    const merged = { ...lowerCased(extra), ...own };
    headers = (op) => withKey(merged, op);
  }

  const links = [
    idempotencyLink(),
    retry,
    ...(throttle ? [adaptiveThrottleLink(throttle)] : []),
    pacingLink(pacer),
    fetchLink({ url, headers, ...(opts.fetch ? { fetch: opts.fetch } : {}) }),
  ];
  // tRPC's own typed proxy over a leaner untyped client (see internals/untyped-client.ts).
  return createTRPCClientProxy<AppRouter>(new ComposureUntypedClient(links));
}
