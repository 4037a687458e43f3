// End to end: a child's growth chart (KMS) and immunisation card.
//
// A second device of Posyandu Mawar (a `jangkau` CLI device of kader.mawar2) registers a
// mother and her daughter born a year ago (`jangkau import`), records twelve monthly
// weighings with the length (`jangkau record weighing`, the last one without gain: T) and
// syncs. The tablet enrols as kader.mawar and syncs: the family arrives. From the child's
// profile "Grafik pertumbuhan" shows the BB/U chart with 12 points, the latest result in
// words (T, with a home visit as the next step), the table of weighings, and the PB/U tab.
// The doses given elsewhere come from the second device (`jangkau record immunisation`,
// copied from the KIA book with their days: HB0 at birth, BCG and OPV1 at 1 month, the
// 2-month doses, DPT-HB-Hib 1 again and an unnumbered "Polio" written the old way) and
// reach the tablet with "Sinkronkan"; the kader gives MR1 at today's posyandu day, ticking
// it on the attendance form where the card offers it. "Kartu imunisasi" then says each
// dose's state in words. Screenshots (both languages, landscape and portrait) go to
// ui/e2e/screenshots/child/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECOND_KADER } from './lib/server.mjs';
import {
  bodyOf,
  enrolCli,
  enrolTablet,
  exportRecords,
  findHousehold,
  idOf,
  openHousehold,
  personIds,
  scrollTo as scrollIn,
  setLanguage,
  shoot as shootIn,
  shotsDir,
  startStack,
  stopStack,
  syncTablet,
  toTop as toTopOf,
} from './lib/flows.mjs';

const SHOTS = shotsDir('child');
const MOTHER = 'Maria Fiktif Seran';
const CHILD = 'Agnes Fiktif Seran';
// Monthly weighings (kg) and lengths (cm) at 1 … 12 months: every gain reaches the KBM
// until the last month, which gains nothing (T).
const KG = [4.2, 5.2, 6.0, 6.6, 7.1, 7.5, 7.8, 8.1, 8.4, 8.7, 9.0, 9.0];
const CM = [53.0, 57.0, 60.0, 62.5, 64.5, 66.0, 67.5, 69.0, 70.3, 71.5, 72.7, 73.8];

let stack;
let app;
/** The second kader's CLI device. */
let cli;
let childId;

// ---- dates (the device zone is WITA, UTC+8) -------------------------------------------
const pad = (n) => String(n).padStart(2, '0');
const iso = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const dmy = (s) => s.split('-').reverse().join('/');

/** The file whose path element `id` holds is a real PDF. */
async function assertPdf(id) {
  const path = (await (await app.browser.$(`[data-testid="${id}"]`)).getProperty('textContent')).trim();
  assert.ok(existsSync(path), `${path} does not exist`);
  const pdf = readFileSync(path);
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.ok(pdf.length > 10_000, `the PDF is ${pdf.length} bytes`);
}
function addMonths(d, n) {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(d.getUTCDate(), last)));
}
const addDays = (d, n) => new Date(d.getTime() + n * 86_400_000);
const TODAY = new Date(iso(new Date(Date.now() + 8 * 3_600_000)) + 'T00:00:00Z');
// Born a year and about three weeks ago, on a day that leaves room for "+2 days" in a month.
let BIRTH = addDays(addMonths(TODAY, -12), -20);
if (BIRTH.getUTCDate() > 25) BIRTH = new Date(Date.UTC(BIRTH.getUTCFullYear(), BIRTH.getUTCMonth(), 20));
/** The day of the k-th monthly weighing (k months and 2 days old). */
const at = (k) => iso(addDays(addMonths(BIRTH, k), 2));

// ---- helpers -----------------------------------------------------------------------------
const shoot = (name) => shootIn(app, SHOTS, name);
const toTop = () => toTopOf(app);
const scrollTo = (id) => scrollIn(app, id);
/** Switches the language and comes back to the screen it was on. */
const language = (l) => setLanguage(app, l, { back: true });

