import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bearer, keepAliveAgent, queryPath, send, type Outcome } from '../reliability/support/http.js';

const agent = keepAliveAgent(4);
let lean: TestServer;
let adapterOnly: TestServer;
beforeAll(async () => {
  [lean, adapterOnly] = await Promise.all([startTestServer({ NODE_ENV: 'production', SEED: 'true' }), startTestServer({ NODE_ENV: 'production', SEED: 'true', LEAN_PATH: 'false', CACHE_FAST_PATH: 'false' })]);
});
afterAll(async () => {
  agent.destroy();
  await Promise.all([lean.close(), adapterOnly.close()]);
});

function statusOf(outcome: Outcome): number | string {
  return outcome.ok ? outcome.status : outcome.error;
}

describe('a Host the tRPC adapter cannot turn into a URL', () => {
  for (const host of ['user:pw@evil', 'user@evil', 'a b', 'evil:99999']) {
    it(`is a 400, never a 500, for a single query with a valid key (Host: ${host})`, async () => {
      for (const server of [lean, adapterOnly]) {
        const outcome = await send({ origin: server.url, agent, path: queryPath('users.list', { limit: 1 }), headers: { ...bearer('demo-alice'), host } });
        expect(statusOf(outcome)).toBe(400);
        if (outcome.ok) expect(JSON.parse(outcome.body)).toMatchObject({ error: { data: { code: 'BAD_REQUEST', httpStatus: 400 } } });
      }
    });
  }

  it('is a 400 for a mutation and for a batch too', async () => {
    const headers = { ...bearer('demo-alice'), host: 'user:pw@evil', 'content-type': 'application/json' };
    const mutation = await send({ origin: lean.url, agent, method: 'POST', path: '/trpc/users.create', headers, body: JSON.stringify({ email: 'x@example.com', name: 'X' }) });
    const batch = await send({ origin: lean.url, agent, path: `/trpc/users.list,users.byId?batch=1&input=${encodeURIComponent('{"0":{"limit":1},"1":{"id":1}}')}`, headers });
    expect([statusOf(mutation), statusOf(batch)]).toEqual([400, 400]);
  });

  it('does not stop an ordinary Host, with or without a port, from being served', async () => {
    for (const host of ['localhost', 'api.example.com:8080', '127.0.0.1', '[::1]:3000']) {
      const outcome = await send({ origin: lean.url, agent, path: queryPath('users.list', { limit: 1 }), headers: { ...bearer('demo-alice'), host } });
      expect(statusOf(outcome)).toBe(200);
    }
  });
});
