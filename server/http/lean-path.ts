import { getTRPCErrorFromUnknown } from '@trpc/server/unstable-core-do-not-import';
import { createContext } from '../context.js';
import type { Services } from '../services.js';
import type { Callable } from './call-procedure.js';
import type { FastPath } from './fast-paths.js';
import { leanQueries } from './lean-procedures.js';
import { isPlainJsonGet, rawInputOf, UNHANDLED } from './single-get.js';
import { sendTrpcError, sendTrpcResult } from './trpc-answer.js';

const PREFIX_LENGTH = '/trpc/'.length;

/*
 * The adapter builds a WHATWG URL from the Host header and answers 400 when
 * it cannot; any Host not plainly a name or address with a port goes there.
 */
export const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Requests the lean paths (single GET, batch, mutation) answered, per server: tests check the route taken, not only the bytes. */
const served = new WeakMap<Services, number>();
export function leanPathServed(services: Services): number {
  return served.get(services) ?? 0;
}
export function countLeanServed(services: Services): void {
  served.set(services, (served.get(services) ?? 0) + 1);
}

/** One call through `procedure` with the adapter's context, answered as the adapter answers it. */
export async function serveCall(
  ctx: ReturnType<typeof createContext>,
  type: 'query' | 'mutation',
  path: string,
  procedure: Callable,
  getRawInput: () => Promise<unknown>,
  input: unknown,
): Promise<true> {
  const { res, services } = ctx;
  countLeanServed(services);
  let data: unknown;
  try {
    data = await procedure({ ctx, path, getRawInput });
  } catch (cause) {
    // The adapter passes the input only if a middleware read it; our error
    // formatter and onError read neither, so the parsed input is passed as is.
    sendTrpcError(res, { error: getTRPCErrorFromUnknown(cause), path, type, input, ctx });
    return true;
  }
  // Every procedure has a zod .output(): no stream or iterable (which the adapter refuses) reaches here.
  sendTrpcResult(res, data);
  return true;
}

/**
 * The lean path (DESIGN.md "Measured facts"): a single, non-batched
 * `GET /trpc/<query>?input=<json>` calls the procedure as the adapter calls
 * it (call-procedure.ts), with the adapter's context, so auth, rate limit, cache and zod run as
 * usual, and writes what the adapter would write, without the adapter's
 * per-request Request/Headers/stream set-up. Anything else — no or another
 * query string, an unknown path, a mutation, input that is not JSON,
 * headers that change tRPC's parsing, an unusual Host — is handed on
 * untouched to the adapter, which stays the reference (LEAN_PATH=false
 * sends everything there).
 */
export const leanPath: FastPath = (req, res, services) => {
  if (req.method !== 'GET' || !services.config.LEAN_PATH) return false;
  const url = req.url ?? '';
  const q = url.indexOf('?', PREFIX_LENGTH);
  if (q === -1) return false;
  const path = url.slice(PREFIX_LENGTH, q);
  const procedure = leanQueries.get(path);
  if (procedure === undefined) return false;
  const { headers } = req;
  if (!isPlainJsonGet(headers)) return false;
  if (headers.host !== undefined && !PLAIN_HOST.test(headers.host)) return false;
  const input = rawInputOf(url.slice(q + 1));
  if (input === UNHANDLED) return false;
  return serveCall(createContext(req, res, services), 'query', path, procedure, async () => input, input);
};
