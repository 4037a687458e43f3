// End to end (issue 18, "Titip"): two app instances under Xvfb, each with its own data
// directory and its own tauri-driver, hand a sealed bundle over the local network (loopback
// here) and carry the server's answer back:
// 1. the kader's tablet (kader.mawar) registers a household and never syncs;
// 2. the bidan's tablet (bidan.naitimu) is the carrier;
// 3. the kader offers "Kirim lewat jaringan": an address and a 6-digit code on screen;
// 4. the bidan types the address and a wrong code (refused in words, counted on the kader's
//    screen), then the right one: 1 bundle taken to carry; the kader's screen says delivered;
// 5. the bidan syncs (the bundle is handed to the server), then offers the answers back;
// 6. the kader receives them: the server confirmed the household's changes;
// 7. the bidan syncs again and finds the kader's household: the server judged and kept it;
// 8. the file way: the same through a folder that stands for a USB stick. WebDriver cannot
//    drive the platform's save/open dialogs, so only they are answered, in the page, with
//    the path a user would have picked (ui/src/lib/dialogs.ts); the buttons, Rust's
//    sealing, writing, reading and opening, and what the screens say are the real ones.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDriver } from './lib/app.mjs';
import { DEMO_PASSWORD } from './lib/server.mjs';
import { enrolTablet, findHousehold, shoot as shootIn, shotsDir, startStack, stopStack, syncTablet } from './lib/flows.mjs';

const SHOTS = shotsDir('titip');
const HEAD = 'Agustina Fiktif Titip';

let stack;
let kader;
let bidan;

async function toTitip(app) {
  await app.click('nav-home');
  await app.visible('screen-home');
  await app.click('titip-link');
  await app.visible('titip-panel');
}

/** The offer on screen: the first address shown and the code (digits only). */
async function offerOn(app) {
  await app.visible('titip-lan-code', 20_000).catch(async (e) => {
    const err = (await app.$('titip-error').isExisting()) ? await app.text('titip-error') : '(no error shown)';
    await app.screenshot(SHOTS, 'offer-failed');
    throw new Error(`no offer on screen: ${err}`, { cause: e });
  });
  const address = (await app.text('titip-lan-address')).trim();
  const code = await app.$('titip-lan-code').getAttribute('data-code');
  assert.match(address, /^[0-9.]+:\d+$/);
  assert.match(code, /^\d{6}$/);
  assert.equal(await app.text('titip-lan-code'), `${code.slice(0, 3)} ${code.slice(3)}`);
  return { address, code };
}

async function receiveOn(app, { address, code }) {
  await toTitip(app);
  if (!(await app.$('titip-lan-form').isExisting())) await app.click('titip-lan-receive');
  await app.type('titip-lan-address-input', address);
  await app.type('titip-lan-code-input', code);
  await app.click('titip-lan-receive-go');
}

async function registerHousehold(app, head) {
  await app.click('nav-households');
  await app.click('households-register');
  await app.visible('screen-register');
  await app.type('register-head', head);
  await app.type('register-dusun', 'Dusun 3 Naitimu');
  await app.type('register-rt', '07');
  await app.click('member-0-sex-female');
  await app.type('member-0-birth', '21/04/1991');
  await app.click('register-save');
  await app.visible('screen-household', 15_000);
}

/** The save and open dialogs of "Titip data" answer `path` (ui/src/lib/dialogs.ts). */
async function dialogAnswers(app, path) {
  await app.browser.execute((p) => {
    window.__jangkauE2eDialogPath = p;
  }, path);
}

