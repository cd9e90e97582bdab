import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Services } from './services.js';

/** Per-request context; `auth` is added by the auth middleware. */
export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  clientIp: string;
  services: Services;
  log: Logger;
}

export function clientIp(req: IncomingMessage): string {
  // The socket address, not X-Forwarded-For: trusting a client-set header
  // would let anyone pick their own rate-limit bucket.
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * The context the tRPC adapter's createContext builds; the HTTP fast paths
 * that call procedures or format errors themselves build the same one.
 */
export function createContext(req: IncomingMessage, res: ServerResponse, services: Services): Context {
  const requestId = String(res.getHeader('x-request-id') ?? '');
  return { req, res, requestId, clientIp: clientIp(req), services, log: services.log.child({ requestId }) };
}
