// End to end: a posyandu day with five children, through the real app and a real server.
//
// A second kader's `jangkau` CLI device registers three families (`jangkau import`) with
// six under-fives and records the earlier weighings of the last two months (`jangkau record
// weighing --date`), then syncs. The tablet (kader.mawar) syncs and receives them, opens
// the posyandu day for today, finds children with the roster search, and records five
// children and one woman:
//   Petrus   10 months, 8,0 kg last month → 8,4 kg: N (first typed as 84: "Yakin?", "Ukur ulang")
//   Ana      14 months, 9,0 kg last month → 9,1 kg: T (first 45: "Ya, simpan" → refused by Rust,
//            the field says why and keeps 45)
//   Goreti   18 months, 10,0 and 10,05 kg → 10,1 kg: T twice, 2T
//   Fransiska 6 months, first weighing: B, with vitamin A blue and a due dose
//   Kornelis 20 months, weighed two months ago only → 7,2 kg: O and BGM, referred to the puskesmas
//   Maria    pregnant (HPHT four months ago, recorded with `jangkau record pregnancy`), LiLA 22 cm: KEK
// Closing the day shows the SKDN counted by Rust; the under-fives not weighed this month
// open their profile. Screenshots of every screen go to ui/e2e/screenshots/posyandu/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECOND_KADER } from './lib/server.mjs';
import {
  openHousehold,
  enrolCli,
  enrolTablet,
  exportRecords,
  personIds,
  scrollTo as scrollIn,
  setLanguage,
  shoot as shootIn,
  shotsDir,
  startStack,
  stopStack,
  syncTablet,
  ZONE,
} from './lib/flows.mjs';

const SHOTS = shotsDir('posyandu');
/** English a kader must never read on an Indonesian screen (Rust's sentences). */
const ENGLISH = /not plausible|implausible|is before|must be|weight \d|\bdose\b/i;
/** The vaccine names of the national schedule, by dose id (what Riwayat must show). */
const DOSE_NAMES = Object.fromEntries(
  JSON.parse(readFileSync(new URL('../../health-rules/data/immunisation/nasional-2024.json', import.meta.url), 'utf8')).doses.map((d) => [d.id, d.name]),
);
let doseGiven = null;

// ---- dates relative to today in the device's zone ----
const iso = (y, m, d) => {
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.toISOString().slice(0, 10);
};
const TODAY = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
const [TY, TM] = TODAY.split('-').map(Number);
/** The first day of the month `n` months before this one (a birth date of n months today). */
const monthsAgo = (n, day = 1) => iso(TY, TM - n, day);
const dmy = (isoDate) => isoDate.split('-').reverse().join('/');

const CHILDREN = {
  petrus: { name: 'Petrus Fiktif Bria', sex: 'male', birth: monthsAgo(10), history: [[monthsAgo(1, 10), 8.0]] },
  yakobus: { name: 'Yakobus Fiktif Bria', sex: 'male', birth: monthsAgo(30), history: [[monthsAgo(1, 10), 12.0]] },
  ana: { name: 'Ana Fiktif Tefa', sex: 'female', birth: monthsAgo(14), history: [[monthsAgo(1, 10), 9.0]] },
  goreti: { name: 'Maria Goreti Fiktif Tefa', sex: 'female', birth: monthsAgo(18), history: [[monthsAgo(2, 10), 10.0], [monthsAgo(1, 10), 10.05]] },
  fransiska: { name: 'Fransiska Fiktif Seran', sex: 'female', birth: monthsAgo(6), history: [] },
  kornelis: { name: 'Kornelis Fiktif Seran', sex: 'male', birth: monthsAgo(20), history: [[monthsAgo(2, 10), 7.0]] },
};
const WOMAN = 'Maria Fiktif Bria';
const CSV = [
  'household,head_name,dusun,rt,name,sex,birth_date,relation',
  `1,Yohanes Fiktif Bria,Dusun 1 Naitimu,03,Yohanes Fiktif Bria,male,1988-04-12,head`,
  `1,,,,${WOMAN},female,${iso(TY - 31, 3, 14)},spouse`,
  `1,,,,${CHILDREN.petrus.name},male,${CHILDREN.petrus.birth},child`,
  `1,,,,${CHILDREN.yakobus.name},male,${CHILDREN.yakobus.birth},child`,
  `2,Agustinus Fiktif Tefa,Dusun 2 Naitimu,05,Agustinus Fiktif Tefa,male,1990-09-01,head`,
  `2,,,,${CHILDREN.ana.name},female,${CHILDREN.ana.birth},child`,
  `2,,,,${CHILDREN.goreti.name},female,${CHILDREN.goreti.birth},child`,
  `3,Dominggus Fiktif Seran,Dusun 2 Naitimu,06,Dominggus Fiktif Seran,male,1985-01-20,head`,
  `3,,,,${CHILDREN.fransiska.name},female,${CHILDREN.fransiska.birth},child`,
  `3,,,,${CHILDREN.kornelis.name},male,${CHILDREN.kornelis.birth},child`,
].join('\n');

