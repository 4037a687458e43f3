// End to end: the built Jangkau app under Xvfb, driven through tauri-driver and
// WebKitWebDriver, against a real district server on SQLite started here.
//
// enrol → set PIN → register a household of three → the duplicate warning → lock and
// unlock → restart and see the data → sync → the records on the server (read back by a
// `jangkau` CLI device of the bidan) → a second tablet of the same posyandu receives them.
// Screenshots of every screen go to ui/e2e/screenshots/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDriver } from './lib/app.mjs';
import { DEMO_PASSWORD, SECOND_KADER } from './lib/server.mjs';
import {
  bodyOf,
  enrolCli,
  enrolTablet,
  exportRecords,
  findHousehold as findHouseholdOf,
  idOf,
  openHousehold,
  PIN,
  setLanguage,
  shoot as shootIn,
  shotsDir,
  startStack,
  stopStack,
  syncTablet,
} from './lib/flows.mjs';

const SHOTS = shotsDir();
const PIN2 = '731904';

const FAMILY = {
  head: 'Yohanes Fiktif Bria',
  dusun: 'Dusun 1 Naitimu',
  rt: '03',
  members: [
    { name: 'Yohanes Fiktif Bria', sex: 'male', birth: '12/05/1980', iso: '1980-05-12' },
    { name: 'Maria Fiktif Seran', sex: 'female', birth: '03/08/1984', iso: '1984-08-03' },
    { name: 'Petrus Fiktif Bria', sex: 'male', birth: '14/02/2024', iso: '2024-02-14' },
  ],
};

let stack;
let server;
let app;

const shoot = (name) => shootIn(app, SHOTS, name);

/** Unlocks and waits for `screen`: Beranda after a restart, else the screen that was open
 *  when the tablet locked (with its form as it was). */
async function unlock(username, pin, screen = 'screen-home') {
  await app.visible('screen-lock');
  const pick = app.$(`lock-user-${username}`);
  if (await pick.isExisting()) await app.click(`lock-user-${username}`);
  await app.type('lock-pin', pin);
  await app.click('lock-unlock');
  await app.visible(screen);
}

const findHousehold = (query) => findHouseholdOf(app, query, FAMILY.head);

async function openFamily() {
  await openHousehold(app, 'Yohanes', FAMILY.head);
  await app.waitText('household-member-count', '(3)');
  const names = await app.$$('member-row-name').map((e) => e.getText());
  assert.deepEqual([...names].sort(), FAMILY.members.map((m) => m.name).sort());
}

