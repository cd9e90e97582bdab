import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { appRouter } from '../routers/app.js';
import { createContext, type Context } from '../context.js';
import type { Services } from '../services.js';
import { cors } from './cors.js';
import { consoleFiles } from './dev-console.js';
import { capConnections, timeoutOptions } from './edge/connections.js';
import { closeIfAnsweredEarly } from './edge/early-answer.js';
import { edgeGuards } from './edge/guards.js';
import { cheapPaths, fastPaths } from './fast-paths.js';
import { healthz, readyz } from './health.js';
import { requestId } from './request-id.js';
import { sendJson } from './send-json.js';
import { reportError, responseMeta } from './trpc-hooks.js';
import { serveRest } from '../rest/index.js';
import { serveRestCacheHit } from '../rest/cache-hit.js';

const TRPC_PREFIX = '/trpc/';
const TRPC_METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);

export interface HttpServer {
  server: Server;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), then resolves. */
  drain(timeoutMs: number): Promise<void>;
}

export function createHttpServer(services: Services): HttpServer {
  const { log } = services;
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: TRPC_PREFIX,
    maxBodySize: services.config.MAX_BODY_BYTES,
    // The same three hooks the lean path uses (lean-path.ts), so both answer alike.
    createContext: ({ req, res }): Context => createContext(req, res, services),
    responseMeta,
    onError: ({ error, path, ctx }) => reportError(log, { error, path, ctx }),
  });

  const applyCors = cors({ origins: services.config.CORS_ORIGINS, development: services.config.NODE_ENV === 'development' });
  // Admission control (server/admission), the one gate in front of every route that works: false means its 503 is written.
  // Not async: a request admitted at once (nearly all of them) costs no promise and no extra turn of the microtask queue.
  const admit = (req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> => services.admission?.admit(req, res) ?? true;
  // The console page carries the demo key: development only.
  const devConsole = services.config.NODE_ENV === 'development' ? consoleFiles() : undefined;
  let inFlight = 0;
  let draining = false;
  let idle: (() => void) | null = null;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-request-id', requestId(req));
    // While draining, ask keep-alive clients to go elsewhere after this answer.
    if (draining) res.setHeader('connection', 'close');
    // Answer nothing before node's parser has read the rest of the bytes that
    // arrived with this request's head. A request without Content-Length or
    // Transfer-Encoding has no body (RFC 9112 §6.3), yet node's own client
    // sends `request({ method: 'TRACE' | 'GET' | 'DELETE' | … }).end(body)`
    // that way: the body is then a malformed next request, and node answers
    // it with a 400 and destroys the socket. Answered synchronously (the 405
    // below, the 404, /healthz), this request's reply would leave first
    // saying `Connection: keep-alive`, and the client would send its next
    // request on a socket already gone: ECONNRESET. One turn later the
    // parser has failed, the 400 with `Connection: close` is this request's
    // answer, and the client opens a new connection, as for every request
    // the tRPC adapter answers (it never answers synchronously).
    await Promise.resolve();
    // First, so that every answer below (fast paths, 304, 429, errors) carries the CORS headers.
    if (applyCors(req, res)) return;
    // HEAD is GET without the content (RFC 9110 §9.3.2). Node already drops
    // the body of a HEAD's answer (decided when `res` was made), so it is
    // routed as the GET it mirrors: same auth, same status, same headers.
    if (req.method === 'HEAD') req.method = 'GET';
    const url = req.url ?? '/';
    if (url.startsWith(TRPC_PREFIX)) {
      // tRPC turns the request into a fetch Request, which throws on methods
      // such as TRACE or CONNECT: refuse them here (RFC 9110 §15.5.6).
      if (!TRPC_METHODS.has(req.method ?? '')) {
        res.setHeader('allow', 'GET, POST');
        return sendJson(res, 405, { error: { message: `Method ${req.method} is not allowed`, code: 'METHOD_NOT_SUPPORTED' } });
      }
      if (await edgeGuards(req, res, services)) return;
      for (const cheap of cheapPaths) {
        if (await cheap(req, res, services)) return;
      }
      const admitted = admit(req, res);
      if (admitted === false || (admitted !== true && !(await admitted))) return;
      for (const fastPath of fastPaths) {
        if (await fastPath(req, res, services)) return;
      }
      await trpc(req, res);
      return;
    }
    const path = url.split('?', 1)[0];
    if (path === '/healthz' && req.method === 'GET') return healthz(res);
    if (path === '/readyz' && req.method === 'GET') return readyz(res, services);
    if (path === '/api' || path?.startsWith('/api/')) {
      if (await serveRestCacheHit(req, res, services)) return;
      const admitted = admit(req, res);
      if (admitted === false || (admitted !== true && !(await admitted))) return;
    }
    if (await serveRest(req, res, services)) return;
    const extra = services.routes[path ?? ''];
    if (extra) return extra(req, res);
    if (devConsole && (await devConsole(req, res))) return;
    sendJson(res, 404, { error: { message: `No route ${req.method} ${path}`, code: 'NOT_FOUND' } });
  };

  // One line per request at LOG_LEVEL=debug; at info and above the hot path pays nothing for it.
  const accessLog = log.isLevelEnabled('debug');
  const server = createServer(timeoutOptions(services.config), (req, res) => {
    inFlight++;
    closeIfAnsweredEarly(req, res);
    const started = accessLog ? performance.now() : 0;
    res.once('close', () => {
      inFlight--;
      services.metrics.observe(req, res);
      if (accessLog) {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        log.debug({ requestId: res.getHeader('x-request-id'), method: req.method, url: req.url, status: res.statusCode, ms }, 'request');
      }
      if (inFlight === 0 && idle) idle();
    });
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'request failed outside tRPC');
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  capConnections(server, services.config, services.clientAddress);

  return {
    server,
    drain(timeoutMs) {
      draining = true;
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          // Keep-alive connections whose last request finished while draining are idle now: close them too.
          server.closeIdleConnections();
          resolve();
        };
        const timer = setTimeout(() => {
          log.warn({ inFlight }, 'shutdown timeout: closing remaining connections');
          server.closeAllConnections();
          done();
        }, timeoutMs);
        timer.unref();
        server.close();
        server.closeIdleConnections();
        if (inFlight === 0) done();
        else idle = done;
      });
    },
  };
}
