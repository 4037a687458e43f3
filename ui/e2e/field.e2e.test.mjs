// End to end: what a kader and a bidan hit in a day (issue #16's field fixes), through the
// real app and a real server, every step on the screen and every check reading what the
// user reads.
//
// The machine runs in UTC while the records are dated in WITA (the store's zone): the times
// shown must follow WITA too.
//   1. first run: each enrolment error says what happens next and keeps what was typed (that
//      a wrong password leaves the code usable is enrol.e2e.test.mjs);
//   2. Beranda: the last sync's time in WITA, like the date;
//   3. an empty register form marks every required field at once;
//   4. dates typed one key at a time ("14032020") become 14/03/2020;
//   5. a lock during a posyandu attendance form: unlocking returns to the form as it was;
//      a past posyandu day does not say "hari ini";
//   6. the idle lock during the register form: the same;
//   7. a second user added from Pengaturan; the two take turns on the tablet, each sees only
//      their own area, and the first one's draft is never shown to the second;
//   8. the server out of reach with nothing waiting is calm, not red; the waiting count is
//      current right after a save (a pregnancy).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from './lib/server.mjs';
import { findHousehold, openHousehold, PIN, shotsDir, startStack, stopStack, syncTablet } from './lib/flows.mjs';

// The machine's zone differs from the store's (WITA): set before the driver starts the app.
process.env.E2E_TZ = 'UTC';
const WITA = 'Asia/Makassar';
const SHOTS = shotsDir('field');
const PIN2 = '730418';
const MELATI = { username: 'kader.melati', name: 'Kader Contoh Melati (demo)' };

/** `YYYY-MM-DD` of a day `days` from today in WITA. */
function witaDay(days = 0) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: WITA, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + days * 86_400_000));
}
const dmy = (iso) => iso.split('-').reverse().join('/');
const digits = (iso) => dmy(iso).replaceAll('/', '');

const FAMILY = {
  head: 'Yosef Fiktif Nahak',
  wife: 'Yuliana Fiktif Nahak',
  child: 'Klara Fiktif Nahak',
};

let stack;
let app;

async function unlockAs(username, pin, screen) {
  await app.visible('screen-lock');
  await app.click(`lock-user-${username}`);
  await app.type('lock-pin', pin);
  await app.click('lock-unlock');
  await app.visible(screen, 20_000);
}

/** The chip's colour and its words as shown (WebKitWebDriver's Get Element Text answers ''
 *  for the chip's clipped span: its rendered text is read instead). */
async function chip() {
  const el = await app.visible('sync-chip');
  const words = await app.visible('sync-chip-text');
  return { tone: await el.getAttribute('data-tone'), text: ((await words.getText()) || (await words.getProperty('innerText'))).trim() };
}

