import { getTRPCErrorFromUnknown } from '@trpc/server/unstable-core-do-not-import';
import { createContext } from '../context.js';
import type { Callable } from './call-procedure.js';
import type { FastPath } from './fast-paths.js';
import { countLeanServed, PLAIN_HOST } from './lean-path.js';
import { leanQueries } from './lean-procedures.js';
import { isPlainJsonGet, rawInputOf, UNHANDLED } from './single-get.js';
import { reportError } from './trpc-hooks.js';
import { sendTrpcBatch, type BatchOutcome } from './trpc-answer.js';

const PREFIX_LENGTH = '/trpc/'.length;
const BATCH_QUERY = 'batch=1&';

/** Each call's input as the adapter reads a batch's `input` (`{"0": …, "1": …}`, a missing entry undefined), or UNHANDLED. */
function inputsOf(raw: unknown, calls: number): unknown[] | typeof UNHANDLED {
  if (raw === undefined) return Array.from({ length: calls }, () => undefined);
  // The adapter answers other shapes with its own 400.
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return UNHANDLED;
  const record = raw as Record<string, unknown>;
  return Array.from({ length: calls }, (_, i) => (Object.hasOwn(record, i) ? record[i] : undefined));
}

/**
 * The lean path for a batch of queries (see lean-path.ts):
 * `GET /trpc/<query>,<query>…?batch=1&input=<json>`, from an API key that
 * authenticates, runs every call concurrently as the adapter does, with one
 * context per request, and writes the adapter's array answer in one write.
 * Anything else — a mutation or unknown path among the calls, another
 * query string, input that is not JSON or not an object, headers that change tRPC's parsing, no or an unknown key (the
 * adapter refuses the batch once, as a whole), an unusual Host — goes to the
 * adapter untouched.
 */
export const leanBatch: FastPath = async (req, res, services) => {
  if (req.method !== 'GET' || !services.config.LEAN_PATH) return false;
  const url = req.url ?? '';
  const q = url.indexOf('?', PREFIX_LENGTH);
  if (q === -1 || !url.startsWith(BATCH_QUERY, q + 1)) return false;
  const paths = url.slice(PREFIX_LENGTH, q).split(',');
  const procedures: Callable[] = [];
  for (const path of paths) {
    const procedure = leanQueries.get(path);
    if (procedure === undefined) return false;
    procedures.push(procedure);
  }
  const { headers } = req;
  if (!isPlainJsonGet(headers)) return false;
  if (headers.host !== undefined && !PLAIN_HOST.test(headers.host)) return false;
  const inputs = inputsOf(rawInputOf(url.slice(q + 1 + BATCH_QUERY.length)), paths.length);
  if (inputs === UNHANDLED) return false;
  if ((await services.authenticate(req)) === null) return false;

  const ctx = createContext(req, res, services);
  countLeanServed(services);
  const outcomes = await Promise.all(
    paths.map(async (path, i): Promise<BatchOutcome> => {
      const input = inputs[i];
      try {
        return { data: await procedures[i]?.({ ctx, path, getRawInput: async () => input, batchIndex: i }) };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        reportError(services.log, { error, path, ctx });
        return { error, path, input };
      }
    }),
  );
  sendTrpcBatch(res, ctx, outcomes);
  return true;
};
