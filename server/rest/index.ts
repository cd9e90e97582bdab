import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services.js';
import { serveDocs } from './docs.js';
import { serveApi } from './handler.js';
import { openApiJson } from './openapi.js';

const API = '/api';
const DOCS = '/docs';

function sendDocument(req: IncomingMessage, res: ServerResponse): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-cache');
  const body = openApiJson();
  res.setHeader('content-length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The REST side of the server: `/api/…` (the procedures as plain REST),
 * `/openapi.json` (their OpenAPI 3.1 document) and `/docs` (a reference
 * page rendering it). Returns false for any other path, which the caller answers.
 */
export async function serveRest(req: IncomingMessage, res: ServerResponse, services: Services): Promise<boolean> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === API || path.startsWith(`${API}/`)) {
    await serveApi(req, res, services, path, q === -1 ? '' : url.slice(q + 1));
    return true;
  }
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (path === '/openapi.json' && read) {
    sendDocument(req, res);
    return true;
  }
  if (path === DOCS && read) return serveDocs(req, res, '');
  if (path.startsWith(`${DOCS}/`) && read) return serveDocs(req, res, path.slice(DOCS.length + 1));
  return false;
}
