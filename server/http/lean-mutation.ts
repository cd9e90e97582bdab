import type { IncomingMessage } from 'node:http';
import { createContext } from '../context.js';
import { handBackBody, peekBody } from '../idempotency/request-body.js';
import { isJsonRequest } from '../idempotency/trpc-request.js';
import type { Services } from '../services.js';
import type { FastPath } from './fast-paths.js';
import { PLAIN_HOST, serveCall } from './lean-path.js';
import { leanMutations } from './lean-procedures.js';

const PREFIX_LENGTH = '/trpc/'.length;

/** The body as text, if the idempotent replay already read it or it is announced and small enough to read; else null. */
async function bodyOf(req: IncomingMessage, services: Services): Promise<string | null | 'failed'> {
  const handedBack: unknown = (req as IncomingMessage & { body?: unknown }).body;
  if (typeof handedBack === 'string') return handedBack;
  // No length (chunked) or too long: the adapter reads it, and answers the 413 itself.
  const length = req.headers['content-length'];
  if (length === undefined || Number(length) > services.config.MAX_BODY_BYTES) return null;
  const body = await peekBody(req, services.config.MAX_BODY_BYTES);
  return body.kind === 'complete' ? body.text : body.kind === 'failed' ? 'failed' : null;
}

/**
 * The lean path for one mutation (the GET lean path's counterpart, see
 * lean-path.ts): `POST /trpc/<mutation>` with a JSON body, from an API key
 * that authenticates, calls the procedure as the adapter does, with the
 * adapter's context and the body's JSON as input, so auth, the rate limit,
 * idempotency and zod run as usual, and writes the adapter's answer in one
 * write. Anything else — a batch or any query string, an unknown path, a
 * query, another content type, a body without a length or over the limit,
 * a body that is not JSON (handed back), no or an unknown key (the
 * adapter's 401 and the failed-auth limit), an unusual Host — goes to the
 * adapter untouched, which stays the reference.
 */
export const leanMutation: FastPath = async (req, res, services) => {
  if (req.method !== 'POST' || !services.config.LEAN_PATH) return false;
  const url = req.url ?? '';
  if (url.includes('?', PREFIX_LENGTH)) return false;
  const path = url.slice(PREFIX_LENGTH);
  const procedure = leanMutations.get(path);
  if (procedure === undefined) return false;
  const { headers } = req;
  if (!isJsonRequest(req) || headers['trpc-accept'] !== undefined || headers.accept?.includes('application/jsonl')) return false;
  if (headers.host !== undefined && !PLAIN_HOST.test(headers.host)) return false;
  if ((await services.authenticate(req)) === null) return false;
  const text = await bodyOf(req, services);
  if (text === 'failed') {
    // The client went away mid-body: no one is left to answer.
    res.destroy();
    return true;
  }
  if (text === null) return false;
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    handBackBody(req, text);
    return false;
  }
  return serveCall(createContext(req, res, services), 'mutation', path, procedure, input);
};
