import { getTRPCErrorFromUnknown, type AnyProcedure } from '@trpc/server/unstable-core-do-not-import';
import { createCallerFactory } from '../trpc.js';
import { appRouter } from '../routers/app.js';
import { createContext } from '../context.js';
import type { Services } from '../services.js';
import type { FastPath } from './fast-paths.js';
import { isPlainJsonGet, rawInputOf, UNHANDLED } from './single-get.js';
import { sendTrpcError, sendTrpcResult } from './trpc-answer.js';

const PREFIX_LENGTH = '/trpc/'.length;

const createCaller = createCallerFactory(appRouter);
type Call = (input: unknown) => Promise<unknown>;

// The router's queries by dotted path (at run time tRPC v11 keeps them flat in `_def.procedures`; its type is the nested record).
// Mutations, subscriptions and unknown paths are not here: the adapter answers them.
const queries = new Set(
  Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>)
    .filter(([, procedure]) => procedure._def.type === 'query')
    .map(([path]) => path),
);

/*
 * The adapter builds a WHATWG URL from the Host header and answers 400 when
 * it cannot; any Host not plainly a name or address with a port goes there.
 */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Requests the lean path answered, per server: tests check the route taken, not only the bytes. */
const served = new WeakMap<Services, number>();
export function leanPathServed(services: Services): number {
  return served.get(services) ?? 0;
}

async function serve(ctx: ReturnType<typeof createContext>, path: string, input: unknown): Promise<true> {
  const { res, services } = ctx;
  served.set(services, (served.get(services) ?? 0) + 1);
  // A caller per request, bound to this request's context, like the adapter's createContext.
  let call: unknown = createCaller(ctx);
  for (const part of path.split('.')) call = (call as Record<string, unknown>)[part];
  let data: unknown;
  try {
    data = await (call as Call)(input);
  } catch (cause) {
    // The adapter passes the input only if a middleware read it; our error
    // formatter and onError read neither, so the parsed input is passed as is.
    sendTrpcError(res, { error: getTRPCErrorFromUnknown(cause), path, input, ctx });
    return true;
  }
  // Every query has a zod .output(): no stream or iterable (which the adapter refuses) reaches here.
  sendTrpcResult(res, data);
  return true;
}

/**
 * The lean path (DESIGN.md "Measured facts"): a single, non-batched
 * `GET /trpc/<query>?input=<json>` runs the procedure through a tRPC caller
 * with the adapter's context, so auth, rate limit, cache and zod run as
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
  if (!queries.has(path)) return false;
  const { headers } = req;
  if (!isPlainJsonGet(headers)) return false;
  if (headers.host !== undefined && !PLAIN_HOST.test(headers.host)) return false;
  const input = rawInputOf(url.slice(q + 1));
  if (input === UNHANDLED) return false;
  return serve(createContext(req, res, services), path, input);
};