/** Opens the child's profile from Keluarga, as the kader does. */
async function openChild() {
  await openHousehold(app, 'Agnes', MOTHER);
  const row = app.browser.$(`[data-testid="member-row"][data-id="${childId}"]`);
  await row.waitForDisplayed({ timeout: 15_000, timeoutMsg: `${CHILD} is not listed in the household` });
  await row.scrollIntoView({ block: 'center' });
  await row.click();
  await app.visible('screen-profile');
  assert.equal(await app.text('profile-name'), CHILD);
}

const countPoints = async () => (await app.browser.$$('[data-testid="growth-svg"] [data-testid^="growth-point-"]')).length;

describe('growth chart and immunisation card end to end', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('child', SHOTS);
    console.log(`# born ${iso(BIRTH)}, today ${iso(TODAY)}`);
  });

  after(async () => {
    await stopStack(stack, app);
  });

  it('a second device of the posyandu records a year of weighings and syncs them', async () => {
    cli = await enrolCli(stack, 'cli-kader2', { username: SECOND_KADER.username, password: SECOND_KADER.password, device: 'e2e kader 2 CLI' });
    const csv = join(stack.tmp, 'family.csv');
    writeFileSync(
      csv,
      [
        'household,head_name,dusun,rt,name,sex,birth_date,relation,mother',
        `1,${MOTHER},Dusun 1 Naitimu,04,${MOTHER},female,1994-03-02,head,`,
        `1,,,,${CHILD},female,${iso(BIRTH)},child,${MOTHER}`,
      ].join('\n') + '\n',
    );
    await cli(['import', csv]);
    const records = await exportRecords(cli);
    ({ child: childId } = personIds(records, { child: CHILD }));
    assert.ok(bodyOf(records.find((r) => idOf(r) === childId)).household, `${CHILD} has no household in the export`);
    for (let k = 1; k <= 12; k++) {
      await cli(['record', 'weighing', '--person', childId, '--kg', String(KG[k - 1]), '--height-cm', String(CM[k - 1]), '--position', 'lying', '--date', at(k)]);
    }
    await cli(['sync', '--quiet']);
  });

  it('the tablet receives them and the profile opens the growth chart', async () => {
    app = await stack.open('tablet');
    await enrolTablet(app, stack.server, { device: 'Tablet Posyandu Mawar (KMS)' });
    await syncTablet(app);
    await findHousehold(app, 'Agnes', MOTHER);
    assert.equal((await app.$$('household-row-head')).length, 1, 'more than one household found for Agnes');
    await app.click('household-row');
    await app.visible('screen-household');
    const row = app.browser.$(`[data-testid="member-row"][data-id="${childId}"]`);
    await row.waitForDisplayed({ timeout: 15_000, timeoutMsg: `${CHILD} is not listed in the household` });
    await row.click();
    await app.visible('screen-profile');
    assert.equal(await app.text('profile-name'), CHILD);
    await app.visible('profile-immunisation');
    await app.visible('profile-home-visit');
    await shoot('01-profile-id');
    await app.click('profile-growth');
    await app.visible('screen-growth');
  });

  it('draws the BB/U chart with 12 points and says the latest result in words', async () => {
    await app.visible('growth-svg');
    assert.equal(await (await app.$('growth-svg')).getAttribute('data-indicator'), 'weight_for_age');
    assert.equal(await countPoints(), 12);
    assert.equal(await (await app.$('growth-svg')).getAttribute('data-months'), '15');
    // The last weighing gained nothing: T, a home visit within 7 days.
    const findings = await app.text('growth-findings');
    console.log(`# findings: ${findings.replace(/\n/g, ' | ')}`);
    assert.match(findings, /T: berat badan tidak naik/);
    assert.match(await app.text('growth-next-action'), /Kunjungan rumah dalam 7 hari/);
    // The age the z-scores used, to the day (issue 16): 12 months and 2 days.
    assert.equal(await app.text('growth-latest-facts'), `${dmy(at(12))} · umur 12 bulan 2 hari · BB 9 kg · PB/TB 73,8 cm · KMS: T`);
    assert.equal(await (await app.$('growth-point-11')).getAttribute('data-tone'), 'watch');
    assert.equal(await (await app.$('growth-point-0')).getAttribute('data-kms'), 'B');
    assert.equal(await (await app.$('growth-point-5')).getAttribute('data-kms'), 'N');
    // The table: newest first, dd/mm/yyyy, the KMS result of each month.
    assert.equal(await app.text('growth-row-kms-11'), 'T');
    assert.equal(await app.text('growth-row-kms-1'), 'N');
    assert.equal(await app.text('growth-row-kms-0'), 'B');
    assert.match(await app.text('growth-row-11'), new RegExp(`^${dmy(at(12))}`));
    assert.equal((await app.browser.$$('[data-testid="growth-table"] tbody tr')).length, 12);
    await toTop();
    await shoot('02-growth-id');
    await scrollTo('growth-tab-wfa');
    await shoot('03-growth-chart-id');
    await scrollTo('growth-table');
    await app.screenshot(SHOTS, '04-growth-table-id-landscape');
    // The KMS to print: a real PDF in the exports folder, named on screen.
    await scrollTo('growth-pdf-make');
    await app.click('growth-pdf-make');
    assert.match(await app.waitText('growth-pdf-file', (t) => t.includes('.pdf'), 60_000), /^PDF kms-Agnes-Fiktif-Seran-\d{4}-\d{2}-\d{2}\.pdf tersimpan \(\d+ KB\)\.$/);
    await assertPdf('growth-pdf-path');
    // Desktop: "Simpan ke…" is offered beside the result (not pressed: a native dialog).
    assert.equal(await app.text('growth-pdf-save-as'), 'Simpan ke…');
  });

  it('switches to PB/U and speaks English', async () => {
    await app.click('growth-tab-lhfa');
    await app.browser.waitUntil(async () => (await (await app.$('growth-svg')).getAttribute('data-indicator')) === 'length_height_for_age', { timeout: 5000 });
    assert.equal(await countPoints(), 12);
    assert.match(await app.text('growth-chart-title'), /PB\/U/);
    await scrollTo('growth-tab-lhfa');
    await shoot('05-growth-lhfa-id');
    await app.click('growth-tab-wfa');
    await language('en');
    await app.visible('screen-growth');
    await app.waitText('growth-next-action', 'Next step:');
    assert.match(await app.text('growth-findings'), /T: weight did not go up enough/);
    assert.equal(await countPoints(), 12);
    await toTop();
    await shoot('06-growth-en');
    await scrollTo('growth-tab-wfa');
    await shoot('07-growth-chart-en');
    await language('id');
    await app.visible('screen-growth');
  });

  it('the doses given elsewhere come from the second device with "Sinkronkan"', async () => {
    // Copied from the KIA book on the second device, each on the day it was given.
    const given = async (date, vaccines) => {
      const out = await cli(['record', 'immunisation', '--person', childId, ...vaccines.flatMap((v) => ['--vaccine', v]), '--date', date]);
      assert.equal(out.split('\n').filter((l) => l.includes('\timmunisation\t')).length, vaccines.length, out);
    };
    await given(iso(BIRTH), ['HB0']);
    await given(at(1), ['BCG', 'OPV1']);
    await given(at(2), ['DPT-HB-Hib1', 'OPV2', 'PCV1', 'RV1']);
    await given(at(3), ['DPT-HB-Hib 1', 'Polio']);
    await cli(['sync', '--quiet']);
    await syncTablet(app);
  });

  it('the kader gives MR1 at today\'s posyandu day, offered by the card', async () => {
    await app.click('nav-posyandu');
    await app.visible('screen-posyandu-start');
    await app.click('start-open');
    await app.visible('screen-posyandu-day', 20_000);
    await app.click(`roster-${childId}`);
    await app.visible('screen-attendance');
    await app.waitText('att-name', CHILD);
    // The card offers what is due or late, not what was given elsewhere.
    const mr1 = await app.visible('att-dose-MR1', 20_000);
    const offered = await app.text('att-services');
    console.log(`# offered: ${offered.replace(/\n/g, ' | ')}`);
    assert.doesNotMatch(offered, /\bBCG\b/);
    assert.match(offered, /Campak-Rubela \(MR\) 1\s+Terlambat: berikan imunisasi kejar/);
    await mr1.scrollIntoView({ block: 'center' });
    await mr1.click();
    assert.equal(await mr1.isSelected(), true);
    await app.click('att-save');
    await app.visible('screen-posyandu-day', 20_000);
    await app.visible(`roster-done-${childId}`);
    assert.match(await app.text('flash'), /Tersimpan/);
  });

  it('the immunisation card shows every dose with its status', async () => {
    await openChild();
    await app.click('profile-immunisation');
    await app.visible('screen-immunisation');
    await app.visible('card-dose-HB0');
    // Each dose's state as the kader reads it on its row.
    const rows = await app.browser.$$('li[data-testid^="card-dose-"]');
    const statuses = {};
    for (const r of rows) {
      const dose = (await r.getAttribute('data-testid')).slice('card-dose-'.length);
      statuses[dose] = await app.text(`card-dose-${dose}-status`);
    }
    console.log(`# card: ${JSON.stringify(statuses)}`);
    assert.equal(Object.keys(statuses).length, 21);
    for (const d of ['HB0', 'BCG', 'OPV1', 'OPV2', 'DPT-HB-Hib1', 'PCV1', 'RV1', 'MR1']) assert.match(statuses[d], /^Sudah diberikan/, d);
    for (const d of ['OPV3', 'DPT-HB-Hib2', 'PCV2']) assert.equal(statuses[d], 'Terlambat: berikan imunisasi kejar', d);
    assert.equal(statuses.RV2, 'Tidak boleh diberikan lagi (lewat batas umur)');
    assert.equal(statuses['DPT-HB-Hib4'], 'Belum waktunya');
    assert.equal(statuses.MR2, 'Belum waktunya');
    assert.equal(await app.text('card-dose-HB0-dates'), `Diberikan ${dmy(iso(BIRTH))}`);
    assert.equal(await app.text('card-dose-BCG-dates'), `Diberikan ${dmy(at(1))}`);
    assert.equal(await app.text('card-dose-MR1-dates'), `Diberikan ${dmy(iso(TODAY))}`);
    assert.match(await app.text('card-dose-MR2-dates'), /^Jadwal \d{2}\/\d{2}\/\d{4}$/);
    assert.equal(await app.text('card-dose-DPT-HB-Hib1-again'), `Juga dicatat: ${dmy(at(3))} (DPT-HB-Hib 1)`);
    assert.match(await app.text('card-unmatched'), /Polio/);
    assert.match(await app.text('card-summary'), /terlambat \(kejar\)/);
    await scrollTo('card-pdf-make');
    await app.click('card-pdf-make');
    assert.match(await app.waitText('card-pdf-file', (t) => t.includes('.pdf'), 60_000), /^PDF imunisasi-Agnes-Fiktif-Seran-\d{4}-\d{2}-\d{2}\.pdf tersimpan \(\d+ KB\)\.$/);
    await assertPdf('card-pdf-path');
    await toTop();
    await shoot('08-card-id');
    await scrollTo('card-dose-MR1');
    await app.screenshot(SHOTS, '09-card-later-id-landscape');
    await language('en');
    await app.visible('screen-immunisation');
    await app.waitText('card-dose-OPV3-status', 'Overdue: give as catch-up');
    await toTop();
    await shoot('10-card-en');
    await language('id');
  });
});
