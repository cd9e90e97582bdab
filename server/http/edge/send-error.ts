import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TRPCError } from '@trpc/server';
import { createContext } from '../../context.js';
import type { Services } from '../../services.js';
import { sendTrpcError } from '../trpc-answer.js';

const PREFIX_LENGTH = '/trpc/'.length;

/**
 * Refuses a whole /trpc request before the adapter sees it, with the
 * adapter's error shape (and status), once: a batch gets one body, not one
 * per call (the tRPC client hands a non-array answer to every call).
 */
export function sendEdgeError(req: IncomingMessage, res: ServerResponse, services: Services, error: TRPCError): void {
  const url = req.url ?? '';
  const q = url.indexOf('?', PREFIX_LENGTH);
  const path = q === -1 ? url.slice(PREFIX_LENGTH) : url.slice(PREFIX_LENGTH, q);
  sendTrpcError(res, { error, path, input: undefined, ctx: createContext(req, res, services) });
}
