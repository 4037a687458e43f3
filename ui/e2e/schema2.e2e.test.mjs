// End to end (issue 15, body schema 2): the fields the standards need, through the real app
// and a real server.
//
// The tablet (kader.mawar) registers a family with a newborn born yesterday (birth weight,
// length and time on the register form; an unreadable weight first, marked and kept), and
// two babies of two months. At the posyandu day both babies get DPT-HB-Hib 1: the vial's lot
// and expiry are typed once, for the first baby (an expired date first: refused on the
// tablet, kept), and are already filled in for the second. A second kader's `jangkau` CLI
// device syncs and finds everything on its side: the newborn's birth and both doses with
// the lot and expiry. Screenshots go to ui/e2e/screenshots/schema2/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SECOND_KADER } from './lib/server.mjs';
import { bodyOf, enrolCli, enrolTablet, exportRecords, personIds, scrollTo as scrollIn, shoot as shootIn, shotsDir, startStack, stopStack, syncTablet, ZONE } from './lib/flows.mjs';

const SHOTS = shotsDir('schema2');
const TODAY = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
const [TY, TM, TD] = TODAY.split('-').map(Number);
/** dd/mm/yyyy of the day `days` days before today, `months` months before. */
const before_ = (months, days) => {
  const d = new Date(Date.UTC(TY, TM - 1 - months, TD - days));
  return `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()}`;
};
const FAMILY = {
  head: 'Yosef Fiktif Bere',
  members: [
    { name: 'Maria Fiktif Bere', sex: 'female', birth: '02/04/1996' },
    { name: 'Bayi Ny. Maria Fiktif', sex: 'female', birth: before_(0, 1) },
    { name: 'Agus Fiktif Bere', sex: 'male', birth: before_(2, 10) },
    { name: 'Ani Fiktif Bere', sex: 'female', birth: before_(2, 12) },
  ],
};
const EXPIRY = `31/12/${TY + 1}`;
const EXPIRY_ISO = `${TY + 1}-12-31`;
const LOT = 'DPT24-118';

let stack;
let app;
let ids = {};
const shoot = (name, both = false) => shootIn(app, SHOTS, name, both);
const scrollTo = (testid, block = 'start') => scrollIn(app, testid, block);

async function attend(name) {
  await app.visible('screen-posyandu-day');
  await app.type('day-search', name.split(' ')[0]);
  await app.click(`roster-${ids[name]}`);
  await app.visible('screen-attendance');
  await app.waitText('att-name', name);
}

