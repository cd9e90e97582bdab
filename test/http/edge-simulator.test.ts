import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(() => Promise.all(servers.splice(0).map((s) => s.close())));
async function start(nodeEnv: string): Promise<TestServer> {
  const server = await startTestServer({ NODE_ENV: nodeEnv });
  servers.push(server);
  return server;
}

describe("the rates simulator's control endpoint", () => {
  it('in development, is on the API origin: GET /simulator/mode reads the mode and POST switches it', async () => {
    const server = await start('development');
    expect(await (await fetch(`${server.url}/simulator/mode`)).json()).toEqual({ mode: 'ok' });
    const switched = await fetch(`${server.url}/simulator/mode`, { method: 'POST', body: 'hang' });
    expect([switched.status, await switched.json()]).toEqual([200, { mode: 'hang' }]);
    expect(server.services.simulator?.mode).toBe('hang');
    const json = await fetch(`${server.url}/simulator/mode`, { method: 'POST', body: '{"mode":"ok"}' });
    expect(await json.json()).toEqual({ mode: 'ok' });
    const bad = await fetch(`${server.url}/simulator/mode`, { method: 'POST', body: 'sideways' });
    expect(bad.status).toBe(400);
    // The simulator's own endpoint stays, for a simulator run on its own.
    const own = await fetch(server.services.simulator?.controlUrl ?? '', { method: 'POST', body: 'error' });
    expect([own.status, server.services.simulator?.mode]).toEqual([200, 'error']);
  });

  it('outside development, exists neither on the API origin nor on the simulator', async () => {
    for (const env of ['production', 'test']) {
      const server = await start(env);
      const api = await fetch(`${server.url}/simulator/mode`, { method: 'POST', body: 'hang' });
      const own = await fetch(server.services.simulator?.controlUrl ?? '', { method: 'POST', body: 'hang' });
      expect([api.status, own.status]).toEqual([404, 404]);
      expect(server.services.simulator?.mode).toBe('ok');
    }
  });
});