describe('Jangkau app end to end', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('app', SHOTS);
    ({ server } = stack);
  });

  after(async () => {
    await stopStack(stack, app);
  });

  it('enrols the tablet and sets the PIN (first run)', async () => {
    app = await stack.open('tablet-a');
    console.log(`# app page: ${await app.browser.getUrl()}`);
    await app.visible('screen-firstrun', 30_000);
    assert.equal(await app.value('firstrun-server'), server.url);
    await app.screenshot(SHOTS, '01-firstrun-id-landscape');
    await app.click('lang-en');
    await shoot('01-firstrun-en');
    await app.click('lang-id');
    // A field left empty is refused in the user's language, and what was typed stays.
    await app.type('firstrun-username', 'kader.mawar');
    await app.click('firstrun-next');
    assert.equal(await app.text('firstrun-code-error'), 'Kode pendaftaran tablet wajib diisi.');
    assert.equal(await app.value('firstrun-username'), 'kader.mawar');
    await app.screenshot(SHOTS, '02-firstrun-error-id-landscape');
    await app.type('firstrun-code', server.kaderCode);
    await app.type('firstrun-password', DEMO_PASSWORD);
    await app.type('firstrun-device', 'Tablet Posyandu Mawar 1');
    await app.click('firstrun-next');
    await app.visible('firstrun-pin');
    await app.screenshot(SHOTS, '03-firstrun-pin-id-landscape');
    await app.type('firstrun-pin', '123456');
    await app.type('firstrun-pin2', '123456');
    await app.click('firstrun-finish');
    // A trivial PIN is refused by Rust and marked on the field.
    assert.match(await app.waitText('firstrun-pin-error', (s) => s.length > 0, 30_000), /PIN/);
    await app.screenshot(SHOTS, '03-firstrun-pin-error-id-landscape');
    await app.type('firstrun-pin', PIN);
    await app.type('firstrun-pin2', PIN);
    await app.click('firstrun-finish');
    await app.visible('screen-home', 60_000);
    await app.screenshot(SHOTS, '04-home-id-landscape');
  });

  it('registers a household with three members', async () => {
    await app.click('nav-households');
    await app.visible('screen-households');
    await app.screenshot(SHOTS, '05-households-id-landscape');
    await app.click('households-register');
    await app.visible('screen-register');
    await app.type('register-head', FAMILY.head);
    assert.equal(await app.value('member-0-name'), FAMILY.head);
    await app.type('register-dusun', FAMILY.dusun);
    await app.type('register-rt', FAMILY.rt);
    for (let i = 0; i < FAMILY.members.length; i++) {
      const m = FAMILY.members[i];
      if (i > 0) {
        await app.click('register-add-member');
        await app.type(`member-${i}-name`, m.name);
      }
      await app.click(`member-${i}-sex-${m.sex}`);
      await app.type(`member-${i}-birth`, m.birth);
      assert.equal(await app.value(`member-${i}-birth`), m.birth);
    }
    await app.click('member-1-relation-spouse');
    await app.click('member-2-relation-child');
    await shoot('06-register-id');
    // A bad NIK is refused by Rust: the field is marked, nothing typed is lost.
    await app.type('member-2-nik', '12345');
    await app.click('register-save');
    assert.match(await app.waitText('member-2-nik-error', (s) => s.length > 0, 15_000), /NIK/);
    assert.equal(await app.value('register-head'), FAMILY.head);
    assert.equal(await app.value('member-1-name'), FAMILY.members[1].name);
    assert.equal(await app.value('member-2-birth'), FAMILY.members[2].birth);
    await app.screenshot(SHOTS, '07-register-error-id-landscape');
    await app.type('member-2-nik', '');
    await app.click('register-save');
    await app.visible('screen-household', 15_000);
    await app.waitText('household-member-count', '(3)');
    assert.equal(await app.text('flash'), 'Keluarga tersimpan dengan 3 anggota.');
    await shoot('08-household-id');
  });

  it('warns of a likely duplicate when registering the child again', async () => {
    await app.click('nav-households');
    await app.click('households-register');
    await app.visible('screen-register');
    await app.type('register-head', 'Petrus Fiktif Bria');
    await app.type('member-0-birth', FAMILY.members[2].birth);
    const warning = await app.waitText('member-0-dup', `Mungkin sudah terdaftar: ${FAMILY.members[2].name}`, 15_000);
    assert.match(warning, /Mungkin sudah terdaftar/);
    await app.screenshot(SHOTS, '09-register-duplicate-id-landscape');
    // Saving waits for a choice.
    await app.click('register-save');
    assert.equal(await app.text('register-dup-pending'), 'Ada anggota yang mungkin sudah terdaftar. Buka datanya, atau centang "tetap daftarkan".');
    await setLanguageOnForm('en');
    await app.waitText('member-0-dup', `May already be registered: ${FAMILY.members[2].name}`);
    await app.screenshot(SHOTS, '09-register-duplicate-en-landscape');
    await setLanguageOnForm('id');
    // Open the existing person instead: their profile with the timeline.
    await app.click('member-0-dup-open');
    await app.visible('screen-profile');
    assert.equal(await app.text('profile-name'), FAMILY.members[2].name);
    assert.equal(await app.text('profile-birth'), FAMILY.members[2].birth);
    await shoot('10-profile-id');
    // The draft is still there; cancel it.
    await app.click('nav-households');
    await app.click('households-register');
    assert.equal(await app.value('register-head'), 'Petrus Fiktif Bria');
    await app.click('register-cancel');
    await app.visible('screen-households');
  });

  it('locks and unlocks with the PIN', async () => {
    await app.click('lock-button');
    await app.visible('screen-lock');
    await shoot('11-lock-id');
    await app.type('lock-pin', '999999');
    await app.click('lock-unlock');
    assert.match(await app.waitText('lock-pin-error', (s) => s.length > 0, 15_000), /PIN/);
    await app.screenshot(SHOTS, '12-lock-wrong-pin-id-landscape');
    // Back to the screen it was locked on.
    await unlock('kader.mawar', PIN, 'screen-households');
  });

  it('keeps the data when the app restarts', async () => {
    await app.close();
    app = await stack.open('tablet-a');
    await unlock('kader.mawar', PIN);
    await findHousehold('Petrus');
    // Found by a member's name, not only the head's.
    await app.waitText('households-list', 'Petrus Fiktif Bria');
    await shoot('05-households-search-id');
    await openFamily();
  });

  it('syncs: nothing waits, the last success is shown', async () => {
    await app.click('nav-home');
    await app.visible('screen-home');
    // The shell may already have sent them in the background; a run now must end clean.
    console.log(`# waiting before the sync: ${await app.text('sync-waiting')}`);
    await syncTablet(app);
    console.log(`# home after the sync: ${await app.text('home-today')}`);
    await shoot('13-home-synced-id');
    await setLanguage(app, 'en');
    await app.screenshot(SHOTS, '14-settings-en-landscape');
    await app.click('nav-home');
    await app.visible('screen-home');
    await app.screenshot(SHOTS, '14-home-en-landscape');
    await openFamily();
    await app.screenshot(SHOTS, '14-household-en-landscape');
    await setLanguage(app, 'id');
    await app.screenshot(SHOTS, '15-settings-id-landscape');
  });

  it('locks itself after the idle minutes set in Pengaturan', async () => {
    await app.click('nav-settings');
    await app.visible('screen-settings');
    while ((await app.text('settings-idle-minutes')) !== '1 menit') await app.click('settings-idle-less');
    assert.equal(await app.text('settings-saved'), 'Tersimpan.');
    await app.screenshot(SHOTS, '15-settings-idle-id-landscape');
    const t0 = Date.now();
    // No touch from here: WebDriver only looks.
    await app.visible('screen-lock', 100_000);
    const s = (Date.now() - t0) / 1000;
    console.log(`# locked itself after ${s.toFixed(0)} s`);
    assert.ok(s >= 50, `locked too early (${s} s)`);
    await unlock('kader.mawar', PIN, 'screen-settings');
  });

  it('the server has the records (read back by the bidan through a jangkau CLI device)', async () => {
    const cli = await enrolCli(stack, 'cli-bidan', { username: 'bidan.naitimu', password: DEMO_PASSWORD, device: 'e2e bidan CLI' });
    await cli(['sync', '--quiet']);
    const records = await exportRecords(cli);
    const hh = records.find((r) => bodyOf(r).head_name === FAMILY.head);
    assert.ok(hh, `household ${FAMILY.head} not on the server; export had ${records.length} records`);
    const members = records.filter((r) => bodyOf(r).household === idOf(hh));
    assert.deepEqual(members.map((r) => bodyOf(r).name).sort(), FAMILY.members.map((m) => m.name).sort());
    const child = members.find((r) => bodyOf(r).name === FAMILY.members[2].name);
    assert.equal(bodyOf(child).birth_date, FAMILY.members[2].iso);
  });

  it('a second tablet of the same posyandu receives them', async () => {
    await app.close();
    const driver2 = await startDriver(stack.display, stack.logs, 'tauri-driver-2');
    app = await stack.open('tablet-b', driver2);
    await enrolTablet(app, server, { code: await server.code(SECOND_KADER.username), username: SECOND_KADER.username, password: SECOND_KADER.password, pin: PIN2, device: 'Tablet Posyandu Mawar 2' });
    await syncTablet(app);
    await openFamily();
    await app.screenshot(SHOTS, '16-second-tablet-household-id-landscape');
    await app.click('member-row');
    await app.visible('screen-profile');
    await app.screenshot(SHOTS, '17-second-tablet-profile-id-landscape');
    // Marking moved or died asks for the date first (dd/mm/yyyy, today by default).
    await app.click('profile-mark-moved');
    await (await app.visible('mark-form')).scrollIntoView({ block: 'end' });
    assert.match(await app.value('mark-date'), /^\d{2}\/\d{2}\/\d{4}$/);
    await app.screenshot(SHOTS, '17-mark-moved-id-landscape');
    await app.click('mark-cancel');
    await app.click('nav-home');
    await app.screenshot(SHOTS, '18-second-tablet-home-id-landscape');
  });
});

async function setLanguageOnForm(l) {
  // The register form keeps its draft across screens: switch in Pengaturan and come back.
  await setLanguage(app, l);
  await app.click('nav-households');
  await app.click('households-register');
  await app.visible('screen-register');
}

