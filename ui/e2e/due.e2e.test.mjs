// End to end: the due list and the reports of the real app, against a real district server.
//
// A second device of Posyandu Mawar (a `jangkau` CLI device of kader.mawar2) registers a
// family with a baby of 7 months and a child of 3 years; the tablet enrols and syncs: the
// baby's overdue vaccines are on Jadwal and open the immunisation card; the month's report
// has no child weighed. The CLI device then records the posyandu day's weighings of both
// children (`jangkau record weighing`) and syncs; after the tablet syncs, the report of the
// month shows D = 2 (both first weighings: B = 2) and "Ekspor CSV" writes a file whose text
// is the one shown, with the same numbers (`;`, the posyandu's name, the decimal comma);
// "Buat PDF untuk dicetak" writes the printable report. Screenshots go to ui/e2e/screenshots/due/.
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
  idOf,
  personIds,
  setLanguage as setLanguageOf,
  shoot,
  shotsDir,
  startStack,
  stopStack,
  syncTablet,
  toTop as toTopOf,
  ZONE,
} from './lib/flows.mjs';

const SHOTS = shotsDir('due');
const POSYANDU = '53.04.05.2001.P01';

/** Today in the device zone, as YYYY-MM-DD. */
function todayIn(zone) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(new Date())
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}`;
}

/** `date` minus `months` months (day clamped to the month's length), as YYYY-MM-DD. */
function monthsBefore(date, months, extraDays = 0) {
  const [y, m, d] = date.split('-').map(Number);
  const total = y * 12 + (m - 1) - months;
  const yy = Math.floor(total / 12);
  const mm = (total % 12) + 1;
  const last = new Date(Date.UTC(yy, mm, 0)).getUTCDate();
  const t = new Date(Date.UTC(yy, mm - 1, Math.min(d, last)) - extraDays * 86_400_000);
  return t.toISOString().slice(0, 10);
}

const TODAY = todayIn(ZONE);
const MONTH = TODAY.slice(0, 7);
const FAMILY = {
  head: 'Agustinus Fiktif Luan',
  dusun: 'Dusun 2 Fatubesi',
  rt: '004',
  mother: { name: 'Yuliana Fiktif Hoar', sex: 'female', birth: '1996-04-18' },
  // 7 months and 10 days old: BCG, Polio, DPT-HB-Hib 1 and PCV 1 are overdue, none given.
  baby: { name: 'Klara Fiktif Luan', sex: 'female', birth: monthsBefore(TODAY, 7, 10), kg: 7.1 },
  child: { name: 'Bonifasius Fiktif Luan', sex: 'male', birth: monthsBefore(TODAY, 36, 5), kg: 13.4 },
};

let stack;
let app;
/** The CLI device of the second kader. */
let cli;
let ids = {};

const toTop = () => toTopOf(app);
const shotBoth = (name) => shoot(app, SHOTS, name);
const setLanguage = (l) => setLanguageOf(app, l);

async function openReports() {
  await app.click('nav-reports');
  await app.visible('screen-reports');
  await app.visible('skdn', 30_000);
}

/** The text of the part `testid` of a row, or '' when the row has none. */
async function partOf(row, testid) {
  const el = row.$(`[data-testid="${testid}"]`);
  return (await el.isExisting()) ? el.getText() : '';
}

/** The due list as the kader reads it: each row's name, reason (Rust's words and the
 *  dose), due date, days late and place, with the row to tap. */
async function dueRows() {
  const rows = [];
  for (const el of await app.$$('due-row')) {
    rows.push({
      el,
      name: await partOf(el, 'due-row-name'),
      reason: await partOf(el, 'due-row-reason'),
      detail: await partOf(el, 'due-row-detail'),
      due: await partOf(el, 'due-row-due'),
      late: await partOf(el, 'due-row-late'),
      place: await partOf(el, 'due-row-place'),
    });
  }
  return rows;
}

/** Where a file went, as the kader reads it: shown only on request, so a tap on the
 *  question above it ("Di mana filenya?") opens it first. */
async function pathOf(testid) {
  const el = app.browser.$(`[data-testid="${testid}"]`);
  if (!(await el.isDisplayed())) {
    const ask = app.browser.$(`//*[@data-testid="${testid}"]/ancestor::details[1]/summary`);
    await ask.scrollIntoView({ block: 'center' });
    await ask.click();
  }
  return (await app.visible(testid)).getText();
}

