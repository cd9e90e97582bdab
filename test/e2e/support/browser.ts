import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFailed, type TestContext } from 'vitest';
import { ROOT } from '../../helpers/client-package.js';

/** Debian's Chromium; playwright-core drives it and downloads nothing. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`Skipping the browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

const SCREENSHOTS = join(ROOT, 'test/e2e/screenshots');

/**
 * Headless Chromium with a fresh profile (playwright makes a new empty
 * user-data-dir per launch); the flags keep it off the network beyond the
 * pages the tests serve on 127.0.0.1.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves a screenshot of the page under test/e2e/screenshots/ when the current test fails. */
export function screenshotOnFailure(page: Page, ctx: TestContext): void {
  onTestFailed(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true }).catch(() => undefined);
  });
}
