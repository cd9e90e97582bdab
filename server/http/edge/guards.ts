import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { Services } from '../../services.js';
import { batchGuard } from './batch-guard.js';
import { adapterCanParse } from './host-guard.js';
import { sendEdgeError } from './send-error.js';

/**
 * Checks every /trpc request passes before any fast path or the adapter:
 * what would make the adapter throw is refused with a 4xx here. Returns
 * true when it answered.
 */
export function edgeGuards(req: IncomingMessage, res: ServerResponse, services: Services): boolean | Promise<boolean> {
  if (!adapterCanParse(req)) {
    sendEdgeError(req, res, services, new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid Host header: it must be a host name or address, with an optional port.' }));
    return true;
  }
  // A declared length past the limit is refused before a byte of the body is read (and the connection closed).
  if (Number(req.headers['content-length'] ?? 0) > services.config.MAX_BODY_BYTES) {
    sendEdgeError(req, res, services, new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `Body larger than MAX_BODY_BYTES (${services.config.MAX_BODY_BYTES} bytes).` }));
    return true;
  }
  return batchGuard(req, res, services);
}
