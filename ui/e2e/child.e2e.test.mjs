// End to end: a child's growth chart (KMS) and immunisation card.
//
// A second device of Posyandu Mawar (a `jangkau` CLI device of kader.mawar2) registers a
// mother and her daughter born a year ago (`jangkau import`), records twelve monthly
// weighings with the length (`jangkau record weighing`, the last one without gain: T) and
// syncs. The tablet enrols as kader.mawar and syncs: the family arrives. From the child's
// profile "Grafik pertumbuhan" shows the BB/U chart with 12 points, the latest result in
// words (T, with a home visit as the next step), the table of weighings, and the PB/U tab.
// Immunisations are recorded on the tablet through the shell's own `record_home_visit`
// command (HB0 at birth, BCG and OPV1 at 1 month, the 2-month doses, DPT-HB-Hib 1 again,
// MR1, and an unnumbered "Polio"); "Kartu imunisasi" then shows each dose's status.
// Screenshots (both languages, landscape and portrait) go to ui/e2e/screenshots/child/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, startXvfb, stopAll } from './lib/procs.mjs';
import { openApp, startDriver } from './lib/app.mjs';
import { cliBin, UI_DIR } from './lib/bins.mjs';
import { DEMO_PASSWORD, SECOND_KADER, startServer } from './lib/server.mjs';

const SHOTS = join(UI_DIR, 'e2e', 'screenshots', 'child');
const LANDSCAPE = [1280, 800];
const PORTRAIT = [800, 1280];
const PIN = '480516';
const MOTHER = 'Maria Fiktif Seran';
const CHILD = 'Agnes Fiktif Seran';
// Monthly weighings (kg) and lengths (cm) at 1 … 12 months: every gain reaches the KBM
// until the last month, which gains nothing (T).
const KG = [4.2, 5.2, 6.0, 6.6, 7.1, 7.5, 7.8, 8.1, 8.4, 8.7, 9.0, 9.0];
const CM = [53.0, 57.0, 60.0, 62.5, 64.5, 66.0, 67.5, 69.0, 70.3, 71.5, 72.7, 73.8];

let tmp;
let logs;
let server;
let display;
let framebuffer;
let driver;
let app;
let cli;
let childId;
let householdId;

// ---- dates (the device zone is WITA, UTC+8) -------------------------------------------
const pad = (n) => String(n).padStart(2, '0');
const iso = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const dmy = (s) => s.split('-').reverse().join('/');
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
async function shoot(name) {
  await app.size(...LANDSCAPE);
  await app.screenshot(SHOTS, `${name}-landscape`);
  await app.size(...PORTRAIT);
  await app.screenshot(SHOTS, `${name}-portrait`);
  await app.size(...LANDSCAPE);
}

async function toTop() {
  await app.browser.execute(() => document.querySelector('.content')?.scrollTo(0, 0));
}

async function scrollTo(id) {
  await (await app.visible(id)).scrollIntoView({ block: 'start' });
}

async function language(l) {
  const back = await app.browser.execute(() => location.hash);
  await app.click('nav-settings');
  await app.visible('screen-settings');
  await app.click(`lang-${l}`);
  await app.visible('settings-saved');
  await app.browser.execute((h) => {
    location.hash = h;
  }, back);
}

async function sync() {
  await app.click('nav-home');
  await app.visible('screen-home');
  await app.click('sync-button');
  await app.browser.waitUntil(async () => (await app.$('sync-chip').getAttribute('data-tone')) === 'ok', {
    timeout: 60_000,
    timeoutMsg: 'the sync did not finish cleanly',
  });
  assert.equal(await app.text('sync-waiting'), '0');
}

/** A command of the shell, called as the UI calls it. */
async function invoke(cmd, args) {
  const r = await app.browser.executeAsync(
    (c, a, done) => {
      window.__TAURI_INTERNALS__
        .invoke(c, a)
        .then((v) => done({ ok: v }))
        .catch((e) => done({ err: e }));
    },
    cmd,
    args,
  );
  if (r.err) throw new Error(`${cmd} refused: ${JSON.stringify(r.err)}`);
  return r.ok;
}

const countPoints = async () => (await app.browser.$$('[data-testid="growth-svg"] [data-testid^="growth-point-"]')).length;

