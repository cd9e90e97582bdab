import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError, type AnyTRPCProcedure } from '@trpc/server';
import { getTRPCErrorFromUnknown } from '@trpc/server/unstable-core-do-not-import';
import type { AuthInfo } from '../../auth/authenticate.js';
import { trpcCallsOf } from '../../idempotency/trpc-request.js';
import type { Meta } from '../../meta.js';
import { rateLimitedError } from '../../middleware/rate-limit.js';
import { appRouter } from '../../routers/app.js';
import type { Services } from '../../services.js';
import { applyRateLimit, markPrepaid } from '../apply-rate-limit.js';
import { sendEdgeError } from './send-error.js';

// The adapter's flat record of procedures by dotted path (see idempotent-replay.ts).
const procedures = appRouter._def.procedures as unknown as Readonly<Record<string, AnyTRPCProcedure | undefined>>;

/** What a call takes from the bucket: its procedure's meta `cost` (default 1); nothing for a path no procedure has. */
function costOf(path: string): number {
  const procedure = Object.hasOwn(procedures, path) ? procedures[path] : undefined;
  if (procedure === undefined) return 0;
  return ((procedure._def.meta ?? {}) as Meta).cost ?? 1;
}

/**
 * A batch (`?batch=1`) is judged once, as a whole, before any call runs:
 * more than MAX_BATCH_SIZE calls is one 400; no valid key is one 401 (or
 * the failed-auth 429), counted once; and the cost of all its calls is
 * taken from the key's bucket at once, one 429 when it is not there.
 * Unbatched, a thousand calls would each be refused, formatted and
 * charged on their own. Returns true when it answered.
 */
export async function batchGuard(req: IncomingMessage, res: ServerResponse, services: Services): Promise<boolean> {
  const url = req.url ?? '';
  if (!url.includes('batch=')) return false;
  const calls = trpcCallsOf(url);
  if (calls === null || !calls.isBatch) return false;
  const max = services.config.MAX_BATCH_SIZE;
  if (calls.paths.length > max) {
    const error = new TRPCError({ code: 'BAD_REQUEST', message: `A batch holds at most ${max} calls (MAX_BATCH_SIZE); this one has ${calls.paths.length}.` });
    sendEdgeError(req, res, services, error);
    return true;
  }
  let auth: AuthInfo;
  try {
    auth = await services.authGate(req, res);
  } catch (cause) {
    sendEdgeError(req, res, services, getTRPCErrorFromUnknown(cause));
    return true;
  }
  const cost = calls.paths.reduce((sum, path) => sum + costOf(path), 0);
  if (cost === 0) return false;
  const decision = await applyRateLimit(services.limiter, res, auth, cost);
  if (!decision.allowed) {
    sendEdgeError(req, res, services, rateLimitedError(decision));
    return true;
  }
  markPrepaid(res, decision);
  return false;
}
