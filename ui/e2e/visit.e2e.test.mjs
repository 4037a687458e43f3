// End to end: a kunjungan rumah that makes a rujukan, followed up by the bidan.
//
// The tablet enrols as kader.mawar and syncs: the demo family of Posyandu Mawar (Bapak,
// Ibu and Anak Contoh Fiktif) arrives. From the household the kader opens "Kunjungan
// rumah", ticks the child (the under-five panel), types a LiLA of 3 cm by mistake: Rust
// refuses it, the field says why and nothing typed is lost. With the LiLA corrected
// (13,5 with a decimal comma), a weight, a sign, education and a referral to the puskesmas,
// "Simpan" saves the visit and the referral; the tablet syncs. The bidan of the desa (a
// `jangkau` CLI device of bidan.naitimu) syncs, records the referral as received
// (`jangkau record referral --status received`) and syncs; the tablet syncs again and the
// referral shows "Diterima" in the list and in its history.
// Screenshots (both languages, landscape and portrait) go to ui/e2e/screenshots/visit/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from './lib/server.mjs';
import { enrolCli, enrolTablet, openHousehold, setLanguage, shoot as shootIn, shotsDir, startStack, stopStack, syncTablet, toTop } from './lib/flows.mjs';

const SHOTS = shotsDir('visit');
// The demo family (server/src/admin.rs `seed_demo_records`).
const HEAD = 'Bapak Contoh Fiktif';
const CHILD = 'Anak Contoh Fiktif';
const REASON = 'Demam tinggi dan LiLA kecil';
const BIDAN_NOTE = 'Diterima di Pustu Naitimu';

let stack;
let app;
let childId;
let referralId;

const shoot = (name, both = true) => shootIn(app, SHOTS, name, both);

async function openVisit(shot) {
  await openHousehold(app, 'Bapak Contoh', HEAD);
  await app.visible('household-home-visit');
  if (shot) await shoot(shot, false);
  await app.click('household-home-visit');
  await app.visible('screen-home-visit');
  await app.waitText('visit-household', HEAD);
  // The member's line as the kader reads it: the label with the child's name.
  childId = null;
  for (const box of await app.browser.$$('[data-testid^="visit-member-"]')) {
    const label = await box.parentElement();
    if ((await label.getText()).includes(CHILD)) {
      childId = (await box.getAttribute('data-testid')).slice('visit-member-'.length);
      break;
    }
  }
  assert.ok(childId, `${CHILD} is not among the members to visit`);
  await app.click(`visit-member-${childId}`);
  const panel = await app.visible(`visit-panel-${childId}`);
  await app.browser.waitUntil(async () => (await panel.getAttribute('data-kind')) === 'under_five', { timeout: 15_000, timeoutMsg: 'the child did not get the under-five panel' });
}