describe('field fixes end to end', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('field', SHOTS);
  });

  after(async () => {
    await stopStack(stack, app);
  });

  it('first run says what each enrolment error means and keeps what was typed', async () => {
    app = await stack.open('tablet');
    const { server } = stack;
    await app.visible('screen-firstrun', 30_000);
    const fill = async ({ url = server.url, code = server.kaderCode, password = DEMO_PASSWORD }) => {
      await app.type('firstrun-server', url);
      await app.type('firstrun-code', code);
      await app.type('firstrun-username', 'kader.mawar');
      await app.type('firstrun-password', password);
      await app.type('firstrun-device', 'Tablet Posyandu Mawar');
      await app.click('firstrun-next');
      await app.type('firstrun-pin', PIN);
      await app.type('firstrun-pin2', PIN);
      await app.click('firstrun-finish');
    };
    const after = async (id, words) => {
      const el = await app.visible('firstrun-after', 60_000);
      assert.equal(await el.getAttribute('data-error'), id);
      const text = await el.getText();
      console.log(`# ${id}: ${text}`);
      assert.match(text, words);
    };

    // No server at that address.
    await fill({ url: 'http://127.0.0.1:9' });
    await after('network', /Server tidak terjangkau.*kode belum terpakai/);
    assert.equal(await app.value('firstrun-code'), server.kaderCode);
    assert.equal(await app.value('firstrun-username'), 'kader.mawar');
    await app.screenshot(SHOTS, '01-firstrun-unreachable-id-landscape');

    // A code the server does not know.
    await fill({ code: 'AAA-BBB-CCC' });
    await after('enrol_code_invalid', /Minta kode baru/);
    assert.equal(await app.value('firstrun-code'), 'AAA-BBB-CCC');

    // A wrong password: the code is still good, the password is kept to correct it.
    await fill({ password: 'bukan-sandinya' });
    await after('login_failed', /Kode pendaftaran belum terpakai/);
    assert.equal(await app.value('firstrun-password'), 'bukan-sandinya');
    assert.equal(await app.value('firstrun-code'), server.kaderCode);
    await app.screenshot(SHOTS, '02-firstrun-wrong-password-id-landscape');

    // The same code with the right password is enrol.e2e.test.mjs's part; here a new code
    // keeps the steps below independent of it.
    await fill({ code: await server.code('kader.mawar') });
    await app.visible('screen-home', 60_000);
  });

  it("Beranda's last-sync time is in WITA like its date, whatever the machine's zone", async () => {
    await syncTablet(app);
    const shown = await app.text('sync-last-success');
    const today = await app.text('home-today');
    console.log(`# home: ${today} · last sync: ${shown}`);
    assert.ok(today.includes(dmy(witaDay())), `Beranda's date is not today's WITA date: ${today}`);
    assert.match(shown, /WITA/);
    const m = /(\d{2})\.(\d{2}) WITA/.exec(shown);
    assert.ok(m, `no WITA time in ${shown}`);
    const [h, min] = new Intl.DateTimeFormat('en-GB', { timeZone: WITA, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date()).split(':').map(Number);
    const diff = Math.abs(h * 60 + min - (Number(m[1]) * 60 + Number(m[2])));
    assert.ok(Math.min(diff, 1440 - diff) <= 3, `last sync ${m[0]} is not now in WITA (${h}.${min})`);
  });

  it('an empty register form marks every required field at once', async () => {
    await app.click('nav-households');
    await app.visible('screen-households');
    await app.click('households-register');
    await app.visible('screen-register');
    await app.click('register-add-member');
    await app.click('register-save');
    assert.equal(await app.text('register-head-error'), 'Nama Kepala Keluarga wajib diisi.');
    for (const i of [0, 1]) {
      assert.equal(await app.text(`member-${i}-name-error`), 'Nama lengkap wajib diisi.');
      assert.equal(await app.text(`member-${i}-sex-error`), 'Jenis kelamin wajib diisi.');
      assert.equal(await app.text(`member-${i}-birth-error`), 'Tanggal lahir wajib diisi.');
    }
    assert.match(await app.text('register-error'), /7 isian wajib belum diisi/);
    await app.screenshot(SHOTS, '03-register-all-marked-id-landscape');
  });

  it('dates typed one key at a time become dd/mm/yyyy with both slashes', async () => {
    const births = { head: '1980-05-12', wife: '1990-08-03', child: witaDay(-400) };
    await app.type('register-head', FAMILY.head);
    await app.type('register-dusun', 'Dusun 1 Naitimu');
    await app.click('member-0-sex-male');
    await app.typeKeys('member-0-birth', digits(births.head));
    assert.equal(await app.value('member-0-birth'), dmy(births.head));
    await app.type('member-1-name', FAMILY.wife);
    await app.click('member-1-sex-female');
    await app.click('member-1-relation-spouse');
    await app.typeKeys('member-1-birth', digits(births.wife));
    assert.equal(await app.value('member-1-birth'), dmy(births.wife));
    await app.click('register-add-member');
    await app.type('member-2-name', FAMILY.child);
    await app.click('member-2-sex-female');
    await app.click('member-2-relation-child');
    await app.typeKeys('member-2-birth', digits(births.child));
    assert.equal(await app.value('member-2-birth'), dmy(births.child));
    // The example of the issue, key by key.
    await app.click('register-add-member');
    await app.typeKeys('member-3-birth', '14032020');
    assert.equal(await app.value('member-3-birth'), '14/03/2020');
    await app.click('member-3-remove');
    await app.click('register-save');
    await app.visible('screen-household', 20_000);
    await app.waitText('household-member-count', '(3)');
    const rows = await app.$$('member-row');
    for (const r of rows) {
      if ((await r.getText()).includes(FAMILY.child)) {
        await r.click();
        break;
      }
    }
    await app.visible('screen-profile');
    assert.equal(await app.text('profile-birth'), dmy(births.child));
  });

  it('a lock during a posyandu attendance form: unlocking returns to the form as it was', async () => {
    await app.click('nav-posyandu');
    await app.visible('screen-posyandu-start');
    await app.click('start-open');
    await app.visible('screen-posyandu-day', 20_000);
    assert.match(await app.text('day-expected-title'), /Diharapkan datang hari ini/);
    await app.type('day-search', 'Klara');
    await app.browser.waitUntil(async () => (await app.$$('roster-name')).length === 1, { timeout: 10_000, timeoutMsg: 'Klara not alone on the roster' });
    await app.click('roster-name');
    await app.visible('screen-attendance');
    await app.waitText('att-name', FAMILY.child);
    await app.type('att-weight', '9,3');
    await app.type('att-counselling-notes', 'ASI dan MP-ASI');
    await app.click('lock-button');
    await app.visible('screen-lock');
    // Nothing of the form shows behind the lock screen.
    assert.equal(await app.$('screen-attendance').isDisplayed(), false);
    await unlockAs('kader.mawar', PIN, 'screen-attendance');
    await app.waitText('att-name', FAMILY.child);
    assert.equal(await app.value('att-weight'), '9,3');
    assert.equal(await app.value('att-counselling-notes'), 'ASI dan MP-ASI');
    await app.screenshot(SHOTS, '04-attendance-after-unlock-id-landscape');
  });

  it('a past posyandu day does not say "hari ini"', async () => {
    await app.click('nav-posyandu');
    await app.visible('screen-posyandu-start');
    const past = witaDay(-7);
    await app.typeKeys('start-date', digits(past));
    await app.click('start-open');
    await app.visible('screen-posyandu-day', 20_000);
    await app.waitText('day-date', dmy(past));
    const title = await app.text('day-expected-title');
    console.log(`# past day: ${title}`);
    assert.doesNotMatch(title, /hari ini/);
    assert.match(title, new RegExp(`Diharapkan datang pada ${dmy(past)}`));
  });

  it('the idle lock during the register form: unlocking returns to it with what was typed', async () => {
    await app.click('nav-settings');
    await app.visible('screen-settings');
    while ((await app.text('settings-idle-minutes')) !== '1 menit') await app.click('settings-idle-less');
    await app.visible('settings-saved');
    await app.click('nav-households');
    await app.click('households-register');
    await app.visible('screen-register');
    await app.type('register-head', 'Draf Idle Fiktif');
    await app.type('register-rt', '04');
    // No touch from here: the tablet locks itself.
    await app.visible('screen-lock', 100_000);
    await unlockAs('kader.mawar', PIN, 'screen-register');
    assert.equal(await app.value('register-head'), 'Draf Idle Fiktif');
    assert.equal(await app.value('register-rt'), '04');
    // Discarded on purpose: the next register form is empty.
    await app.click('register-cancel');
    await app.visible('screen-households');
    await app.click('households-register');
    assert.equal(await app.value('register-head'), '');
    // Back to a longer idle time for the steps that follow.
    await app.click('nav-settings');
    while ((await app.text('settings-idle-minutes')) !== '10 menit') await app.click('settings-idle-more');
  });

  it('a second user is added from Pengaturan; two users take turns, each sees only their own area', async () => {
    await app.click('nav-settings');
    await app.visible('screen-settings');
    await app.click('settings-add-user');
    await app.type('adduser-username', MELATI.username);
    await app.type('adduser-password', 'salah-sandi');
    await app.type('adduser-pin', PIN2);
    await app.type('adduser-pin2', PIN2);
    await app.click('adduser-save');
    // Refused by the server: said at the field, everything typed stays.
    await app.visible('adduser-password-error', 30_000);
    assert.equal(await app.value('adduser-username'), MELATI.username);
    await app.type('adduser-password', DEMO_PASSWORD);
    await app.click('adduser-save');
    assert.match(await app.waitText('adduser-done', MELATI.name, 30_000), /PIN/);
    await app.screenshot(SHOTS, '05-settings-user-added-id-landscape');
    assert.match(await app.text('settings-user'), /kader\.mawar/);

    // Kader Mawar starts a registration and locks.
    await app.click('nav-households');
    await app.click('households-register');
    await app.type('register-head', 'Rahasia Mawar Fiktif');
    await app.click('lock-button');
    await app.visible('screen-lock');
    await app.visible(`lock-user-${MELATI.username}`);
    await app.screenshot(SHOTS, '06-lock-two-users-id-landscape');

    // Kader Melati: her own Beranda, not the other's form; her own posyandu.
    await unlockAs(MELATI.username, PIN2, 'screen-home');
    await app.click('nav-settings');
    assert.match(await app.text('settings-user'), /kader\.melati/);
    await app.click('nav-households');
    await app.visible('screen-households');
    await app.click('households-register');
    await app.visible('screen-register');
    assert.equal(await app.value('register-head'), '');
    assert.match(await app.text('register-posyandu-name'), /Melati|P02/);
    await app.type('register-head', 'Melkior Fiktif Bere');
    await app.click('member-0-sex-male');
    await app.typeKeys('member-0-birth', '02021975');
    await app.click('register-save');
    await app.visible('screen-household', 20_000);
    // Mawar's household is not in her area.
    await findHousehold(app, 'Bere', 'Melkior Fiktif Bere');
    await app.type('households-query', 'Nahak');
    await app.visible('households-empty', 15_000);
    assert.equal((await app.$$('household-row')).length, 0);
    await app.screenshot(SHOTS, '07-melati-households-id-landscape');
    await syncTablet(app);

    // Kader Mawar again: her area only.
    await app.click('lock-button');
    await unlockAs('kader.mawar', PIN, 'screen-home');
    await findHousehold(app, 'Nahak', FAMILY.head);
    await app.type('households-query', 'Bere');
    await app.visible('households-empty', 15_000);
    assert.equal((await app.$$('household-row')).length, 0);
  });

  it('the server out of reach with nothing waiting is calm, and the count follows every save', async () => {
    await syncTablet(app);
    await stack.server.stop();
    await app.click('nav-home');
    await app.click('sync-button');
    await app.browser.waitUntil(async () => (await chip()).tone !== 'busy' && (await app.$('sync-last-error').isExisting()), {
      timeout: 90_000,
      timeoutMsg: 'the run did not end',
    });
    await app.screenshot(SHOTS, '08-home-unreachable-id-landscape');
    const calm = await chip();
    console.log(`# chip offline: ${JSON.stringify(calm)}`);
    assert.notEqual(calm.tone, 'danger');
    assert.equal(calm.text, 'Server tak terjangkau');
    assert.equal(await app.$('sync-last-error').getAttribute('data-calm'), 'true');

    // A pregnancy saved: the chip counts it at once, on the same screen.
    await openHousehold(app, 'Yuliana', FAMILY.head);
    for (const r of await app.$$('member-row')) {
      if ((await r.getText()).includes(FAMILY.wife)) {
        await r.click();
        break;
      }
    }
    await app.visible('screen-profile');
    await app.click('pregnancy-start');
    await app.typeKeys('pregnancy-hpht-input', digits(witaDay(-90)));
    assert.equal(await app.value('pregnancy-hpht-input'), dmy(witaDay(-90)));
    await app.type('pregnancy-gravida', '1');
    await app.type('pregnancy-para', '0');
    await app.click('pregnancy-save');
    await app.visible('pregnancy-ongoing', 20_000);
    let now = null;
    await app.browser.waitUntil(async () => /^Server tak terjangkau · [1-9]\d* menunggu$/.test((now = await chip()).text), {
      timeout: 5_000,
      timeoutMsg: `the chip did not count the pregnancy: ${JSON.stringify(now)}`,
    });
    console.log(`# chip after the save: ${JSON.stringify(now)}`);
    assert.equal(now.tone, 'offline');
  });
});
