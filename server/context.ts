import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Services } from './services.js';

/** Per-request context; `auth` is added by the auth middleware. */
export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  /** The client's address: the socket's peer, or what a TRUST_PROXY proxy forwarded. */
  clientIp: string;
  services: Services;
  log: Logger;
}

/**
 * The context the tRPC adapter's createContext builds; the HTTP fast paths
 * that call procedures or format errors themselves build the same one.
 */
export function createContext(req: IncomingMessage, res: ServerResponse, services: Services): Context {
  const requestId = String(res.getHeader('x-request-id') ?? '');
  return { req, res, requestId, clientIp: services.clientAddress.of(req), services, log: services.log.child({ requestId }) };
}