describe('kunjungan rumah and rujukan end to end', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('visit', SHOTS);
  });

  after(async () => {
    await stopStack(stack, app);
  });

  it('enrols the tablet and receives the demo family', async () => {
    app = await stack.open('tablet');
    await enrolTablet(app, stack.server, { device: 'Tablet Posyandu Mawar (kunjungan)' });
    await syncTablet(app);
  });

  it('shows the home visit form in English, by life stage', async () => {
    await setLanguage(app, 'en');
    await openVisit();
    assert.match(await app.text(`visit-panel-${childId}`), /Under-five \(balita\)/);
    await toTop(app);
    await shoot('01-home-visit-en');
    await setLanguage(app, 'id');
  });

  it('keeps what was typed when Rust refuses a value, and says why at the field', async () => {
    await openVisit('02-household-with-visit-button-id');
    await toTop(app);
    await shoot('02-home-visit-id');
    // A LiLA of 3 cm (13 was meant): outside what any arm measures.
    await app.type(`visit-m-${childId}-muac`, '3');
    await app.type(`visit-findings-${childId}`, 'Anak rewel, makan sedikit');
    await app.click('visit-save');
    const error = await app.visible(`visit-m-${childId}-muac-error`, 15_000);
    console.log(`# refused: ${await error.getText()}`);
    // Rust's sentence names the form's field: LiLA, not the payload's `value`.
    assert.match(await error.getText(), /^LiLA /);
    assert.match(await app.text('visit-error'), /LiLA/);
    assert.equal(await app.value(`visit-m-${childId}-muac`), '3');
    assert.equal(await app.value(`visit-findings-${childId}`), 'Anak rewel, makan sedikit');
    assert.ok(!(await app.$('visit-saved').isExisting()));
    await (await app.$(`visit-m-${childId}-muac`)).scrollIntoView({ block: 'center' });
    await shoot('03-home-visit-refused-id');
  });

  it('saves the visit with a referral to the puskesmas (decimal commas accepted)', async () => {
    await app.type(`visit-m-${childId}-muac`, '13,5');
    await app.type(`visit-m-${childId}-weight`, '11,2');
    await app.click(`visit-sign-${childId}-u5_fever`);
    await app.click(`visit-topic-${childId}-child_feeding`);
    await app.click(`visit-reminded-${childId}`);
    await app.click(`visit-refer-${childId}`);
    await app.type(`visit-referral-${childId}-reason`, REASON);
    await app.click(`visit-referral-${childId}-dest-puskesmas`);
    await app.type(`visit-referral-${childId}-name`, 'Puskesmas Halilulik');
    await (await app.$(`visit-referral-${childId}`)).scrollIntoView({ block: 'center' });
    await shoot('04-home-visit-referral-id');
    await app.click('visit-hh-latrine-yes');
    await app.click('visit-hh-water-well');
    await app.click('visit-ack');
    await (await app.$('visit-facts')).scrollIntoView({ block: 'start' });
    await shoot('04-home-visit-household-id');
    await app.click('visit-save');
    await app.visible('visit-saved', 20_000);
    assert.match(await app.text(`visit-saved-panel-${childId}`), /2 pengukuran/);
    assert.match(await app.text(`visit-saved-referral-${childId}`), /Rujukan dibuat ke Puskesmas \(Puskesmas Halilulik\)/);
    assert.ok(await app.$('visit-saved-household').isExisting(), 'the household facts were not saved');
    referralId = await app.$(`visit-referral-link-${childId}`).getAttribute('data-id');
    assert.match(referralId, /^[0-9a-f-]{36}$/);
    await shoot('05-home-visit-saved-id');
    await app.click(`visit-referral-link-${childId}`);
    await app.visible('screen-referral');
    await app.waitText('referral-status', 'Dibuat');
    assert.equal(await app.text('referral-reason'), REASON);
    // A kader makes referrals; the bidan moves them on.
    await app.visible('referral-kader-note');
    await shoot('06-referral-made-id');
  });

  it('syncs; the bidan records the referral as received and syncs', async () => {
    await syncTablet(app);
    const cli = await enrolCli(stack, 'cli-bidan', { username: 'bidan.naitimu', password: DEMO_PASSWORD, device: 'e2e bidan Naitimu' });
    await cli(['sync', '--quiet']);
    const list = await cli(['record', 'referral']);
    const line = list.split('\n').find((l) => l.startsWith(referralId));
    assert.ok(line, `the bidan's device does not have referral ${referralId}:\n${list}`);
    assert.match(line, new RegExp(`\\tmade\\t${CHILD}\\t${REASON}`));
    const moved = await cli(['record', 'referral', '--id', referralId, '--status', 'received', '--outcome', BIDAN_NOTE]);
    assert.match(moved, /\treferral_event\treceived/);
    await cli(['sync', '--quiet']);
  });

  it('the tablet syncs again: the referral shows "Diterima"', async () => {
    await syncTablet(app);
    await app.click('nav-referrals');
    await app.visible('screen-referrals');
    await app.waitText(`referral-row-status-${referralId}`, 'Diterima', 15_000);
    assert.match(await app.text(`referral-row-${referralId}`), new RegExp(CHILD));
    await shoot('07-referrals-id');
    await app.click('referrals-filter-received');
    await app.visible(`referral-row-${referralId}`);
    await app.click('referrals-filter-made');
    await app.visible('referrals-empty');
    await app.click('referrals-filter-all');
    await app.click(`referral-row-${referralId}`);
    await app.visible('screen-referral');
    await app.waitText('referral-status', 'Diterima');
    assert.match(await app.text('referral-event-0'), /Dibuat/);
    assert.match(await app.text('referral-event-1'), /Diterima/);
    assert.equal(await app.text('referral-event-note-1'), BIDAN_NOTE);
    await app.click('referral-refresh');
    await app.visible('referral-refreshed');
    await app.waitText('referral-status', 'Diterima');
    await shoot('08-referral-received-id');
  });

  it('shows the referrals in English', async () => {
    await setLanguage(app, 'en');
    await app.click('nav-referrals');
    await app.visible('screen-referrals');
    await app.waitText(`referral-row-status-${referralId}`, 'Received');
    await shoot('09-referrals-en');
    await app.click(`referral-row-${referralId}`);
    await app.waitText('referral-status', 'Received');
    await shoot('10-referral-received-en');
    await setLanguage(app, 'id');
  });
});