/** The rows of the person named `name`. */
const rowsOf = async (name) => (await dueRows()).filter((r) => r.name === name);
/** A late vaccine, in Rust's words. */
const OVERDUE = 'Imunisasi terlambat: berikan imunisasi kejar';

describe('Jangkau due list and reports end to end', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('due', SHOTS);
    console.log(`# today ${TODAY}`);
  });

  after(async () => {
    await stopStack(stack, app);
  });

  it('a second device of the posyandu registers a family and syncs it', async () => {
    cli = await enrolCli(stack, 'cli-kader2', { username: SECOND_KADER.username, password: SECOND_KADER.password, device: 'e2e kader 2 CLI' });
    const csv = [
      'household,posyandu,head_name,dusun,rt,name,sex,birth_date,relation,mother',
      `1,${POSYANDU},${FAMILY.head},${FAMILY.dusun},${FAMILY.rt},${FAMILY.head},male,1990-02-11,head,`,
      `1,,,,,${FAMILY.mother.name},female,${FAMILY.mother.birth},spouse,`,
      `1,,,,,${FAMILY.baby.name},female,${FAMILY.baby.birth},child,${FAMILY.mother.name}`,
      `1,,,,,${FAMILY.child.name},male,${FAMILY.child.birth},child,${FAMILY.mother.name}`,
    ].join('\n');
    const file = join(stack.tmp, 'family.csv');
    writeFileSync(file, `${csv}\n`);
    await cli(['import', file]);
    await cli(['sync', '--quiet']);
    const records = await exportRecords(cli);
    ids = personIds(records, { baby: FAMILY.baby.name, child: FAMILY.child.name });
    const household = records.find((x) => x.kind === 'household' && bodyOf(x).head_name === FAMILY.head);
    assert.ok(household, `the household of ${FAMILY.head} is not in the export`);
    ids.household = idOf(household);
  });

  it('the tablet enrols and receives the family', async () => {
    app = await stack.open('tablet-a');
    await enrolTablet(app, stack.server, { device: 'Tablet Posyandu Mawar 1' });
    await syncTablet(app);
    // Beranda: the baby's tasks, each opening its form.
    await app.visible(`task-lines-${ids.baby}`, 30_000);
    await app.visible('home-posyandu-today');
    await toTop();
    await shotBoth('01-home-id');
  });

  it('Jadwal lists the baby’s overdue vaccines and opens the immunisation card', async () => {
    await app.click('nav-due');
    await app.visible('screen-due');
    await app.visible('due-row', 30_000);
    await toTop();
    await shotBoth('02-due-id');
    await app.click('due-group-vaccines');
    await app.browser.waitUntil(async () => (await rowsOf(FAMILY.baby.name)).length > 0, { timeout: 15_000, timeoutMsg: 'no vaccine rows for the baby' });
    const rows = await rowsOf(FAMILY.baby.name);
    console.log(`# baby's vaccine rows: ${rows.map((r) => r.reason).join(' | ')}`);
    const overdue = rows.filter((r) => r.reason.startsWith(OVERDUE));
    const doses = overdue.map((r) => r.detail);
    for (const d of ['BCG', 'DPT-HB-Hib 1', 'PCV 1']) assert.ok(doses.includes(d), `${d} not overdue in ${JSON.stringify(doses)}`);
    for (const r of overdue) {
      assert.equal(r.reason, `${OVERDUE}: ${r.detail}`);
      assert.match(r.due, /^\d{2}\/\d{2}\/\d{4}$/);
      // Days up to 60, then months or years (issue 16: "887 hari terlambat").
      assert.match(r.late, /^\d+ (hari|bulan|tahun) terlambat$/);
      const days = /^(\d+) hari/.exec(r.late);
      if (days) assert.ok(Number(days[1]) <= 60, r.late);
    }
    // Every row of the vaccines chip is a vaccine.
    const reasons = (await dueRows()).map((r) => r.reason);
    assert.ok(reasons.length > 0 && reasons.every((k) => k.startsWith('Imunisasi')), JSON.stringify(reasons));
    // Narrowed to the family's dusun and RT.
    // The dusun picked from the list, as a tap on its option does.
    const dusunSelect = await app.visible('due-dusun');
    await dusunSelect.click();
    await dusunSelect.selectByVisibleText(FAMILY.dusun);
    await app.type('due-rt', '4');
    await app.browser.waitUntil(
      async () => {
        const places = (await dueRows()).map((r) => r.place);
        return places.length > 0 && places.every((p) => p.includes(FAMILY.dusun) && p.includes(`RT ${FAMILY.rt}`));
      },
      { timeout: 15_000, timeoutMsg: 'the list was not narrowed to the dusun and RT' },
    );
    // A tap outside the field closes the keyboard.
    await (await app.browser.$('main.content h1')).click();
    await toTop();
    await shotBoth('03-due-vaccines-dusun-id');
    await setLanguage('en');
    await app.click('nav-due');
    await app.visible('due-row', 30_000);
    // The first row is years late: said in years, not "887 days late" (issue 16).
    assert.match(await app.text('due-row-late'), /^\d+ (days|months|years) late$/);
    await toTop();
    await shotBoth('03-due-vaccines-dusun-en');
    await setLanguage('id');
    await app.click('nav-due');
    await app.visible('due-row', 30_000);
    const bcg = (await rowsOf(FAMILY.baby.name)).find((r) => r.reason === `${OVERDUE}: BCG`);
    assert.ok(bcg, 'no late BCG row for the baby');
    await bcg.el.scrollIntoView({ block: 'center' });
    await bcg.el.click();
    // The baby's card opens, with the BCG the row spoke of as late.
    await app.visible('screen-immunisation', 20_000);
    await app.waitText('card-child', FAMILY.baby.name, 20_000);
    assert.equal(await app.text('card-dose-BCG-status'), 'Terlambat: berikan imunisasi kejar');
    await app.screenshot(SHOTS, '04-due-opened-immunisation-id-landscape');
  });

  it('the report of the month before the posyandu day has no child weighed', async () => {
    await openReports();
    assert.equal(await app.value('report-month'), MONTH);
    await app.waitText('skdn-d', '0');
    await app.screenshot(SHOTS, '05-report-before-id-landscape');
  });

  it('after the posyandu day on the second device, the report and the CSV show the weighings', async () => {
    for (const k of ['baby', 'child']) {
      await cli(['record', 'weighing', '--person', ids[k], '--kg', String(FAMILY[k].kg), '--date', TODAY]);
    }
    await cli(['sync', '--quiet']);
    // The tablet syncs until the weighings are in (a run may already have been under way).
    let d = '';
    for (let attempt = 1; attempt <= 5 && d !== '2'; attempt++) {
      await syncTablet(app);
      await openReports();
      d = await app.text('skdn-d');
      console.log(`# sync ${attempt}: D ${d}`);
    }
    // D equals the children weighed; both for the first time (B).
    assert.equal(d, '2');
    const n = async (id) => Number(await app.text(id));
    assert.equal(await n('skdn-b'), 2);
    assert.equal(await n('skdn-n') + (await n('skdn-t')) + (await n('skdn-o')) + (await n('skdn-b')), 2);
    const s = await n('skdn-s');
    const k = await n('skdn-k');
    assert.ok(s >= 2 && k >= 2, `S ${s} K ${k}`);
    // The F1 table: the baby (girl, 6–11 months) and the child (boy, 24–59 months).
    assert.equal(await app.text('f1-6-11-female-d'), '1');
    assert.equal(await app.text('f1-24-59-male-d'), '1');
    assert.equal(await app.text('f1-all-both-d'), '2');
    console.log(`# SKDN ${MONTH}: S ${s} K ${k} D 2; D/S ${await app.text('ratio-d_s')}`);
    await toTop();
    await shotBoth('06-report-id');
    await (await app.visible('f1-table')).scrollIntoView({ block: 'start' });
    await shotBoth('06-report-f1-id');
    await (await app.visible('activity')).scrollIntoView({ block: 'start' });
    await app.screenshot(SHOTS, '06-report-activity-id-landscape');
    // Ekspor CSV: the file is named on screen (where it is only on request), its text is
    // the one shown: `;` between fields, the posyandu's name, the decimal comma.
    await app.click('report-export');
    const fileName = await app.waitText('report-csv-file', (t) => t.includes('.csv'));
    assert.match(fileName, /^File laporan-Posyandu-Mawar-\d{4}-\d{2}\.csv tersimpan\.$/);
    const pathEl = await app.browser.$('[data-testid="report-csv-path"]');
    assert.ok(!(await pathEl.isDisplayed()), 'the bare path is not the message');
    const path = await pathOf('report-csv-path');
    const shown = await app.value('report-csv-text');
    assert.ok(existsSync(path), `${path} does not exist`);
    const file = readFileSync(path, 'utf8');
    assert.ok(file.startsWith('\uFEFF'), 'the CSV starts with a byte-order mark (Excel reads it as UTF-8)');
    assert.equal(file.slice(1), shown);
    const lines = file.slice(1).trim().split('\n');
    const head = lines[0].split(';');
    const total = lines.map((l) => l.split(';')).find((c) => c[3] === '0-59' && c[4] === 'L+P');
    assert.ok(total, `no total line in ${file}`);
    const col = (name) => total[head.indexOf(name)];
    assert.equal(total[0], 'Posyandu Mawar');
    assert.equal(total[1], POSYANDU);
    assert.match(total[2], /^[A-Z][a-z]+ \d{4}$/);
    assert.equal(col('D'), '2');
    assert.equal(col('B'), '2');
    assert.equal(col('S'), String(s));
    assert.equal(col('K'), String(k));
    assert.match(col('D/S (%)'), /^\d+,\d$/, 'the decimal comma');
    // The PDF to print: made on the tablet, named on screen, a real PDF in the folder.
    await app.click('report-export-pdf');
    const pdfName = await app.waitText('report-pdf-file', (t) => t.includes('.pdf'), 60_000);
    assert.match(pdfName, /^PDF laporan-Posyandu-Mawar-\d{4}-\d{2}\.pdf tersimpan \(\d+ KB\)\.$/);
    const pdfPath = await pathOf('report-pdf-path');
    assert.ok(existsSync(pdfPath), `${pdfPath} does not exist`);
    const pdf = readFileSync(pdfPath);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(pdf.length > 10_000, `the PDF is ${pdf.length} bytes`);
    await (await app.visible('report-csv-text')).scrollIntoView({ block: 'center' });
    await shotBoth('07-report-csv-id');
    await setLanguage('en');
    await openReports();
    await app.waitText('skdn-d', '2');
    await toTop();
    await shotBoth('08-report-en');
    await app.click('report-export');
    await app.waitText('report-csv-file', 'Posyandu-Mawar');
    assert.ok((await app.value('report-csv-text')).startsWith('Posyandu;Posyandu code;Month;'));
    await (await app.visible('report-csv-text')).scrollIntoView({ block: 'center' });
    await app.screenshot(SHOTS, '08-report-csv-en-landscape');
    await app.click('nav-home');
    await app.visible('screen-home');
    await toTop();
    await shotBoth('09-home-en');
    await app.click('nav-due');
    await app.visible('due-row', 30_000);
    await setLanguage('id');
  });
});
