import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Makes an answer sent before the request's body has all arrived (a 401
 * before the body is read, a 413) close the connection, rather than keep
 * it: node would read and discard the rest of the body to reuse the socket,
 * however long that body is (an endless one holds the server forever).
 * `Connection: close` tells the client (RFC 9112 §9.6), and node then ends
 * the socket once the answer is out.
 */
export function closeIfAnsweredEarly(req: IncomingMessage, res: ServerResponse): void {
  // No Content-Length and no Transfer-Encoding: no body (RFC 9112 §6.3), nothing to wait for.
  const length = req.headers['content-length'];
  if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) return;
  const writeHead = res.writeHead;
  // Every answer goes through writeHead (res.end() without it calls it too): the last moment headers can change.
  res.writeHead = function writeHeadOrClose(this: ServerResponse, ...args: unknown[]) {
    if (!req.complete && !this.headersSent) this.setHeader('connection', 'close');
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}
