// The steps every end-to-end test takes the same way: the run's server, screen and driver;
// enrolling the tablet through first run; a `jangkau` CLI device of another user and what
// it exports; syncing the tablet; switching the language; screenshots in both orientations.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startXvfb, stopAll } from './procs.mjs';
import { openApp, startDriver } from './app.mjs';
import { cliBin, UI_DIR } from './bins.mjs';
import { DEMO_PASSWORD, startServer } from './server.mjs';

export const LANDSCAPE = [1280, 800];
export const PORTRAIT = [800, 1280];
/** The tablet PIN of kader.mawar in every test. */
export const PIN = '480516';
/** The device zone (WITA unless E2E_TZ says otherwise), for the tablet and the CLI devices. */
export const ZONE = process.env.E2E_TZ ?? 'Asia/Makassar';
const CLI_PIN = '592817';

/** Where a test's screenshots go: ui/e2e/screenshots/<sub>/. */
export const shotsDir = (sub = '') => join(UI_DIR, 'e2e', 'screenshots', sub);

/** A run of its own: a temporary folder, the district server, Xvfb and a tauri-driver.
 *  The screenshots folder `shots` is emptied first. */
export async function startStack(name, shots) {
  const tmp = mkdtempSync(join(tmpdir(), `jangkau-e2e-${name}-`));
  const logs = join(tmp, 'logs');
  rmSync(shots, { recursive: true, force: true });
  const stack = { tmp, logs, shots };
  stack.server = await startServer(tmp, logs);
  Object.assign(stack, await startXvfb(logs, join(tmp, 'fb')));
  stack.driver = await startDriver(stack.display, logs);
  /** Opens the app on data directory `dir` (inside the run's folder), in landscape. */
  stack.open = async (dir, driver = stack.driver) => {
    const app = await openApp(driver, { dataDir: join(tmp, dir), serverUrl: stack.server.url, framebuffer: stack.framebuffer });
    await app.size(...LANDSCAPE);
    return app;
  };
  console.log(`# server ${stack.server.url}, display ${stack.display}, logs ${logs}`);
  return stack;
}

/** Closes the app and ends everything the run started; the folder goes unless E2E_KEEP=1. */
export async function stopStack(stack, app) {
  if (app) await app.close();
  await stopAll();
  if (stack && process.env.E2E_KEEP !== '1') rmSync(stack.tmp, { recursive: true, force: true });
}

/** First run: enrols the tablet (kader.mawar with the demo's code unless told otherwise),
 *  sets the PIN and waits for Beranda. */
export async function enrolTablet(app, server, { device, code = server.kaderCode, username = 'kader.mawar', password = DEMO_PASSWORD, pin = PIN }) {
  await app.visible('screen-firstrun', 30_000);
  await app.type('firstrun-code', code);
  await app.type('firstrun-username', username);
  await app.type('firstrun-password', password);
  await app.type('firstrun-device', device);
  await app.click('firstrun-next');
  await app.type('firstrun-pin', pin);
  await app.type('firstrun-pin2', pin);
  await app.click('firstrun-finish');
  await app.visible('screen-home', 60_000);
}

/** "Sinkronkan" on Beranda; waits for a clean end: nothing waiting, a last success shown. */
export async function syncTablet(app) {
  await app.click('nav-home');
  await app.visible('screen-home');
  await app.click('sync-button');
  await app.browser.waitUntil(async () => (await app.$('sync-chip').getAttribute('data-tone')) === 'ok', {
    timeout: 60_000,
    timeoutMsg: 'the sync did not finish cleanly',
  });
  await app.waitText('sync-waiting', (n) => n === '0');
  assert.notEqual(await app.text('sync-last-success'), 'Belum pernah');
}

/** Switches the language in Pengaturan; with `back`, returns to the screen it was on with
 *  the back button, as a kader would. */
export async function setLanguage(app, l, { back = false } = {}) {
  await app.click('nav-settings');
  await app.visible('screen-settings');
  await app.click(`lang-${l}`);
  await app.visible('settings-saved');
  if (back) {
    await app.browser.back();
    await app.gone('screen-settings');
  }
}

/** Screenshots `<name>-landscape` and (unless `both` is false) `<name>-portrait`; the
 *  window is left in landscape. */
export async function shoot(app, dir, name, both = true) {
  await app.size(...LANDSCAPE);
  await app.screenshot(dir, `${name}-landscape`);
  if (!both) return;
  await app.size(...PORTRAIT);
  await app.screenshot(dir, `${name}-portrait`);
  await app.size(...LANDSCAPE);
}

/** The screen from its top (a click scrolls the field it taps into the middle): the
 *  screen's first line scrolled into view, as a swipe down would. */
export async function toTop(app) {
  const top = await app.browser.$('main.content > .screen');
  if (await top.isExisting()) await top.scrollIntoView({ block: 'start' });
}

export async function scrollTo(app, testid, block = 'start') {
  await (await app.visible(testid)).scrollIntoView({ block });
}

/** Households: searches `query` and waits until the first household found is `head`'s. */
export async function findHousehold(app, query, head) {
  await app.click('nav-households');
  await app.visible('screen-households');
  await app.type('households-query', query);
  await app.browser.waitUntil(async () => (await app.$$('household-row-head').length) > 0 && (await app.$('household-row-head').getText()) === head, {
    timeout: 15_000,
    timeoutMsg: `no household of ${head} found for ${query}`,
  });
}

/** Opens the household that `findHousehold` finds. */
export async function openHousehold(app, query, head) {
  await findHousehold(app, query, head);
  await app.click('household-row');
  await app.visible('screen-household');
}

/** A `jangkau` CLI device of `username`, enrolled in `stack`'s folder `dir`. Returns the
 *  device's command: `cli(['sync', '--quiet'])` runs `jangkau sync --quiet --data <dir>`. */
export async function enrolCli(stack, dir, { username, password, device }) {
  const bin = cliBin();
  const data = join(stack.tmp, dir);
  const env = { JANGKAU_PIN: CLI_PIN, JANGKAU_PASSWORD: password, TZ: ZONE };
  const code = await stack.server.code(username);
  await run(bin, ['enrol', '--data', data, '--server', stack.server.url, '--code', code, '--username', username, '--device-name', device], { env });
  const cli = (args) => run(bin, [...args, '--data', data], { env });
  cli.data = data;
  return cli;
}

/** A record's body and id, whichever way `jangkau export` writes them. */
export const bodyOf = (r) => r.body ?? r.values ?? r;
export const idOf = (r) => r.id ?? r.record ?? bodyOf(r).id;

/** Every record the CLI device holds (`jangkau export`, one JSON object a line). */
export async function exportRecords(cli) {
  return (await cli(['export']))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/** The ids of the persons named, by key: `{ key: name }` → `{ key: id }`; every name must
 *  be among the records. */
export function personIds(records, names) {
  const ids = {};
  for (const r of records) {
    if (r.kind !== 'person') continue;
    for (const [key, name] of Object.entries(names)) if (bodyOf(r).name === name) ids[key] = idOf(r);
  }
  const missing = Object.keys(names).filter((k) => !ids[k]);
  assert.deepEqual(missing, [], `persons not found in the export: ${missing.map((k) => names[k]).join(', ')}`);
  return ids;
}
