// The real Jangkau app, driven through tauri-driver and WebKitWebDriver.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { remote } from 'webdriverio';
import { freePort, start, stop, waitFor } from './procs.mjs';
import { appBin, UI_DIR } from './bins.mjs';
import { xwdToPng } from './xshot.mjs';

export const NATIVE_DRIVER = process.env.WEBKIT_WEBDRIVER ?? '/usr/bin/WebKitWebDriver';

/** What WebKitGTK needs to draw under Xvfb as root, and the device zone of Belu. */
export function appEnv(display) {
  const env = {
    DISPLAY: display,
    TZ: process.env.E2E_TZ ?? 'Asia/Makassar',
    // No GPU under Xvfb: no compositing and no DMA-BUF renderer (blank windows otherwise).
    WEBKIT_DISABLE_COMPOSITING_MODE: '1',
    WEBKIT_DISABLE_DMABUF_RENDERER: '1',
    LIBGL_ALWAYS_SOFTWARE: '1',
    // No session bus in a CI container: no accessibility bridge warnings or waits.
    NO_AT_BRIDGE: '1',
    GDK_BACKEND: 'x11',
    LANG: 'C.UTF-8',
  };
  for (const k of (process.env.E2E_UNSET_ENV ?? '').split(',').filter(Boolean)) delete env[k];
  return env;
}

/** A tauri-driver of its own (each app instance gets one: WebKitWebDriver drives one browser). */
export async function startDriver(display, logDir, name = 'tauri-driver') {
  const port = await freePort();
  const nativePort = await freePort();
  const child = start(name, 'tauri-driver', ['--port', String(port), '--native-port', String(nativePort), '--native-driver', NATIVE_DRIVER], {
    env: appEnv(display),
    logDir,
  });
  await waitFor(name, async () => {
    const r = await fetch(`http://127.0.0.1:${port}/status`);
    return r.status < 500;
  }, 15_000);
  return { port, stop: () => stop(child) };
}

/** Opens the app with its own data directory; resolves once its window is driven. */
export async function openApp(driver, { dataDir, serverUrl, framebuffer, logLevel = 'error' }) {
  const args = ['--data', dataDir];
  if (serverUrl) args.push('--server', serverUrl);
  const browser = await remote({
    hostname: '127.0.0.1',
    port: driver.port,
    logLevel,
    connectionRetryCount: 1,
    connectionRetryTimeout: 120_000,
    capabilities: {
      browserName: 'wry',
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: appBin(), args },
    },
  });
  return wrap(browser, framebuffer);
}

/** WebDriver refuses a click on an element that is displayed but cannot take it yet: still
 *  moving into place after a screen change, or covered for a moment (a sync's toast, a
 *  closing dialog). A person waits and taps again; so does this, for up to `timeout`. Any
 *  other error, or the same one past the timeout, is thrown.
 *
 *  webdriverio answers WebKitWebDriver's "element not interactable" with a wait of its own
 *  (waitForClickable, up to 5 s) and one more click; when that fails too it renames the
 *  error "did not become interactable". Both spellings mean "not yet". */
const NOT_YET = /not interactable|not become interactable|click intercepted|obscures it|not clickable/i;

