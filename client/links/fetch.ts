import { TRPCClientError, type Operation, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/routers/app.js';

/** Headers of one request, or a promise of them. */
export type HeadersFor = (op: Operation) => Record<string, string> | Promise<Record<string, string>>;

/** Options of {@link fetchLink}. */
export interface FetchLinkOptions {
  /** The tRPC endpoint, such as `http://127.0.0.1:3000/trpc`. */
  url: string;
  /**
   * The fetch to call.
   * @default globalThis.fetch, looked up per request (so a test double installed later applies)
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /**
   * Headers per request (auth, Idempotency-Key).
   * @default no headers
   */
  headers?: HeadersFor;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The terminal link: one `fetch` per operation, in tRPC's wire format
 * without a transformer (a query is `GET <url>/<path>?input=<JSON>`, a
 * mutation `POST <url>/<path>` with the JSON body), the format httpLink
 * speaks. It exists because httpLink costs about 90 µs a call on Node 20
 * (two AbortControllers and listeners per request, object spreads, an
 * awaited headers step), a third of a cached query's round trip here; see
 * bench/client-overhead.ts. Errors carry `meta.response` and
 * `meta.responseJSON` as httpLink's do, so Retry-After can be read.
 *
 * @example
 * ```ts
 * createTRPCClient<AppRouter>({ links: [fetchLink({ url: 'http://127.0.0.1:3000/trpc', headers: () => ({ authorization: 'Bearer demo-alice' }) })] });
 * ```
 */
export function fetchLink(opts: FetchLinkOptions): TRPCLink<AppRouter> {
  const base = opts.url.replace(/\/+$/, '');
  const headersFor = opts.headers;
  return () =>
    ({ op }) =>
      observable((observer) => {
        let active = true;
        const { type, path, input } = op;
        if (type === 'subscription') {
          observer.error(TRPCClientError.from<AppRouter>(new Error('Subscriptions are not supported by this client')));
          return () => {};
        }
        const query = type === 'query';
        const url = query && input !== undefined ? `${base}/${path}?input=${encodeURIComponent(JSON.stringify(input))}` : `${base}/${path}`;
        const send = (headers: Record<string, string>): Promise<Response> => {
          const init: RequestInit = {
            method: query ? 'GET' : 'POST',
            headers: query ? headers : { 'content-type': 'application/json', ...headers },
            // The call's own signal aborts the request. Without one, an
            // unsubscribed request runs to its end and its answer is dropped:
            // a controller per call to cover that rare case would cost every call.
            signal: op.signal ?? null,
          };
          if (!query && input !== undefined) init.body = JSON.stringify(input);
          return (opts.fetch ?? globalThis.fetch)(url, init);
        };
        const headers = headersFor ? headersFor(op) : {};
        (headers instanceof Promise ? headers.then(send) : send(headers))
          .then(async (response) => {
            // As httpLink: an answer that is not JSON has no meta (it reads as a failed exchange).
            const json: unknown = await response.json();
            if (!active) return;
            const meta = { response, responseJSON: json };
            if (isObject(json) && 'error' in json) {
              observer.error(TRPCClientError.from<AppRouter>(json, { meta }));
            } else if (isObject(json) && isObject(json['result'])) {
              observer.next({ context: meta, result: { type: 'data', data: json['result']['data'] } });
              observer.complete();
            } else {
              observer.error(TRPCClientError.from<AppRouter>(new Error('Unable to transform response from server'), { meta }));
            }
          })
          .catch((cause: unknown) => {
            if (active) observer.error(TRPCClientError.from<AppRouter>(cause instanceof Error ? cause : new Error(String(cause))));
          });
        return () => {
          active = false;
        };
      });
}
