import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

// Hand-written rather than the `cors` package: that one sets its headers when
// the request arrives (tRPC's and our own `Vary` then overwrite its
// `Vary: Origin`) and sends Expose-Headers and Allow-Methods to origins it
// refuses, where the contract wants no CORS header at all. The whole policy
// is a lookup and four headers.

/** Request headers a browser client of Composure sends (DESIGN.md, "In the browser"). */
export const CORS_ALLOW_HEADERS = 'authorization, content-type, idempotency-key, if-none-match, trpc-accept, x-request-id';
/** Response headers a browser script may read: without them Retry-After and the rest are hidden from it (Fetch, CORS-safelisted response headers). */
export const CORS_EXPOSE_HEADERS = 'retry-after, ratelimit, ratelimit-policy, idempotent-replayed, cache-status, etag, age, x-request-id';
export const CORS_ALLOW_METHODS = 'GET, POST';
/** Ten minutes: Chromium caps a preflight's lifetime at two hours anyway. */
export const CORS_MAX_AGE_SECONDS = 600;

// Any port on the loopback names a developer's own page (Vite on :5173, the console on :3000).
const LOCAL_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1)(?::\d{1,5})?$/;

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * Allowed origins, exactly as browsers send them (`https://app.example.com`).
   * @default none; in development, any http://localhost:* or http://127.0.0.1:* origin
   */
  origins?: readonly string[] | undefined;
  /**
   * Whether this is development, where local origins are allowed when `origins` is not given.
   * @default false
   */
  development?: boolean;
}

/**
 * Applies the CORS policy to one request: returns true when it answered it
 * (a preflight of an allowed origin: 204), false to let the request go on.
 * For an allowed origin, the answer's headers are completed as they are
 * written, so fast paths, 304s, 429s and errors carry them alike and a
 * `Vary` set on the way keeps its `Origin`. Requests without an allowed
 * `Origin` are left untouched.
 *
 * @example
 * ```ts
 * const applyCors = cors({ origins: ['https://app.example.com'] });
 * if (applyCors(req, res)) return;
 * ```
 */
export function cors(opts: CorsOptions = {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const listed = opts.origins ? new Set(opts.origins) : undefined;
  const allowed = listed ? (origin: string) => listed.has(origin) : opts.development ? (origin: string) => LOCAL_ORIGIN.test(origin) : () => false;
  return function corsPolicy(req, res) {
    const origin = req.headers.origin;
    if (origin === undefined || !allowed(origin)) return false;
    // A preflight is an OPTIONS request naming the method to come (Fetch, CORS-preflight request).
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.writeHead(204, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': CORS_ALLOW_METHODS,
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
        vary: 'Origin',
      });
      res.end();
      return true;
    }
    const writeHead = res.writeHead;
    // node's end() without an explicit writeHead goes through writeHead too (its implicit header).
    res.writeHead = function withCors(this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      this.setHeader('access-control-allow-origin', origin);
      this.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
      this.setHeader('vary', withOrigin(this.getHeader('vary')));
      return writeHead.apply(this, args);
    } as ServerResponse['writeHead'];
    return false;
  };
}

// The answer depends on Origin, so a cache must key on it (RFC 9110 §12.5.5).
function withOrigin(vary: ReturnType<ServerResponse['getHeader']>): string {
  const current = Array.isArray(vary) ? vary.join(', ') : vary === undefined ? '' : String(vary);
  if (current === '') return 'Origin';
  return /(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i.test(current) ? current : `${current}, Origin`;
}

/**
 * The `CORS_ORIGINS` setting: comma-separated origins, each checked to be a
 * bare origin, so a typo fails at start with the variable's name.
 *
 * @example
 * ```ts
 * corsOriginsSchema.parse('https://a.example, http://localhost:5173'); // ['https://a.example', 'http://localhost:5173']
 * ```
 */
export const corsOriginsSchema = z.string().transform((list, ctx) => {
  const origins = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const origin of origins) {
    // An origin is scheme://host[:port], with no path, as browsers send it (RFC 6454 §6.1).
    if (!URL.canParse(origin) || !/^https?:$/.test(new URL(origin).protocol) || new URL(origin).origin !== origin) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(origin)} is not an origin such as https://app.example.com` });
    }
  }
  return origins;
});
