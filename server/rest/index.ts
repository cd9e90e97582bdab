import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services.js';
import { serveApi } from './handler.js';

const API = '/api';

/**
 * The REST side of the server: `/api/…` (the procedures as plain REST).
 * Returns false for any other path, which the caller answers.
 */
export async function serveRest(req: IncomingMessage, res: ServerResponse, services: Services): Promise<boolean> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === API || path.startsWith(`${API}/`)) {
    await serveApi(req, res, services, path, q === -1 ? '' : url.slice(q + 1));
    return true;
  }
  return false;
}
