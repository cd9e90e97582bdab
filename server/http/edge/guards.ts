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
  return batchGuard(req, res, services);
}