describe('growth chart and immunisation card end to end', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'jangkau-e2e-child-'));
    logs = join(tmp, 'logs');
    rmSync(SHOTS, { recursive: true, force: true });
    server = await startServer(tmp, logs);
    ({ display, framebuffer } = await startXvfb(logs, join(tmp, 'fb')));
    driver = await startDriver(display, logs);
    console.log(`# server ${server.url}, display ${display}, logs ${logs}, born ${iso(BIRTH)}, today ${iso(TODAY)}`);
  });

  after(async () => {
    if (app) await app.close();
    await stopAll();
    if (process.env.E2E_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
  });

  it('a second device of the posyandu records a year of weighings and syncs them', async () => {
    const bin = cliBin();
    const data = join(tmp, 'cli-kader2');
    const env = { JANGKAU_PIN: '592817', JANGKAU_PASSWORD: SECOND_KADER.password, TZ: 'Asia/Makassar' };
    cli = (args) => run(bin, [...args, '--data', data], { env });
    const code = await server.code(SECOND_KADER.username);
    await run(bin, ['enrol', '--data', data, '--server', server.url, '--code', code, '--username', SECOND_KADER.username, '--device-name', 'e2e kader 2 CLI'], { env });
    const csv = join(tmp, 'family.csv');
    writeFileSync(
      csv,
      [
        'household,head_name,dusun,rt,name,sex,birth_date,relation,mother',
        `1,${MOTHER},Dusun 1 Naitimu,04,${MOTHER},female,1994-03-02,head,`,
        `1,,,,${CHILD},female,${iso(BIRTH)},child,${MOTHER}`,
      ].join('\n') + '\n',
    );
    await cli(['import', csv]);
    const records = (await cli(['export']))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
    const body = (r) => r.body ?? r.values ?? r;
    const child = records.find((r) => body(r).name === CHILD);
    assert.ok(child, `${CHILD} not exported`);
    childId = child.id ?? child.record ?? body(child).id;
    householdId = body(child).household;
    assert.ok(childId && householdId, JSON.stringify(child));
    for (let k = 1; k <= 12; k++) {
      await cli(['record', 'weighing', '--person', childId, '--kg', String(KG[k - 1]), '--height-cm', String(CM[k - 1]), '--position', 'lying', '--date', at(k)]);
    }
    await cli(['sync', '--quiet']);
  });

  it('the tablet receives them and the profile opens the growth chart', async () => {
    app = await openApp(driver, { dataDir: join(tmp, 'tablet'), serverUrl: server.url, framebuffer });
    await app.size(...LANDSCAPE);
    await app.visible('screen-firstrun', 30_000);
    await app.type('firstrun-code', server.kaderCode);
    await app.type('firstrun-username', 'kader.mawar');
    await app.type('firstrun-password', DEMO_PASSWORD);
    await app.type('firstrun-device', 'Tablet Posyandu Mawar (KMS)');
    await app.click('firstrun-next');
    await app.type('firstrun-pin', PIN);
    await app.type('firstrun-pin2', PIN);
    await app.click('firstrun-finish');
    await app.visible('screen-home', 60_000);
    await sync();
    await app.click('nav-households');
    await app.visible('screen-households');
    await app.type('households-query', 'Agnes');
    await app.browser.waitUntil(async () => (await app.$$('household-row-head').length) === 1 && (await app.$('household-row-head').getText()) === MOTHER, {
      timeout: 15_000,
      timeoutMsg: 'the family did not arrive',
    });
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
    assert.match(await app.text('growth-latest-facts'), new RegExp(`^${dmy(at(12)).replace(/\//g, '\\/')} · 1 tahun · BB 9 kg · PB/TB 73,8 cm · KMS: T$`));
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

  it('the immunisation card shows every dose with its status', async () => {
    // Recorded on the tablet (home visits on the days they were given).
    const visit = (date, vaccines) =>
      invoke('record_home_visit', {
        input: { household: householdId, date, panels: [{ person: childId, measurements: [], immunisations: vaccines.map((v) => ({ vaccine: v })), supplements: [], screenings: [] }] },
      });
    await visit(iso(BIRTH), ['HB0']);
    await visit(at(1), ['BCG', 'OPV1']);
    await visit(at(2), ['DPT-HB-Hib1', 'OPV2', 'PCV1', 'RV1']);
    await visit(at(3), ['DPT-HB-Hib 1', 'Polio']);
    await visit(at(9), ['MR1']);
    await app.click('growth-open-card');
    await app.visible('screen-immunisation');
    await app.visible('card-dose-HB0');
    const statuses = await app.browser.execute(() =>
      Object.fromEntries([...document.querySelectorAll('[data-testid^="card-dose-"][data-status]')].map((e) => [e.getAttribute('data-testid').slice(10), e.getAttribute('data-status')])),
    );
    console.log(`# card: ${JSON.stringify(statuses)}`);
    assert.equal(Object.keys(statuses).length, 21);
    for (const d of ['HB0', 'BCG', 'OPV1', 'OPV2', 'DPT-HB-Hib1', 'PCV1', 'RV1', 'MR1']) assert.equal(statuses[d], 'given', d);
    for (const d of ['OPV3', 'DPT-HB-Hib2', 'PCV2']) assert.equal(statuses[d], 'overdue', d);
    assert.equal(statuses.RV2, 'no_longer_allowed');
    assert.equal(statuses['DPT-HB-Hib4'], 'upcoming');
    assert.equal(statuses.MR2, 'upcoming');
    assert.equal(await app.text('card-dose-HB0-dates'), `Diberikan ${dmy(iso(BIRTH))}`);
    assert.equal(await app.text('card-dose-OPV3-status'), 'Terlambat: berikan imunisasi kejar');
    assert.equal(await app.text('card-dose-RV2-status'), 'Tidak boleh diberikan lagi (lewat batas umur)');
    assert.match(await app.text('card-dose-MR2-dates'), /^Jadwal \d{2}\/\d{2}\/\d{4}$/);
    assert.equal(await app.text('card-dose-DPT-HB-Hib1-again'), `Juga dicatat: ${dmy(at(3))} (DPT-HB-Hib 1)`);
    await app.visible('card-unmatched');
    assert.match(await app.text('card-unmatched'), /Polio/);
    assert.match(await app.text('card-summary'), /terlambat \(kejar\)/);
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
