import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rawLoad } from '../../bench/support/raw-load.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('rawLoad', () => {
  it('opens a new connection when the server closed an idle one during a Retry-After wait, as a client does', async () => {
    // Every other request refused with Retry-After: 1, and idle connections closed after 100 ms: each wait outlives its connection.
    // (Content-Length, not chunked: the load generator reads bodies by length.)
    const refusal = '{"error":{"data":{"reason":"overloaded"}}}';
    let n = 0;
    server = createServer((req, res) => {
      if (req.url === '/healthz') res.writeHead(200, { 'content-length': 0 }).end();
      else if (n++ % 2 === 0) res.writeHead(503, { 'retry-after': '1', 'content-length': refusal.length }).end(refusal);
      else res.writeHead(200, { 'content-length': 2 }).end('{}');
    });
    server.keepAliveTimeout = 100;
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const r = await rawLoad({ url: `http://127.0.0.1:${port}`, path: '/', headers: {}, connections: 4, durationMs: 3500, honourRetryAfter: true });

    // Without the reconnect, each request after a wait goes into a closed socket and times out.
    expect(r.statuses['timeout']).toBeUndefined();
    expect(r.statuses['200']).toBeGreaterThanOrEqual(4);
    expect(r.unclean).toBe(0);
  });
});
