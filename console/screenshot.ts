// Takes docs/console.png: a development server on a temp database, the
// console in headless Chromium, a user picked, a payment double-submitted
// and a burst fired, so the picture shows the patterns at work.
//   npx tsx console/screenshot.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { buildConsole, consoleIsStale } from './build.js';

const OUT = fileURLToPath(new URL('../docs/console.png', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'composure-shot-'));
if (consoleIsStale()) await buildConsole();
const server = await startServer(
  loadConfig({ NODE_ENV: 'development', PORT: '0', RATES_SIMULATOR_PORT: '0', DATABASE_URL: join(dir, 'dev.db'), LOG_LEVEL: 'silent' }),
);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(`${server.url}/`);
  await page.locator('[data-user-id="2"]').click();
  await page.getByTestId('payment-row').first().waitFor();
  await page.getByTestId('pay').dblclick();
  await page.getByTestId('replayed').waitFor();
  await page.getByTestId('burst').click();
  await page.getByTestId('pause').getByText(/paused/).waitFor();
  await page.screenshot({ path: OUT });
  process.stdout.write(`wrote ${OUT}\n`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
