import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../client/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startProxy, type LoopbackProxy } from './helpers/proxy.js';

let server: TestServer;
let proxy: LoopbackProxy;
beforeAll(async () => {
  server = await startTestServer();
  proxy = await startProxy(server.url);
});
afterAll(async () => {
  await proxy.close();
  await server.close();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

// A page's `location`, as a browser defines it; Node has none.
const onPage = (href: string) => vi.stubGlobal('location', new URL(href));

describe('createClient in a page', () => {
  it("resolves url: '/' against the page's origin", async () => {
    onPage(`${proxy.url}/console/users?tab=2#top`);
    const page = await createClient({ url: '/', apiKey: 'demo-alice' }).users.list.query({ limit: 1 });
    expect(page.data).toHaveLength(1);
    expect(proxy.log.at(-1)?.path.split('?')[0]).toBe('/trpc/users.list');
  });

  it("resolves url: '' against the page's folder, without its query or fragment", async () => {
    onPage(`${proxy.url}/app/?x=1#y`);
    await createClient({ url: '', apiKey: 'demo-alice' })
      .users.list.query({ limit: 1 })
      .catch(() => undefined);
    expect(proxy.log.at(-1)?.path.split('?')[0]).toBe('/app/trpc/users.list');
  });

  it('still refuses a relative url outside a page', () => {
    expect(() => createClient({ url: '/', apiKey: 'demo-alice' })).toThrow(/absolute http\(s\) URL/);
  });
});
