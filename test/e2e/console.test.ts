import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, paginate } from '../../client/index.js';
import { buildConsole, consoleIsStale } from '../../console/build.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hasChromium, launchChromium, screenshotOnFailure } from './support/browser.js';

// The console as `npm run dev` serves it: development, same origin as the API.
// A bucket smaller than the default (100, 20/s), so that the console's burst overflows it even when a loaded machine serves it slowly.
const DEV = {
  NODE_ENV: 'development',
  SEED_USERS: '230',
  RATES_TTL_MS: '1',
  RATES_TIMEOUT_MS: '300',
  BREAKER_FAILURES: '2',
  RATE_LIMIT_BURST: '60',
  RATE_LIMIT_PER_SECOND: '20',
};

async function openConsole(browser: Browser, server: TestServer): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // A loaded machine (two cores, many tests) can be slow; these wait for events, they time nothing.
  page.setDefaultTimeout(60_000);
  await page.goto(`${server.url}/`);
  return page;
}

async function paymentsOf(server: TestServer, userId: number): Promise<number> {
  const client = createClient({ url: server.url, apiKey: 'demo-alice' });
  let n = 0;
  for await (const payment of paginate(client.payments.list, { limit: 100, userId })) if (payment.userId === userId) n++;
  return n;
}

describe.skipIf(!hasChromium)('the console in Chromium', () => {
  let browser: Browser;
  let server: TestServer;
  beforeAll(async () => {
    if (consoleIsStale()) await buildConsole();
    [browser, server] = await Promise.all([launchChromium(), startTestServer(DEV)]);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads every alice user exactly once while the list is scrolled, and shows names and emails as text', async (ctx) => {
    const api = createClient({ url: server.url, apiKey: 'demo-alice' });
    const hostile = await api.users.create.mutate({ name: '<img src=x onerror="window.__injected=1">', email: 'hostile@example.com' });
    const page = await openConsole(browser, server);
    screenshotOnFailure(page, ctx);
    const list = page.getByTestId('users-list');
    const count = page.getByTestId('users-count');
    await page.getByTestId('user-row').first().waitFor();
    for (let i = 0; i < 50 && !(await count.textContent())?.includes('all loaded'); i++) {
      const before = await page.getByTestId('user-row').count();
      await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForFunction(
        ([n]) => document.querySelectorAll('[data-testid=user-row]').length > (n ?? 0) || document.querySelector('[data-testid=users-count]')?.textContent?.includes('all loaded'),
        [before],
      );
    }
    const shown = await page.getByTestId('user-row').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.userId)));
    const expected: number[] = [];
    for await (const user of paginate(api.users.list, { limit: 100 })) expected.push(user.id);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown).toEqual(expected);
    expect(shown).toHaveLength(231);

    const row = page.locator(`[data-user-id="${hostile.id}"]`);
    await expect(row.textContent()).resolves.toContain('<img src=x onerror="window.__injected=1">');
    expect(await row.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __injected?: number }).__injected)).toBeUndefined();
    await page.close();
  }, 180_000);

  it('makes one payment from a double-submitted form and shows the replay', async (ctx) => {
    const page = await openConsole(browser, server);
    screenshotOnFailure(page, ctx);
    const user = page.locator('[data-user-id="3"]');
    await user.click();
    await page.getByTestId('payments').waitFor();
    const before = await paymentsOf(server, 3);
    await page.getByTestId('amount').fill('42.50');
    await page.getByTestId('pay').dblclick();
    await page.getByTestId('replayed').waitFor();
    await page.waitForFunction(() => /→ payment #\d+$/.test(document.querySelector('[data-testid=payment-ids]')?.textContent ?? ''));
    // Two submits; a second one that found the first still running got 409 and was retried into the replay.
    const sent = Number(/^(\d+) requests? sent/.exec((await page.getByTestId('payment-outcome').textContent()) ?? '')?.[1]);
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(await paymentsOf(server, 3)).toBe(before + 1);
    await page.close();
  }, 180_000);

  it('shows a burst answered with 429s, the client-wide pause, then every call completed', async (ctx) => {
    const page = await openConsole(browser, server);
    screenshotOnFailure(page, ctx);
    await page.getByTestId('burst').click();
    await page.getByTestId('pause').getByText(/paused \d+\.\d s/).waitFor();
    await page.getByTestId('burst-done').getByText('250/250').waitFor();
    expect(Number(await page.getByTestId('burst-429s').textContent())).toBeGreaterThan(0);
    // The 429 rows show the Retry-After the browser could read.
    const limited = page.locator('[data-testid=request-row][data-status="429"]').first();
    expect(await limited.getByTestId('retry-after').textContent()).toMatch(/^\d+ s$/);
    await page.getByTestId('resumed').getByText(/^running · waited \d+\.\d s$/).waitFor();
    await page.close();
  }, 180_000);

  it('serves stale rates once the simulator hangs, switched from the page', async (ctx) => {
    const page = await openConsole(browser, server);
    screenshotOnFailure(page, ctx);
    await page.getByTestId('rates-state').getByText(/fresh|stale/).waitFor();
    await page.getByTestId('mode-hang').click();
    await page.getByTestId('simulator-mode').getByText('hang').waitFor();
    // RATES_TTL_MS=1 (below): the next call asks the hanging provider and falls back to the last good answer.
    await page.getByTestId('refresh-rates').click();
    await page.getByTestId('rates-state').getByText('stale').waitFor();
    await page.getByTestId('mode-ok').click();
    await page.getByTestId('simulator-mode').getByText('ok').waitFor();
    await page.close();
  }, 180_000);
});

describe.skipIf(!hasChromium)('the console with no exchange rates at all', () => {
  let browser: Browser;
  let server: TestServer;
  beforeAll(async () => {
    if (consoleIsStale()) await buildConsole();
    [browser, server] = await Promise.all([launchChromium(), startTestServer(DEV)]);
    // The simulator hangs before any rates were fetched: nothing fresh or stale to serve.
    server.services.simulator?.setMode('hang');
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('marks payments degraded, rates unavailable and the breaker open', async (ctx) => {
    const page = await openConsole(browser, server);
    screenshotOnFailure(page, ctx);
    await page.getByTestId('simulator-mode').getByText('hang').waitFor();
    await page.locator('[data-user-id="1"]').click();
    await page.getByTestId('degraded-badge').waitFor();
    await page.getByTestId('rates-state').getByText('unavailable').waitFor();
    await page.getByTestId('breaker').getByText('open').waitFor();
    expect(await page.getByTestId('payment-row').count()).toBeGreaterThan(0);
    await page.close();
  }, 180_000);
});
