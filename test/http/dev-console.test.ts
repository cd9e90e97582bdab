import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, consoleIsStale } from '../../console/build.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
beforeAll(async () => {
  if (consoleIsStale()) await buildConsole();
}, 120_000);

describe('the console files', () => {
  it('are served at / in development, as HTML whose scripts and styles come with their content types', async () => {
    server = await startTestServer({ NODE_ENV: 'development' });
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${server.url}${script}`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const again = await fetch(`${server.url}${script}`, { headers: { 'if-none-match': js.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
    expect((await fetch(`${server.url}${style}`)).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('leave unknown paths and paths outside the folder to the 404 answer', async () => {
    server = await startTestServer({ NODE_ENV: 'development' });
    const missing = await fetch(`${server.url}/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    expect((await fetch(`${server.url}/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('are not served outside development, where the page would carry the demo key', async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
    expect((await fetch(`${server.url}/`)).status).toBe(404);
  });
});