async function tap(browser, el, id, timeout = 10_000) {
  const until = Date.now() + timeout;
  for (let tries = 1; ; tries += 1) {
    try {
      await el.scrollIntoView({ block: 'center' });
      await el.click();
      return;
    } catch (e) {
      if (!NOT_YET.test(String(e?.message ?? e)) || Date.now() > until) {
        const seen = NOT_YET.test(String(e?.message ?? e)) ? await whyNotTappable(browser, el) : '';
        throw new Error(`${id}: ${e?.message ?? e}${seen ? `\n(after ${tries} tries; ${seen})` : ''}`, { cause: e });
      }
      // Said once per tap, so that a run that passes still shows where the app made a
      // person wait, and what was in the way.
      if (tries === 1) console.log(`# ${id}: not tappable yet, tried again: ${await whyNotTappable(browser, el)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** What the page looked like at a tap that did not take: the element's first box and its
 *  in-view centre (where WebDriver clicks), what sits there, whether the element is among
 *  the elements at that point at all (not: "not interactable"; under another: "intercepted"),
 *  what could make it refuse (pointer-events, visibility, opacity, an inert or disabled
 *  ancestor, running animations) and the scroll. It is read after webdriverio's own wait, so
 *  up to 5 s after the refused click: the page may have moved on since. Best effort and
 *  bounded (3 s): a failed look says so instead of hiding the tap's own error. */
async function whyNotTappable(browser, el) {
  const look = browser.execute((e) => {
    const r = e.getClientRects()[0] ?? e.getBoundingClientRect();
    const vw = window.innerWidth;
    const vh = window.innerHeight;
    const left = Math.max(r.left, 0);
    const right = Math.min(r.right, vw);
    const top = Math.max(r.top, 0);
    const bottom = Math.min(r.bottom, vh);
    const inView = right > left && bottom > top;
    const x = (left + right) / 2;
    const y = (top + bottom) / 2;
    const name = (n) => (n ? `${n.tagName.toLowerCase()}${n.dataset?.testid ? `[${n.dataset.testid}]` : ''}${n.className && typeof n.className === 'string' ? `.${n.className.trim().replace(/\s+/g, '.')}` : ''}` : 'nothing');
    const at = inView ? document.elementFromPoint(x, y) : null;
    const style = getComputedStyle(e);
    const content = document.querySelector('.content');
    return {
      box: [r.left, r.top, r.width, r.height].map(Math.round),
      viewport: [vw, vh],
      inViewCentre: inView ? [Math.round(x), Math.round(y)] : null,
      atCentre: at === e || (at && e.contains(at)) ? 'the element' : name(at),
      amongElementsThere: inView ? document.elementsFromPoint(x, y).some((n) => n === e || e.contains(n)) : false,
      connected: e.isConnected,
      style: [style.pointerEvents, style.visibility, style.opacity],
      inert: name(e.closest('[inert]')),
      disabled: Boolean(e.disabled || e.closest('fieldset[disabled]')),
      animations: document.getAnimations().length,
      scroll: [window.scrollY, content ? content.scrollTop : null, content ? content.scrollHeight : null, content ? content.clientHeight : null],
      shell: document.querySelector('.shell')?.dataset.testid ?? null,
    };
  }, el);
  let timer;
  const late = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error('no answer in 3 s')), 3_000);
  });
  try {
    return JSON.stringify(await Promise.race([look, late]));
  } catch (e) {
    look.catch(() => {});
    return `could not look: ${e?.message ?? e}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Small helpers over a webdriverio browser, by data-testid. */
function wrap(browser, framebuffer) {
  const sel = (id) => `[data-testid="${id}"]`;
  const app = {
    browser,
    $: (id) => browser.$(sel(id)),
    $$: (id) => browser.$$(sel(id)),
    async visible(id, timeout = 20_000) {
      const el = browser.$(sel(id));
      await el.waitForDisplayed({ timeout, timeoutMsg: `${id} not shown` });
      return el;
    },
    async gone(id, timeout = 20_000) {
      await browser.$(sel(id)).waitForDisplayed({ timeout, reverse: true, timeoutMsg: `${id} still shown` });
    },
    async click(id) {
      const el = await app.visible(id);
      await tap(browser, el, id);
    },
    async type(id, text) {
      const el = await app.visible(id);
      // Select what is there and type over it: one real input event, as a person would
      // (WebDriver's clear does not send one, and an empty text types a Backspace).
      await tap(browser, el, id);
      await browser.execute((e) => e.select(), el);
      await el.addValue(text === '' ? '\uE003' : text);
    },
    /** Types over the field one key at a time, as on a tablet's keyboard: each key is its
     *  own key event and its own input event. */
    async typeKeys(id, text) {
      const el = await app.visible(id);
      await tap(browser, el, id);
      await browser.execute((e) => e.select(), el);
      await el.addValue('\uE003');
      for (const k of text) await el.addValue(k);
    },
    async text(id) {
      return (await app.visible(id)).getText();
    },
    async value(id) {
      return (await app.visible(id)).getValue();
    },
    async waitText(id, pred, timeout = 30_000) {
      let last = '';
      await browser.waitUntil(
        async () => {
          const el = browser.$(sel(id));
          if (!(await el.isExisting())) return false;
          last = await el.getText();
          return typeof pred === 'string' ? last.includes(pred) : pred(last);
        },
        { timeout, timeoutMsg: `${id}: text was ${JSON.stringify(last)}` },
      );
      return last;
    },
    /** The window as the kader sees it, read from the X framebuffer (WebKitWebDriver's own
     *  snapshot stalls on tall portrait windows under Xvfb). */
    async screenshot(dir, name) {
      mkdirSync(dir, { recursive: true });
      // Let fonts, transitions and the next frames settle.
      await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
      await browser.pause(400);
      const out = join(dir, `${name}.png`);
      if (framebuffer) xwdToPng(framebuffer, await browser.getWindowRect(), out);
      else await browser.saveScreenshot(out);
    },
    async size(width, height) {
      await browser.setWindowSize(width, height);
      await browser.waitUntil(async () => {
        const w = await browser.execute(() => [window.innerWidth, window.innerHeight]);
        return Math.abs(w[0] - width) < 80 && Math.abs(w[1] - height) < 120;
      }, { timeout: 10_000, timeoutMsg: `window did not become ${width}×${height}` });
    },
    async close() {
      try {
        await browser.deleteSession();
      } catch {
        /* the app may already be gone */
      }
    },
  };
  return app;
}