let stack;
let app;
/** Person ids by key (from the CLI device's export). */
let ids = {};

const shoot = (name, both = true) => shootIn(app, SHOTS, name, both);
const scrollTo = (testid, block = 'start') => scrollIn(app, testid, block);

/** Opens a person's attendance from the roster. */
async function attend(key) {
  const id = ids[key];
  await app.visible('screen-posyandu-day');
  await app.click(`roster-${id}`);
  await app.visible('screen-attendance');
  await app.waitText('att-name', key === 'woman' ? WOMAN : CHILDREN[key].name);
}

/** Types the weight, presses Periksa and waits for Rust's result. */
async function weigh(kg) {
  await app.type('att-weight', kg);
  await app.click('att-check');
  await app.visible('check-result', 20_000);
}

async function kms() {
  const el = await app.visible('check-kms');
  return { result: await el.getAttribute('data-result'), twoT: await el.getAttribute('data-two-t'), bgm: await el.getAttribute('data-bgm') };
}

async function saveAndBack(key) {
  await app.click('att-save');
  await app.visible('screen-posyandu-day', 20_000);
  await app.visible(`roster-done-${ids[key]}`);
  assert.match(await app.text('flash'), /Tersimpan/);
}

describe('posyandu day end to end', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('posyandu', SHOTS);
    console.log(`# today ${TODAY}`);
  });

  after(async () => {
    await stopStack(stack, app);
  });

  it('a second kader registers three families and their earlier weighings with the CLI, and syncs', async () => {
    const cli = await enrolCli(stack, 'cli-kader2', { username: SECOND_KADER.username, password: SECOND_KADER.password, device: 'e2e kader 2 CLI' });
    const csv = join(stack.tmp, 'families.csv');
    writeFileSync(csv, CSV);
    await cli(['import', csv]);
    const names = Object.fromEntries(Object.entries(CHILDREN).map(([key, c]) => [key, c.name]));
    ids = personIds(await exportRecords(cli), { ...names, woman: WOMAN });
    for (const [key, c] of Object.entries(CHILDREN)) {
      for (const [date, kg] of c.history) {
        await cli(['record', 'weighing', '--person', ids[key], '--kg', String(kg), '--date', date]);
      }
    }
    // Maria is four months pregnant.
    await cli(['record', 'pregnancy', '--person', ids.woman, '--hpht', monthsAgo(4, 5), '--gravida', '2', '--para', '1']);
    await cli(['sync', '--quiet']);
  });

  it('the tablet enrols and receives them', async () => {
    app = await stack.open('tablet');
    await enrolTablet(app, stack.server, { device: 'Tablet Posyandu Mawar (posyandu)' });
    await syncTablet(app);
  });

  it('opens the posyandu day for today (the kader\'s posyandu preselected)', async () => {
    await app.click('nav-posyandu');
    await app.visible('screen-posyandu-start');
    // The name when the tablet has the place names, else the code (Rust's choice).
    const pos = await app.text('start-posyandu-name');
    console.log(`# start screen: ${pos}`);
    assert.match(pos, /Posyandu Mawar|53\.04\.05\.2001\.P01/);
    assert.equal(await app.value('start-date'), dmy(TODAY));
    await shoot('01-start-id');
    await app.click('start-open');
    await app.visible('screen-posyandu-day', 20_000);
    await app.visible(`roster-${ids.petrus}`);
    await shoot('02-day-id');
    // Every under-five is expected today (a due task or the monthly weighing).
    const expected = await app.text('day-expected');
    for (const key of ['petrus', 'ana', 'goreti', 'fransiska', 'kornelis']) assert.ok(expected.includes(CHILDREN[key].name), `${key} is not expected today`);
    // Every family was registered today: nobody "missed the posyandu" (issue 16, item 5:
    // Fransiska, never weighed, was shown as "Tidak datang ke posyandu: kunjungan rumah").
    const day = await app.text('screen-posyandu-day');
    assert.doesNotMatch(day, /Tidak datang ke posyandu/);
    // The name search filters the roster.
    await app.type('day-search', 'kornelis');
    await app.browser.waitUntil(async () => (await app.$$('roster-name')).length === 1, { timeout: 5000, timeoutMsg: 'the search did not filter the roster' });
    assert.equal(await app.text('roster-name'), CHILDREN.kornelis.name);
    await app.screenshot(SHOTS, '02-day-search-id-landscape');
    await app.type('day-search', '');
  });

  it('Petrus: 84 asks "Yakin?", "Ukur ulang" keeps the value, 8,4 kg is N', async () => {
    await attend('petrus');
    assert.equal(await app.$('att-position-lying').getAttribute('aria-checked'), 'true');
    await app.type('att-weight', '84');
    await app.type('att-length_height', '71,5');
    await scrollTo('screen-attendance');
    await shoot('03-attendance-form-id');
    await app.click('att-check');
    await app.visible('att-confirm', 20_000);
    assert.match(await app.text('att-confirm'), /Yakin\?/);
    assert.match(await app.text('att-confirm'), /Berat badan: 84/);
    // An impossible value (issue 16, item 4): only the check in words, no category, no advice.
    assert.equal(
      await app.text('att-impossible-weight'),
      'Berat badan 84: tidak mungkin untuk umur ini (kisaran 2–22). Periksa angka yang diketik dan ukur ulang.',
    );
    const result = await app.text('check-result');
    console.log(`# 84 kg: ${result.replace(/\n/g, ' | ')}`);
    assert.doesNotMatch(result, /BB\/U|Risiko berat badan lebih|Obesitas|IMT\/U/);
    assert.ok(!(await app.$('check-z-wfa').isExisting()), 'a BB/U z-score for 84 kg');
    assert.ok(!(await app.$('check-kms').isExisting()), 'a KMS result for 84 kg');
    assert.doesNotMatch(await app.text('screen-attendance'), ENGLISH);
    await scrollTo('att-confirm', 'center');
    await shoot('03-attendance-confirm-id');
    await app.click('att-remeasure');
    await app.gone('att-confirm');
    assert.equal(await app.value('att-weight'), '84');
    await weigh('8,4');
    assert.deepEqual(await kms(), { result: 'N', twoT: 'false', bgm: 'false' });
    await saveAndBack('petrus');
  });

  it('Ana: 45 kg is refused by Rust at the field and kept; 9,1 kg is T', async () => {
    await attend('ana');
    await app.type('att-weight', '45');
    await app.type('att-counselling-notes', 'Makan 3 kali sehari dengan lauk');
    await app.click('att-save');
    // Rust finds 45 kg very unusual at 14 months: "Ya, simpan" sends it anyway.
    await app.visible('att-confirm', 20_000);
    await app.click('att-confirm-yes');
    const err = await app.waitText('att-weight-error', (s) => s.length > 0, 20_000);
    console.log(`# refused: ${err}`);
    // Rust's refusal as a key and params, in the UI's words (issue 16: no English after
    // "Ya, simpan").
    assert.equal(err, 'Berat badan 45 kg tidak masuk akal untuk umur 14 bulan. Periksa lagi.');
    assert.doesNotMatch(await app.text('screen-attendance'), ENGLISH);
    assert.equal(await app.value('att-weight'), '45');
    assert.equal(await app.value('att-counselling-notes'), 'Makan 3 kali sehari dengan lauk');
    await scrollTo('att-weight', 'center');
    await shoot('04-attendance-refused-id', false);
    await weigh('9,1');
    assert.deepEqual(await kms(), { result: 'T', twoT: 'false', bgm: 'false' });
    assert.match(await app.text('check-findings'), /T: berat badan tidak naik/);
    await scrollTo('check-result');
    await shoot('05-attendance-t-id');
    await saveAndBack('ana');
  });

  it('Goreti: 10,1 kg after two months without gain is 2T', async () => {
    await attend('goreti');
    await weigh('10,1');
    assert.deepEqual(await kms(), { result: 'T', twoT: 'true', bgm: 'false' });
    assert.match(await app.text('check-findings'), /2T/);
    await app.visible('check-next');
    await scrollTo('check-result');
    await shoot('06-attendance-2t-id');
    await saveAndBack('goreti');
  });

  it('Fransiska: first weighing is B, with vitamin A and a due dose', async () => {
    await attend('fransiska');
    await weigh('7,5');
    assert.equal((await kms()).result, 'B');
    await app.click('att-vita-vitamin_a_blue');
    // The first dose the screen offers.
    const offered = await app.browser.$('[data-testid^="att-dose-"]:not([data-testid^="att-dose-closed"])');
    const dose = (await offered.isExisting()) ? await offered.getAttribute('data-testid') : null;
    assert.ok(dose, 'no dose is offered to a 6-month-old');
    console.log(`# dose given: ${dose}`);
    doseGiven = dose.replace('att-dose-', '');
    await app.click(dose);
    await scrollTo('att-services');
    await shoot('07-attendance-services-id', false);
    await saveAndBack('fransiska');
  });

  it('Kornelis: 7,2 kg is O and below the red line (BGM), referred to the puskesmas', async () => {
    await attend('kornelis');
    await weigh('7,2');
    assert.deepEqual(await kms(), { result: 'O', twoT: 'false', bgm: 'true' });
    await app.visible('check-kms-bgm');
    await scrollTo('check-result');
    await shoot('08-attendance-bgm-id');
    await app.click('att-refer');
    await app.type('att-referral-reason', 'BGM: berat badan di bawah garis merah');
    await app.click('att-referral-to-puskesmas');
    await saveAndBack('kornelis');
  });

  it('Maria, pregnant: LiLA 22 cm is shown as KEK with what to do', async () => {
    await app.visible('screen-posyandu-day');
    const row = await app.text(`roster-${ids.woman}`);
    assert.match(row, /Ibu hamil|Hamil/i, `the roster shows her pregnancy: ${row}`);
    await attend('woman');
    await app.type('att-weight', '48,5');
    // LiLA 225 cm (meant 22,5): impossible, never "LiLA normal" (issue 16, item 4).
    await app.type('att-muac', '225');
    await app.click('att-check');
    await app.visible('att-confirm', 20_000);
    assert.match(await app.text('att-impossible-muac'), /^LiLA 225: tidak mungkin untuk umur ini/);
    assert.doesNotMatch(await app.text('check-result'), /LiLA normal|tidak KEK/);
    await app.click('att-remeasure');
    await app.type('att-muac', '22');
    await app.type('att-bp_systolic', '120');
    await app.type('att-bp_diastolic', '80');
    await app.click('att-check');
    await app.visible('check-result', 20_000);
    const findings = await app.text('check-findings');
    console.log(`# woman's findings: ${findings.replace(/\n/g, ' | ')}`);
    assert.match(findings, /KEK: LiLA kurang dari 23,5 cm/);
    // The pregnant woman's action, not the non-pregnant "risk" wording.
    assert.match(findings, /ibu hamil KEK/);
    assert.doesNotMatch(findings, /Risiko KEK/);
    await scrollTo('check-result');
    await shoot('09-attendance-kek-id');
    // Td (issue 16, item 7): she has no Td record, so the form asks her status T first.
    await app.visible('att-td');
    await app.waitText('att-td-status', 'Status imunisasi Td: T0 · dosis berikutnya T1 hari ini');
    // She says T2 (no Buku KIA with her): T3 is offered today.
    await app.click('att-td-earlier-2');
    await app.click('att-td-source-told');
    await app.waitText('att-td-status', (s) => s === 'Status imunisasi Td: T2 · dosis berikutnya T3 hari ini');
    assert.equal(await app.text('att-td-source-text'), 'menurut keterangan ibu');
    assert.match(await app.text('att-td'), /Berikan Td T3 hari ini/);
    await app.click('att-td-give');
    await scrollTo('att-td');
    await shoot('09-attendance-td-id', false);
    await saveAndBack('woman');
  });

  it('closing the day shows the SKDN counted by Rust', async () => {
    await app.click('day-close');
    await app.visible('screen-posyandu-summary');
    await app.visible('skdn-s');
    const n = async (k) => app.text(`skdn-${k}`);
    const got = {};
    for (const k of ['s', 'k', 'd', 'n', 't', 'o', 'b', 'two_t', 'bgm']) got[k] = await n(k);
    const ratios = { k_s: await app.text('ratio-k_s'), d_s: await app.text('ratio-d_s'), n_d: await app.text('ratio-n_d') };
    console.log(`# SKDN ${JSON.stringify(got)} ${JSON.stringify(ratios)}`);
    // S: our six under-fives and the demo child (Anak Contoh Fiktif); D: the five weighed today.
    assert.deepEqual(got, { s: '7', k: '7', d: '5', n: '1', t: '2', o: '1', b: '1', two_t: '1', bgm: '1' });
    // One format for a percentage, here and in Laporan (issue 16: "50%" vs "50,0%").
    assert.deepEqual(ratios, { k_s: '100,0%', d_s: '71,4%', n_d: '20,0%' });
    assert.equal(await app.text('attended-balita'), '5');
    assert.equal(await app.text('attended-adult'), '1');
    assert.equal(await app.text('summary-vitamin-a'), '1');
    // Vitamin A is one service: not again as "Vitamin A biru 1" (issue 16).
    assert.ok(!(await app.$('summary-supplement-vitamin_a_blue').isExisting()), 'vitamin A counted twice');
    assert.doesNotMatch(await app.text('screen-posyandu-summary'), /Vitamin A biru/);
    // Fransiska's dose and Maria's Td T3; her answer "T2" is history, not a dose given today.
    assert.equal(await app.text('summary-immunisations'), '2');
    assert.equal(await app.text('summary-referrals'), '1');
    await shoot('10-summary-id');
    // The under-fives not weighed this month: Yakobus and the demo child; each opens the profile.
    await app.visible(`unweighed-${ids.yakobus}`);
    await scrollTo(`unweighed-${ids.yakobus}`, 'center');
    await app.screenshot(SHOTS, '10-summary-not-weighed-id-landscape');
    await app.click(`unweighed-${ids.yakobus}`);
    await app.visible('screen-profile');
    assert.equal(await app.text('profile-name'), CHILDREN.yakobus.name);
  });

  it('the month\'s report (Laporan) agrees with the day', async () => {
    await app.click('nav-reports');
    await app.visible('screen-reports');
    await app.visible('skdn-s', 20_000);
    const got = {};
    for (const k of ['s', 'k', 'd', 'n', 't', 'o', 'b', 'two_t', 'bgm']) got[k] = await app.text(`skdn-${k}`);
    console.log(`# Laporan SKDN ${JSON.stringify(got)}`);
    // The earlier weighings are of last months: this month's D, N, T, O, B are today's.
    assert.deepEqual(got, { s: '7', k: '7', d: '5', n: '1', t: '2', o: '1', b: '1', two_t: '1', bgm: '1' });
    // Served at the posyandu day: the five children and Maria, who is pregnant with KEK.
    assert.equal(await app.text('act-posyandu_visits'), '6');
    assert.equal(await app.text('act-pregnant_women'), '1');
    assert.equal(await app.text('act-pregnant_kek'), '1');
    // The same percentage format as the day's summary.
    assert.equal(await app.text('ratio-d_s'), '71,4%');
    await shoot('10-report-of-the-day-id');
  });

  it('Riwayat: decimal commas, vaccine names, the kind of contact; a wife is "Istri"', async () => {
    await openHousehold(app, 'Yohanes', 'Yohanes Fiktif Bria');
    const members = await app.text('household-members');
    // Maria is the head's wife: "Istri", not "Istri / Suami" (issue 16).
    assert.match(members, new RegExp(`${WOMAN}\\s+Istri ·`));
    assert.doesNotMatch(members, /Istri \/ Suami/);
    // The bidan's pregnancy card (issue 16, item 7): gestational age, HPL, trimester, ANC
    // contacts done and due, KEK and anaemia.
    await app.browser.$(`[data-testid="member-row"][data-id="${ids.woman}"]`).click();
    await app.visible('pregnancy-ongoing');
    const hpht = monthsAgo(4, 5);
    const [hy, hm, hd] = hpht.split('-').map(Number);
    const hpl = new Date(Date.UTC(hy, hm - 1 + 9, hd + 7)); // Naegele: + 7 days, + 9 months
    const gaDays = Math.round((Date.parse(`${TODAY}T00:00:00Z`) - Date.parse(`${hpht}T00:00:00Z`)) / 86_400_000);
    assert.equal(await app.text('pregnancy-ga'), `${Math.floor(gaDays / 7)} minggu ${gaDays % 7} hari`);
    assert.equal(await app.text('pregnancy-trimester'), gaDays >= 169 ? 'Trimester 3' : gaDays >= 85 ? 'Trimester 2' : 'Trimester 1');
    assert.equal(await app.text('pregnancy-hpl'), dmy(hpl.toISOString().slice(0, 10)));
    assert.match(await app.text('pregnancy-kek'), /^KEK: LiLA 22 cm/);
    assert.equal(await app.text('pregnancy-anaemia'), 'Belum diukur');
    assert.match(await app.text('pregnancy-anc-count'), /dari minimal 6 kali/);
    assert.equal((await app.$$('pregnancy-anc')).length, 1);
    // Her Td status after the day: T3 given today, so T4 not before a year from today.
    const [ny, nm, nd] = TODAY.split('-').map(Number);
    const lastDay = new Date(Date.UTC(ny + 1, nm, 0)).getUTCDate();
    const t4 = iso(ny + 1, nm, Math.min(nd, lastDay));
    const td = await app.waitText('pregnancy-td', 'Status imunisasi Td: T3');
    assert.match(td, new RegExp(`^Status imunisasi Td: T3 · dosis berikutnya T4 mulai ${dmy(t4)}`));
    assert.match(td, new RegExp(`dosis terakhir ${dmy(TODAY)}`));
    await shoot('10-pregnancy-card-id', false);
    await openHousehold(app, 'Yohanes', 'Yohanes Fiktif Bria');
    await app.browser.$(`[data-testid="member-row"][data-id="${ids.petrus}"]`).click();
    await app.visible('screen-profile');
    await app.visible('timeline');
    const petrus = (await app.text('timeline')).split('\n');
    console.log(`# Riwayat Petrus: ${petrus.join(' | ')}`);
    // 8,4 kg with the decimal comma (it read "8.4 kg", taken for 84), and a posyandu contact.
    assert.ok(petrus.some((l) => /Berat badan: 8,4 kg/.test(l)), 'no "Berat badan: 8,4 kg"');
    assert.ok(petrus.some((l) => /Posyandu/.test(l)), 'the contact is not named "Posyandu"');
    assert.ok(!petrus.some((l) => /Berat badan: \d+\.\d/.test(l)), 'a dot decimal in Riwayat');
    await shoot('10-riwayat-petrus-id', false);
    await openHousehold(app, 'Dominggus', 'Dominggus Fiktif Seran');
    await app.browser.$(`[data-testid="member-row"][data-id="${ids.fransiska}"]`).click();
    await app.visible('timeline');
    const fransiska = await app.text('timeline');
    console.log(`# Riwayat Fransiska: ${fransiska.replace(/\n/g, ' | ')}`);
    assert.ok(doseGiven && DOSE_NAMES[doseGiven], `unknown dose ${doseGiven}`);
    assert.match(fransiska, new RegExp(`Imunisasi ${DOSE_NAMES[doseGiven].replace(/[()]/g, '\\$&')}`));
  });

  it('in English, in both orientations', async () => {
    await setLanguage(app, 'en');
    await app.click('nav-posyandu');
    await app.visible('screen-posyandu-start');
    await app.visible(`start-sessions`);
    await shoot('11-start-en');
    // Opening the same day again resumes it: the roster keeps the done marks.
    await app.click('start-open');
    await app.visible('screen-posyandu-day', 20_000);
    await app.visible(`roster-done-${ids.petrus}`);
    await shoot('12-day-en');
    await attend('ana');
    assert.match(await app.text('att-already'), /already recorded/);
    await weigh('9,1');
    await scrollTo('screen-attendance');
    await shoot('13-attendance-form-en');
    assert.match(await app.text('check-findings'), /T: weight did not go up enough/);
    await scrollTo('check-result');
    await shoot('13-attendance-result-en');
    await app.click('att-cancel');
    await app.visible('screen-posyandu-day');
    await app.click('day-close');
    await app.visible('skdn-s');
    assert.equal(await app.text('ratio-d_s'), '71.4%');
    await shoot('14-summary-en');
    await setLanguage(app, 'id');
  });
});
