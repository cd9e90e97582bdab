import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClientOptions } from '../../client/index.js';
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

describe('createClient', () => {
  it.each<[string, Partial<ClientOptions>, RegExp]>([
    ['a relative url', { url: '/trpc' }, /url must be an absolute http\(s\) URL/],
    ['a non-http url', { url: 'ftp://example.com' }, /url must be/],
    ['an empty api key', { apiKey: '' }, /apiKey must be/],
    ['an api key with a newline', { apiKey: 'demo\nx' }, /apiKey must be/],
    ['zero attempts', { retry: { maxAttempts: 0 } }, /retry\.maxAttempts/],
    ['fractional attempts', { retry: { maxAttempts: 1.5 } }, /retry\.maxAttempts/],
    ['a negative delay cap', { retry: { maxDelayMs: -1 } }, /retry\.maxDelayMs/],
    ['an infinite base delay', { retry: { baseDelayMs: Infinity } }, /retry\.baseDelayMs/],
    ['zero concurrency', { pacing: { maxConcurrent: 0 } }, /pacing\.maxConcurrent/],
    ['a negative spacing', { pacing: { minTimeMs: -5 } }, /pacing\.minTimeMs/],
  ])('throws at construction for %s, naming the option', (_name, bad, message) => {
    expect(() => createClient({ url: 'http://127.0.0.1:3000', apiKey: 'demo-alice', ...bad })).toThrow(message);
  });

  it('appends /trpc to a base URL, and keeps one that has it', async () => {
    await createClient({ url: proxy.url, apiKey: 'demo-alice' }).users.list.query({ limit: 1 });
    await createClient({ url: `${proxy.url}/trpc/`, apiKey: 'demo-alice' }).users.list.query({ limit: 1 });
    expect(proxy.log.slice(-2).map((e) => e.path.split('?')[0])).toEqual(['/trpc/users.list', '/trpc/users.list']);
  });

  it('sends extra headers, but its own Authorization wins and is sent once', async () => {
    const client = createClient({
      url: proxy.url,
      apiKey: 'demo-alice',
      headers: { 'X-Trace': 'abc', Authorization: 'Bearer demo-bob' },
    });
    const page = await client.users.list.query({ limit: 1 });
    const sent = proxy.log.at(-1)?.headers;
    expect(sent?.['x-trace']).toBe('abc');
    expect(sent?.authorization).toBe('Bearer demo-alice');
    expect(page.data[0]?.email).toMatch(/@alice\.example$/);
  });

  it('calls a headers function per request', async () => {
    let n = 0;
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', headers: async () => ({ 'x-n': String(++n) }) });
    await client.users.list.query({ limit: 1 });
    await client.users.list.query({ limit: 1 });
    expect(proxy.log.slice(-2).map((e) => e.headers['x-n'])).toEqual(['1', '2']);
  });

  it('uses the fetch it is given', async () => {
    const urls: string[] = [];
    const client = createClient({
      url: server.url,
      apiKey: 'demo-alice',
      fetch: (url, init) => {
        urls.push(url);
        return fetch(url, init);
      },
    });
    await client.stats.summary.query({});
    expect(urls).toHaveLength(1);
    expect(urls[0]).toContain('/trpc/stats.summary');
  });
});
