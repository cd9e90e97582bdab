import { Agent, request } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/*
 * node's own client sends `request({ method }).end(body)` for GET, HEAD,
 * DELETE, OPTIONS, TRACE and CONNECT without Content-Length: by HTTP framing
 * (RFC 9112 §6.3) the request has no body, and the body's bytes are a
 * malformed next request, which node's server answers with a 400 before
 * destroying the socket. An answer given synchronously left first with
 * `Connection: keep-alive`, so the client sent its next request on a socket
 * about to go: ECONNRESET on whatever came next (the fuzz suite's ~1%).
 */

let server: TestServer;
let agent: Agent;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
beforeEach(() => {
  agent = new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
});
afterEach(() => agent.destroy());

interface Answer {
  status: number;
  connection: string | undefined;
  reusedSocket: boolean;
  body: string;
}

function send(method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method,
      agent,
      headers: { authorization: 'Bearer demo-alice', 'content-type': 'application/json' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reusedSocket: req.reusedSocket,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(body);
  });
}

const next = () => send('GET', `/trpc/users.list?input=${encodeURIComponent(JSON.stringify({ limit: 1 }))}`);

describe('keep-alive connections', () => {
  // Each kind once on a warm socket, then the next request on the same agent.
  it.each([
    ['a TRACE request with a body (405 before the adapter)', 'TRACE', '/trpc/users.list'],
    ['a DELETE request with a body to an unknown path (404)', 'DELETE', '/nowhere'],
    ['a GET /healthz request with a body', 'GET', '/healthz'],
    ['a GET request with a body to a procedure (the adapter)', 'GET', '/trpc/users.list'],
  ])('keeps a keep-alive connection usable after %s', async (_kind, method, path) => {
    expect((await next()).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const answer = await send(method, path, JSON.stringify({ id: i, limit: 1 }));
      // Any answer will do, as long as it does not promise a connection the server is closing.
      expect(answer.status).toBeLessThan(500);
      const after = await next();
      expect(after.status).toBe(200);
    }
  });

  it('still answers a TRACE without a body with 405 and keeps the connection', async () => {
    expect((await next()).status).toBe(200);
    const answer = await send('TRACE', '/trpc/users.list');
    expect(answer.status).toBe(405);
    expect(answer.connection).toBe('keep-alive');
    const after = await next();
    expect(after.status).toBe(200);
    expect(after.reusedSocket).toBe(true);
  });
});