describe('body schema 2 end to end', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('schema2', SHOTS);
    console.log(`# today ${TODAY}`);
  });

  after(async () => {
    await stopStack(stack, app);
  });

  it('the tablet enrols and registers a family with a newborn and her birth', async () => {
    app = await stack.open('tablet');
    await enrolTablet(app, stack.server, { device: 'Tablet Posyandu Mawar (schema 2)' });
    await app.click('nav-households');
    await app.click('households-register');
    await app.visible('screen-register');
    await app.type('register-head', FAMILY.head);
    await app.click('member-0-sex-male');
    await app.type('member-0-birth', '10/01/1992');
    for (const [i, m] of FAMILY.members.entries()) {
      await app.click('register-add-member');
      const n = i + 1;
      await app.type(`member-${n}-name`, m.name);
      await app.click(`member-${n}-sex-${m.sex}`);
      await app.type(`member-${n}-birth`, m.birth);
    }
    // Only the newborn is asked for her birth.
    await app.visible('member-2-birth-facts');
    assert.ok(!(await app.$('member-3-birth-facts').isExisting()), 'a two-month-old is asked for her birth');
    await app.type('member-2-birth-weight', '3,1 kg');
    await app.type('member-2-birth-length', '49,5');
    await app.type('member-2-birth-time', '06.45');
    await app.click('register-save');
    await app.visible('register-error');
    assert.equal(await app.text('member-2-birth-weight-error'), 'Tulis angka saja, misalnya 8,2.');
    assert.equal(await app.value('member-2-birth-weight'), '3,1 kg');
    await scrollTo('member-2');
    await shoot('01-newborn-refused-id');
    await app.type('member-2-birth-weight', '3,1');
    await app.click('register-save');
    await app.visible('screen-household', 20_000);
    await syncTablet(app);
  });

  it("a second kader's device receives the newborn's birth through the server", async () => {
    const cli = await enrolCli(stack, 'cli-kader2', { username: SECOND_KADER.username, password: SECOND_KADER.password, device: 'e2e kader 2 CLI (schema 2)' });
    await cli(['sync', '--quiet']);
    const records = await exportRecords(cli);
    ids = personIds(records, Object.fromEntries(FAMILY.members.map((m) => [m.name, m.name])));
    const baby = records.find((r) => r.kind === 'person' && bodyOf(r).name === FAMILY.members[1].name);
    const b = bodyOf(baby);
    assert.deepEqual([b.birth_weight, b.birth_length, b.birth_time], [3.1, 49.5, '06:45']);
    stack.cli = cli;
  });

  it('DPT-HB-Hib 1 for the first baby: the lot and expiry typed once (an expired date refused first)', async () => {
    await app.click('nav-posyandu');
    await app.visible('screen-posyandu-start');
    await app.click('start-open');
    await app.visible('screen-posyandu-day', 20_000);
    await attend(FAMILY.members[2].name);
    await app.type('att-weight', '5,6');
    await app.click('att-dose-DPT-HB-Hib1');
    await app.visible('att-vial-DPT-HB-Hib');
    assert.equal(await app.value('att-vial-DPT-HB-Hib-lot'), '');
    await app.type('att-vial-DPT-HB-Hib-lot', LOT);
    await app.type('att-vial-DPT-HB-Hib-expiry', before_(1, 0));
    await app.click('att-save');
    const err = await app.waitText('att-vial-DPT-HB-Hib-expiry-error', (s) => s.length > 0);
    assert.match(err, /^Vaksin sudah kedaluwarsa/);
    assert.equal(await app.value('att-vial-DPT-HB-Hib-lot'), LOT);
    await scrollTo('att-vials', 'center');
    await shoot('02-vial-expired-id');
    await app.type('att-vial-DPT-HB-Hib-expiry', EXPIRY);
    await app.click('att-save');
    await app.visible('screen-posyandu-day', 20_000);
    assert.match(await app.text('flash'), /Tersimpan/);
  });

  it('the second baby: the same vial is already filled in', async () => {
    await attend(FAMILY.members[3].name);
    await app.type('att-weight', '5,2');
    await app.click('att-dose-DPT-HB-Hib1');
    await app.visible('att-vial-DPT-HB-Hib');
    assert.equal(await app.value('att-vial-DPT-HB-Hib-lot'), LOT);
    assert.equal(await app.value('att-vial-DPT-HB-Hib-expiry'), EXPIRY);
    await app.visible('att-vial-DPT-HB-Hib-remembered');
    await scrollTo('att-vials', 'center');
    await shoot('03-vial-prefilled-id');
    await app.click('att-save');
    await app.visible('screen-posyandu-day', 20_000);
    await syncTablet(app);
  });

  it('both doses reach the other device with their lot and expiry', async () => {
    await stack.cli(['sync', '--quiet']);
    const records = await exportRecords(stack.cli);
    const doses = records.filter((r) => r.kind === 'immunisation' && bodyOf(r).vaccine === 'DPT-HB-Hib1');
    const byPerson = Object.fromEntries(doses.map((r) => [bodyOf(r).person, bodyOf(r)]));
    for (const m of FAMILY.members.slice(2)) {
      const d = byPerson[ids[m.name]];
      assert.ok(d, `no DPT-HB-Hib1 for ${m.name}`);
      assert.deepEqual([d.batch, d.expiry], [LOT, EXPIRY_ISO], m.name);
    }
  });
});
