import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bearer, keepAliveAgent, queryPath, send, type Reply } from '../reliability/support/http.js';

const agent = keepAliveAgent(2);
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ NODE_ENV: 'production', SEED: 'true' });
});
afterAll(async () => {
  agent.destroy();
  await server.close();
});

async function reply(method: 'GET' | 'HEAD', path: string, key: string | null = 'demo-alice'): Promise<Reply> {
  const outcome = await send({ origin: server.url, agent, method, path, headers: key === null ? {} : bearer(key) });
  if (!outcome.ok) throw new Error(`${method} ${path}: ${outcome.error}`);
  return outcome;
}

describe('HEAD', () => {
  it('of a query answers with the status and headers of its GET, and no body', async () => {
    const path = queryPath('users.byId', { id: 1 });
    const get = await reply('GET', path);
    const head = await reply('HEAD', path);
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
  });

  it('of a query without a key is a 401, as its GET is', async () => {
    const head = await reply('HEAD', queryPath('users.list', { limit: 1 }), null);
    expect(head.status).toBe(401);
    expect(head.body).toBe('');
  });

  it('of a query through the adapter (a batch) answers as the GET does', async () => {
    const path = `/trpc/users.byId?batch=1&input=${encodeURIComponent('{"0":{"id":1}}')}`;
    expect((await reply('HEAD', path)).status).toBe((await reply('GET', path)).status);
    expect((await reply('HEAD', path, null)).status).toBe(401);
  });

  it('of an unknown path is a 404, and of /healthz a 200', async () => {
    expect((await reply('HEAD', '/nowhere')).status).toBe(404);
    expect((await reply('HEAD', '/trpc/users.nope')).status).toBe(404);
    const health = await reply('HEAD', '/healthz');
    expect([health.status, health.body]).toEqual([200, '']);
  });
});
