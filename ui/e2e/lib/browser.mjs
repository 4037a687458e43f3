// A real Chromium for the web dashboard (Debian's `chromium` and `chromium-driver`),
// driven over WebDriver: its own chromedriver on a free port, headless, a fixed window.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { remote } from 'webdriverio';
import { freePort, start, stop, waitFor } from './procs.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const CHROMEDRIVER = process.env.CHROMEDRIVER_BIN ?? '/usr/bin/chromedriver';

/** Starts chromedriver and a headless Chromium session; `browser.close()` ends both. */
export async function openBrowser(logDir, { width = 1280, height = 1000, lang = 'id-ID' } = {}) {
  const port = await freePort();
  const driver = start('chromedriver', CHROMEDRIVER, [`--port=${port}`], { logDir });
  await waitFor('chromedriver', async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok, 20_000);
  const browser = await remote({
    hostname: '127.0.0.1',
    port,
    logLevel: 'error',
    connectionRetryCount: 1,
    capabilities: {
      browserName: 'chrome',
      'wdio:enforceWebDriverClassic': true,
      'goog:chromeOptions': {
        binary: CHROMIUM,
        args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--window-size=${width},${height}`, `--lang=${lang}`],
      },
    },
  });
  const sel = (id) => `[data-testid="${id}"]`;
  const b = {
    browser,
    async go(url) {
      await browser.url(url);
    },
    $: (id) => browser.$(sel(id)),
    $$: (id) => browser.$$(sel(id)),
    async visible(id, timeout = 15_000) {
      const el = browser.$(sel(id));
      await el.waitForDisplayed({ timeout, timeoutMsg: `${id} not shown` });
      return el;
    },
    async click(id) {
      const el = await b.visible(id);
      await el.click();
    },
    async type(id, text) {
      const el = await b.visible(id);
      await el.clearValue();
      await el.setValue(text);
    },
    async text(id) {
      return (await b.visible(id)).getText();
    },
    async html() {
      return browser.getPageSource();
    },
    /** The session cookies as a `Cookie` header, for fetching a download as the browser. */
    async cookieHeader() {
      const cs = await browser.getCookies();
      return cs.map((c) => `${c.name}=${c.value}`).join('; ');
    },
    async screenshot(dir, name) {
      mkdirSync(dir, { recursive: true });
      await browser.saveScreenshot(join(dir, `${name}.png`));
    },
    async close() {
      try {
        await browser.deleteSession();
      } finally {
        await stop(driver);
      }
    },
  };
  return b;
}
