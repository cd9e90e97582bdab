import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import sirv from 'sirv';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packClient, ROOT, type Consumer } from '../helpers/client-package.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hasChromium, launchChromium, screenshotOnFailure } from './support/browser.js';

/** The README's React example, exactly as printed there. */
function readmeReactExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### React'));
  const block = /```tsx\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no tsx example under "### React"');
  return block;
}

const versionOf = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

// A second script on the page: a client that does not retry, reading Retry-After as a browser lets it.
const PROBE = (api: string) => `
import { createClient, isRateLimitError } from 'composure-client';

const seen = [];
const client = createClient({
  url: ${JSON.stringify(api)},
  apiKey: 'demo-bob',
  retry: { maxAttempts: 1 },
  fetch: async (url, init) => {
    const response = await fetch(url, init);
    const header = response.headers.get('retry-after');
    if (header !== null) seen.push(header);
    return response;
  },
});

document.getElementById('probe').addEventListener('click', async () => {
  const results = await Promise.allSettled(Array.from({ length: 40 }, () => client.users.list.query({ limit: 1 })));
  const limited = results.find((r) => r.status === 'rejected' && isRateLimitError(r.reason));
  document.getElementById('probe-result').textContent = JSON.stringify({
    header: seen[0] ?? null,
    retryAfterMs: limited ? limited.reason.retryAfterMs : null,
  });
});
`;

describe.skipIf(!hasChromium)('a page on another origin using the packed client', () => {
  let consumer: Consumer;
  let browser: Browser;
  let api: TestServer;
  let pageServer: Server;
  let pageOrigin: string;

  beforeAll(async () => {
    // The page's own server first: its origin is what CORS_ORIGINS must list.
    const dist = join(ROOT, 'node_modules/.cache/composure-cross-origin');
    pageServer = createServer(sirv(dist, { dev: true }));
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    // Production: only the listed origin is allowed, no local-page default.
    [api, browser, consumer] = await Promise.all([
      startTestServer({ NODE_ENV: 'production', SEED: 'true', CORS_ORIGINS: pageOrigin, RATE_LIMIT_BURST: '20', RATE_LIMIT_PER_SECOND: '1' }),
      launchChromium(),
      packClient().then(createConsumer),
    ]);
    // A Vite app as a new user makes one: React, TanStack Query, tRPC's integration, and the tarball.
    await consumer.install(
      `react@${versionOf('react')}`,
      `react-dom@${versionOf('react-dom')}`,
      `@tanstack/react-query@${versionOf('@tanstack/react-query')}`,
      `@trpc/tanstack-react-query@${versionOf('@trpc/tanstack-react-query')}`,
    );
    mkdirSync(join(consumer.dir, 'src'));
    // As Vite's react-ts template sets it.
    writeFileSync(join(consumer.dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { jsx: 'react-jsx', module: 'ESNext', moduleResolution: 'bundler', strict: true, skipLibCheck: true } }));
    // Verbatim but for the API's address: this server listens on a free port, not 3000.
    writeFileSync(join(consumer.dir, 'src/app.tsx'), readmeReactExample().replace('http://127.0.0.1:3000', api.url));
    writeFileSync(join(consumer.dir, 'src/main.tsx'), "import { createRoot } from 'react-dom/client';\nimport { App } from './app';\ncreateRoot(document.getElementById('root')!).render(<App />);\n");
    writeFileSync(join(consumer.dir, 'src/probe.js'), PROBE(api.url));
    writeFileSync(
      join(consumer.dir, 'index.html'),
      '<!doctype html><html><body><div id="root"></div><button id="probe">probe</button><pre id="probe-result"></pre>' +
        '<script type="module" src="/src/main.tsx"></script><script type="module" src="/src/probe.js"></script></body></html>',
    );
    await build({
      root: consumer.dir,
      configFile: false,
      logLevel: 'warn',
      build: {
        outDir: dist,
        emptyOutDir: true,
        // TanStack Query's "use client" markers mean nothing outside React Server Components.
        rollupOptions: { onwarn: (warning, warn) => warning.code !== 'MODULE_LEVEL_DIRECTIVE' && warn(warning) },
      },
    });
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await new Promise((resolve) => pageServer?.close(resolve));
    await consumer?.[Symbol.asyncDispose]();
  });

  it("shows the users with the README's React example, and More loads the next page", async (ctx) => {
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    screenshotOnFailure(page, ctx);
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/CORS|Access-Control/i.test(m.text())) refused.push(m.text());
    });
    await page.goto(`${pageOrigin}/`);
    await page.locator('li').nth(19).waitFor();
    expect(await page.locator('li').count()).toBe(20);
    await page.getByRole('button', { name: 'More' }).click();
    await page.locator('li').nth(39).waitFor();
    expect(await page.locator('li').first().textContent()).toMatch(/@/);
    expect(refused).toEqual([]);
    await page.close();
  }, 180_000);

  it('reads Retry-After from a 429 across origins, and the client honours it', async (ctx) => {
    const page = await browser.newPage();
    page.setDefaultTimeout(60_000);
    screenshotOnFailure(page, ctx);
    await page.goto(`${pageOrigin}/`);
    await page.locator('#probe').click();
    await page.locator('#probe-result').getByText(/header/).waitFor();
    const result = JSON.parse((await page.locator('#probe-result').textContent()) ?? '{}') as { header: string | null; retryAfterMs: number | null };
    expect(result.header).toMatch(/^\d+$/);
    // The header (whole seconds) is later than the body's exact retryAfterMs: seeing it proves the browser exposed it.
    expect(result.retryAfterMs).toBe(Number(result.header) * 1000);
    await page.close();
  }, 180_000);
});
