import { createContext } from '../context.js';
import { isJsonRequest } from '../idempotency/trpc-request.js';
import { bodyInput } from './body-input.js';
import type { FastPath } from './fast-paths.js';
import { PLAIN_HOST, serveCall } from './lean-path.js';
import { leanMutations } from './lean-procedures.js';

const PREFIX_LENGTH = '/trpc/'.length;

/**
 * The lean path for one mutation (the GET lean path's counterpart, see
 * lean-path.ts): `POST /trpc/<mutation>` with a JSON body of a declared
 * length, from an API key that authenticates, calls the procedure as the
 * adapter does, with the adapter's context and the body as its raw input
 * (body-input.ts: read as the adapter reads it, parsed when a middleware
 * asks), so auth, the rate limit, idempotency and zod run as usual, and
 * writes the adapter's answer in one write. Anything else — a batch or any
 * query string, an unknown path, a query, another content type, a chunked
 * body (whose 413 the adapter counts), no or an unknown key (the adapter's
 * 401 and the failed-auth limit), an unusual Host — goes to the adapter
 * untouched, which stays the reference. It decides on the head alone, so
 * nothing of the body is taken from the adapter when it declines.
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
  // Chunked: the adapter counts its bytes against MAX_BODY_BYTES (a declared length over it never gets here).
  if (headers['content-length'] === undefined && typeof (req as { body?: unknown }).body !== 'string') return false;
  if ((await services.authenticate(req)) === null) return false;
  // The error formatter and onError read no input: none is passed for them, whether or not it was parsed.
  return serveCall(createContext(req, res, services), 'mutation', path, procedure, bodyInput(req), undefined);
};
