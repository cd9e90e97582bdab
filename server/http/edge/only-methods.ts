import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../send-json.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A route that answers only `methods` (HEAD arrives here as GET); others get 405 with `Allow` (RFC 9110 §15.5.6). */
export function onlyMethods(methods: readonly string[], route: Route): Route {
  const allow = methods.join(', ');
  return (req, res) => {
    if (methods.includes(req.method ?? '')) return route(req, res);
    res.setHeader('allow', allow);
    sendJson(res, 405, { error: { message: `Method ${req.method} is not allowed`, code: 'METHOD_NOT_SUPPORTED' } });
  };
}