describe('titip over the local network between two app instances', { timeout: 12 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('titip', SHOTS);
  });
  after(async () => {
    if (bidan) await bidan.close().catch(() => {});
    await stopStack(stack, kader);
  });

  it('the kader records a household without signal; the bidan has a tablet too', async () => {
    kader = await stack.open('tablet-kader');
    await enrolTablet(kader, stack.server, { device: 'Tablet Dusun Tanpa Sinyal' });
    await registerHousehold(kader, HEAD);

    const driver2 = await startDriver(stack.display, stack.logs, 'tauri-driver-bidan');
    bidan = await stack.open('tablet-bidan', driver2);
    await enrolTablet(bidan, stack.server, {
      code: await stack.server.code('bidan.naitimu'),
      username: 'bidan.naitimu',
      password: DEMO_PASSWORD,
      device: 'Tablet Bidan Naitimu',
    });
  });

  it('hands the sealed bundle over with the code shown on the kader tablet', async () => {
    await toTitip(kader);
    await kader.click('titip-lan-send');
    const offer = await offerOn(kader);
    await shootIn(kader, SHOTS, 'kader-offer', false);
    // A wrong code first: refused in words on the bidan's tablet, counted on the kader's.
    const wrong = `${(Number(offer.code[0]) + 1) % 10}${offer.code.slice(1)}`;
    await receiveOn(bidan, { address: offer.address, code: wrong });
    await bidan.waitText('titip-error', (t) => t.includes('Kode salah'), 30_000);
    await kader.waitText('titip-lan-wrong', (t) => t.includes('1 kali kode salah'), 10_000);
    await shootIn(bidan, SHOTS, 'bidan-wrong-code', false);
    await bidan.type('titip-lan-code-input', offer.code);
    await bidan.click('titip-lan-receive-go');
    await bidan.waitText('titip-done', (t) => t.includes('1 titipan diterima'), 30_000);
    await bidan.visible('titip-carrying');
    assert.match(await bidan.text('titip-carrying'), /1 menunggu sinkron/);
    await kader.visible('titip-lan-delivered', 10_000);
    assert.match(await kader.text('titip-sent'), /belum ada balasan/);
    await shootIn(bidan, SHOTS, 'bidan-carrying', false);
  });

  it('the carrier syncs, then carries the answer back the same way', async () => {
    await syncTablet(bidan);
    await toTitip(bidan);
    await bidan.waitText('titip-carrying', (t) => t.includes('1 sudah diserahkan'), 20_000);
    await bidan.click('titip-lan-send-answers');
    const offer = await offerOn(bidan);
    await receiveOn(kader, offer);
    const opened = await kader.waitText('titip-done', (t) => t.includes('Balasan server dibuka'), 30_000);
    const confirmed = Number(/(\d+) data dikonfirmasi/.exec(opened)?.[1] ?? '0');
    assert.ok(confirmed >= 2, `the household and its member confirmed: ${opened}`);
    assert.match(await kader.text('titip-sent'), new RegExp(`dikonfirmasi server: ${confirmed}`));
    await bidan.visible('titip-lan-delivered', 10_000);
    await shootIn(kader, SHOTS, 'kader-answer-opened', false);
  });

  it('the server kept the household: the bidan finds it after her next sync', async () => {
    await syncTablet(bidan);
    await findHousehold(bidan, 'Agustina', HEAD);
  });

  it('the file way: a bundle saved to a stick, carried, and its answer brought back', async () => {
    const usb = join(stack.tmp, 'usb');
    mkdirSync(usb, { recursive: true });
    const bundle = join(usb, 'titip-jangkau.titip');
    const answers = join(usb, 'titip-balasan.titip');
    await registerHousehold(kader, 'Veronika Fiktif Berkas');
    await toTitip(kader);
    await dialogAnswers(kader, bundle);
    await kader.click('titip-export');
    const saved = await kader.waitText('titip-done', (t) => t.includes(bundle), 30_000);
    const n = Number(/berisi (\d+) data/.exec(saved)?.[1] ?? '0');
    assert.ok(n >= 2, saved);
    assert.ok(existsSync(bundle));

    await toTitip(bidan);
    await dialogAnswers(bidan, bundle);
    await bidan.click('titip-import');
    await bidan.waitText('titip-done', (t) => t.includes('1 titipan diterima'), 30_000);
    await syncTablet(bidan);
    await toTitip(bidan);
    await dialogAnswers(bidan, answers);
    await bidan.click('titip-collect');
    await bidan.waitText('titip-done', (t) => t.includes(answers), 30_000);

    await dialogAnswers(kader, answers);
    await kader.click('titip-import');
    const opened = await kader.waitText('titip-done', (t) => t.includes('Balasan server dibuka'), 30_000);
    // The pack holds every answer the bidan carried (the earlier one again too): the one
    // opened before is not counted again, so the kader reads exactly this bundle's changes.
    const confirmed = Number(/(\d+) data dikonfirmasi/.exec(opened)?.[1] ?? '0');
    assert.equal(confirmed, n, opened);
    const firstSent = await kader.$('titip-sent').$('li').getText();
    assert.match(firstSent, new RegExp(`^${n} data.*dikonfirmasi server: ${n}`, 's'));
    await syncTablet(bidan);
    await findHousehold(bidan, 'Veronika', 'Veronika Fiktif Berkas');
  });
});
