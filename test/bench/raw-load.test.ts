import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rawLoad } from '../../bench/support/raw-load.js';

let server: Server | TcpServer | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('rawLoad', () => {
  it('opens a new connection when the server closed an idle one during a Retry-After wait, as a client does', async () => {
    // Every other request refused with Retry-After: 1, and idle connections closed after 100 ms: each wait outlives its connection.
    // (Content-Length, not chunked: the load generator reads bodies by length.)
    const refusal = '{"error":{"data":{"reason":"overloaded"}}}';
    let n = 0;
    const http = createServer((req, res) => {
      if (req.url === '/healthz') res.writeHead(200, { 'content-length': 0 }).end();
      else if (n++ % 2 === 0) res.writeHead(503, { 'retry-after': '1', 'content-length': refusal.length }).end(refusal);
      else res.writeHead(200, { 'content-length': 2 }).end('{}');
    });
    http.keepAliveTimeout = 100;
    server = http;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;

    const r = await rawLoad({ url: `http://127.0.0.1:${port}`, path: '/', headers: {}, connections: 4, durationMs: 3500, honourRetryAfter: true });

    // Without the reconnect, each request after a wait goes into a closed socket and times out.
    expect(r.statuses['timeout']).toBeUndefined();
    expect(r.statuses['200']).toBeGreaterThanOrEqual(4);
    expect(r.unclean).toBe(0);
  });

  it('sends again on a new connection a request whose reused connection closed before any answer, as a client retries a GET', async () => {
    // Answers the first request of each connection and closes the connection on the second, unanswered: what a
    // client sees when the server closes an idle keep-alive connection just as its next request goes out.
    const sockets = new Set<Socket>();
    let closedUnanswered = 0;
    server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let requests = 0;
      let seen = '';
      socket.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        while (seen.includes('\r\n\r\n')) {
          seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
          if (requests++ === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
          else {
            closedUnanswered++;
            socket.destroy();
            return;
          }
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server!.address() as AddressInfo;

    const r = await rawLoad({ url: `http://127.0.0.1:${port}`, path: '/', headers: {}, connections: 2, durationMs: 1000, honourRetryAfter: true });
    for (const socket of sockets) socket.destroy();

    // Without the second send, each connection's first request after the priming /healthz waits out the 2 s timeout.
    expect(r.statuses['timeout']).toBeUndefined();
    expect(closedUnanswered).toBeGreaterThanOrEqual(10);
    expect(r.statuses['200']).toBeGreaterThanOrEqual(closedUnanswered - 2);
  });
});
