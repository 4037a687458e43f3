// End to end: the district server's web dashboard (Dasbor, issue 14) in a real Chromium
// against a real server (the Belu demo district on SQLite). A kader is refused; the dinas
// admin drills from the kabupaten to a posyandu, issues an enrolment code that `jangkau
// enrol` then uses; that CLI device records a posyandu month and syncs, and the SKDN page
// of the posyandu shows exactly what it recorded; a CSV is downloaded; the tablet is
// revoked and its next sync refused; a puskesmas admin sees only its own puskesmas.
// Screenshots of every page go to ui/e2e/screenshots/dashboard/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser } from './lib/browser.mjs';
import { cliBin } from './lib/bins.mjs';
import { run, stopAll } from './lib/procs.mjs';
import { DEMO_PASSWORD, startServer } from './lib/server.mjs';
import { bodyOf, idOf, shotsDir, ZONE } from './lib/flows.mjs';

const SHOTS = shotsDir('dashboard');
const POSYANDU = '53.04.05.2001.P02'; // Posyandu Melati, kader.melati's
const DESA = '53.04.05.2001';
const PKM = '53.04.PKM07'; // Puskesmas Halilulik
const CLI_PIN = '592817';

// Dates relative to today in the district's zone.
const TODAY = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
const [TY, TM, TD] = TODAY.split('-').map(Number);
const iso = (y, m, d) => new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
const monthsAgo = (n, day = 1) => iso(TY, TM - n, day);
const MONTH = TODAY.slice(0, 7);
/** A weighing day of this month not after today. */
const THIS_MONTH_DAY = iso(TY, TM, Math.min(TD, 2));

// Three under-fives of Posyandu Melati: Lukas gains well (N), Sisilia is weighed for the
// first time (B), Markus is not weighed (in S, not in D).
const KIDS = {
  lukas: { name: 'Lukas Fiktif Mali', sex: 'male', birth: monthsAgo(12, 1) },
  sisilia: { name: 'Sisilia Fiktif Mali', sex: 'female', birth: monthsAgo(14, 1) },
  markus: { name: 'Markus Fiktif Luan', sex: 'male', birth: monthsAgo(30, 1) },
};
const CSV = [
  'household,head_name,dusun,rt,name,sex,birth_date,relation',
  `1,Paulus Fiktif Mali,Dusun 2 Naitimu,01,Paulus Fiktif Mali,male,1987-05-02,head`,
  `1,,,,${KIDS.lukas.name},male,${KIDS.lukas.birth},child`,
  `1,,,,${KIDS.sisilia.name},female,${KIDS.sisilia.birth},child`,
  `2,Yosef Fiktif Luan,Dusun 2 Naitimu,02,Yosef Fiktif Luan,male,1984-11-20,head`,
  `2,,,,${KIDS.markus.name},male,${KIDS.markus.birth},child`,
].join('\n');

let tmp;
let server;
let web;
let cli;
let code;
const ids = {};

const shoot = (name) => web.screenshot(SHOTS, name);
const page = (path) => web.go(`${server.url}${path}`);

async function login(username, password = DEMO_PASSWORD) {
  await page('/');
  await web.type('login-username', username);
  await web.type('login-password', password);
  await web.click('login-submit');
}

async function logout() {
  await web.click('logout');
  await web.visible('login-form');
}

/** The text of every cell of the first row of table `id` whose first cell contains `first`. */
async function rowOf(id, first) {
  const rows = await web.browser.$$(`[data-testid="table-${id}"] tbody tr`);
  for (const r of rows) {
    const cells = await r.$$('td');
    const texts = [];
    for (const c of cells) texts.push(await c.getText());
    if (texts[0]?.includes(first)) return texts;
  }
  throw new Error(`no row ${first} in ${id}`);
}

describe('the web dashboard in a real browser', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'jangkau-e2e-dashboard-'));
    rmSync(SHOTS, { recursive: true, force: true });
    server = await startServer(tmp, join(tmp, 'logs'));
    web = await openBrowser(join(tmp, 'logs'));
    console.log(`# server ${server.url}, today ${TODAY}`);
  });

  after(async () => {
    if (web) await web.close().catch(() => {});
    await stopAll();
    if (tmp && process.env.E2E_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
  });

  it('a kader account is refused with a clear message', async () => {
    await page('/');
    await shoot('01-login');
    await login('kader.mawar');
    assert.match(await web.text('login-error'), /Akun kader tidak dapat masuk ke dasbor/);
    assert.equal(await (await web.$('login-username')).getValue(), 'kader.mawar');
    await shoot('02-login-kader-refused');
    await login('dinas', 'bukan-sandinya');
    assert.match(await web.text('login-error'), /Nama pengguna atau kata sandi salah/);
    assert.equal(await (await web.$('login-username')).getValue(), 'dinas', 'the typed username stays');
  });

  it('the dinas admin drills down from the kabupaten to a posyandu', async () => {
    await login('dinas');
    await web.visible('page-title');
    assert.equal(await web.text('page-title'), 'Ringkasan');
    assert.match(await web.text('crumbs'), /Kabupaten Belu/);
    await shoot('03-ringkasan-kabupaten');
    await web.click(`drill-${PKM}`);
    assert.match(await web.text('crumbs'), /Kabupaten Belu › Puskesmas Halilulik/);
    await shoot('04-ringkasan-puskesmas');
    await web.click(`drill-${DESA}`);
    assert.match(await web.text('crumbs'), /Desa Naitimu/);
    await web.click(`drill-${POSYANDU}`);
    assert.match(await web.text('crumbs'), /Puskesmas Halilulik › Desa Naitimu \(Pustu Naitimu\) › Posyandu Melati/);
    await shoot('05-ringkasan-posyandu');
  });

  it('issues an enrolment code that `jangkau enrol` uses', async () => {
    await page('/dasbor/admin');
    await web.visible('code-form');
    await (await web.$('code-username')).selectByAttribute('value', 'kader.melati');
    await web.click('code-issue');
    code = (await web.text('enrol-code')).trim();
    assert.match(code, /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}$/);
    assert.ok(await (await web.$('enrol-qr')).$('svg').isExisting(), 'the QR code is drawn');
    await shoot('06-admin-enrolment-code');
    const bin = cliBin();
    const data = join(tmp, 'cli-melati');
    const env = { JANGKAU_PIN: CLI_PIN, JANGKAU_PASSWORD: DEMO_PASSWORD, TZ: ZONE };
    await run(bin, ['enrol', '--data', data, '--server', server.url, '--code', code, '--username', 'kader.melati', '--device-name', 'Tablet Melati (e2e dasbor)'], { env });
    cli = (args) => run(bin, [...args, '--data', data], { env });
  });

  it('the CLI tablet records a posyandu month and syncs', async () => {
    const csv = join(tmp, 'families.csv');
    writeFileSync(csv, CSV);
    await cli(['import', csv]);
    for (const line of (await cli(['export'])).split('\n').filter((l) => l.trim())) {
      const r = JSON.parse(line);
      if (r.kind !== 'person') continue;
      for (const [k, kid] of Object.entries(KIDS)) if (bodyOf(r).name === kid.name) ids[k] = idOf(r);
    }
    assert.deepEqual(Object.keys(ids).sort(), ['lukas', 'markus', 'sisilia']);
    await cli(['record', 'weighing', '--person', ids.lukas, '--kg', '9.0', '--date', monthsAgo(1, 10)]);
    await cli(['record', 'weighing', '--person', ids.lukas, '--kg', '9.6', '--date', THIS_MONTH_DAY]);
    await cli(['record', 'weighing', '--person', ids.sisilia, '--kg', '9.1', '--date', THIS_MONTH_DAY]);
    await cli(['sync', '--quiet']);
  });

  it('the SKDN of the posyandu month equals what the tablet recorded', async () => {
    await page(`/dasbor/skdn?place=${POSYANDU}&month=${MONTH}`);
    await web.visible('skdn-total');
    // S: three under-fives; D: two weighed; N: Lukas gained 600 g; B: Sisilia's first weighing.
    assert.equal(await web.text('total-s'), '3');
    assert.equal(await web.text('total-d'), '2');
    assert.equal(await web.text('total-n'), '1');
    const row = await rowOf('posyandu', 'Posyandu Melati');
    // Posyandu, days, S, K, D, N, T, O, B …
    assert.deepEqual([row[2], row[4], row[5], row[8]], ['3', '2', '1', '1']);
    assert.ok(await (await web.$('chart-trend')).isExisting(), 'the 12-month trend is drawn');
    await shoot('07-skdn-posyandu');
    // The same numbers rolled up at the desa.
    await page(`/dasbor/skdn?place=${DESA}&month=${MONTH}`);
    const melati = await rowOf('posyandu', 'Posyandu Melati');
    assert.deepEqual([melati[2], melati[4], melati[5]], ['3', '2', '1']);
    await shoot('08-skdn-desa');
  });

  it('downloads a table as CSV for Indonesian Excel', async () => {
    await page(`/dasbor/skdn?place=${POSYANDU}&month=${MONTH}`);
    const href = await (await web.$('csv-posyandu')).getAttribute('href');
    const r = await fetch(new URL(href, server.url), { headers: { cookie: await web.cookieHeader() } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-disposition') ?? '', /attachment; filename="posyandu-53\.04\.05\.2001\.P02-/);
    const text = (await r.text()).replace(/^\uFEFF/, '');
    const [head, first] = text.split('\r\n');
    assert.match(head, /^Posyandu;Hari posyandu;S;K;D;N;T;O;B;BGM;2T;D\/S;N\/D;K\/S$/);
    const cells = first.split(';');
    assert.equal(cells[0], 'Posyandu Melati');
    assert.deepEqual([cells[2], cells[4], cells[5]], ['3', '2', '1']);
    assert.match(cells[11], /^66,7%$/, 'D/S with a decimal comma');
    // The printable view of the same page.
    await web.go(new URL((await (await web.$('print-posyandu')).getAttribute('href')), server.url).href);
    await shoot('09-skdn-printable');
  });

  it('every other page shows the posyandu, and the child opens its growth chart', async () => {
    for (const [n, path, title] of [
      ['10-gizi', '/dasbor/gizi', /Gizi/],
      ['11-imunisasi', '/dasbor/imunisasi', /Imunisasi/],
      ['12-kia', '/dasbor/kia', /KIA/],
      ['13-rujukan', '/dasbor/rujukan', /Rujukan/],
      ['14-tablet', '/dasbor/tablet', /Tablet/],
      ['15-tinjauan', '/dasbor/tinjauan', /Tinjauan/],
    ]) {
      await page(`${path}?place=${DESA}&month=${MONTH}`);
      assert.match(await web.text('page-title'), title);
      await shoot(n);
    }
    // Lukas (born in the cohort year before this month's, no dose recorded) is overdue.
    await page(`/dasbor/imunisasi?place=${POSYANDU}&month=${MONTH}&cohort=${KIDS.lukas.birth.slice(0, 4)}`);
    assert.match(await web.text('table-terlambat'), /Lukas Fiktif Mali/);
    await shoot('11b-imunisasi-terlambat');
    await page(`/dasbor/tablet?place=${POSYANDU}&month=${MONTH}`);
    assert.match(await web.html(), /Tablet Melati \(e2e dasbor\)/, 'the enrolled CLI device is listed');
    await page(`/dasbor/anak/${ids.lukas}?place=${POSYANDU}&month=${MONTH}`);
    assert.ok(await (await web.$('chart-growth')).isExisting(), 'the growth chart is drawn');
    assert.match(await web.text('child-info'), /Lukas Fiktif Mali/);
    await shoot('15-anak-grafik');
    await page(`/dasbor/skdn?place=${POSYANDU}&month=${MONTH}&lang=en`);
    assert.match(await web.text('page-title'), /SKDN and the monthly report/);
    await shoot('16-skdn-english');
    await page(`/dasbor/skdn?place=${POSYANDU}&month=${MONTH}&lang=id`);
  });

  it('revoking the tablet refuses its next sync; the audit log shows both actions', async () => {
    await page('/dasbor/admin');
    await web.click('revoke-Tablet Melati (e2e dasbor)');
    await web.visible('ok-top');
    const html = await web.html();
    assert.match(html, /enrol_code/);
    assert.match(html, /tablet_revoke/);
    await shoot('17-admin-revoked-audit');
    await assert.rejects(cli(['sync', '--quiet']), /revoked|dicabut/i);
    await logout();
  });

  it('a puskesmas admin sees only its own puskesmas', async () => {
    await login('admin.halilulik');
    await web.visible('page-title');
    assert.match(await web.text('crumbs'), /^Puskesmas Halilulik$/);
    const kids = await web.$$('drill-children');
    assert.equal(kids.length, 1);
    assert.doesNotMatch(await web.html(), /Puskesmas Kota Atambua/);
    await shoot('18-ringkasan-puskesmas-admin');
    await page(`/dasbor/skdn?place=53.04.PKM01&month=${MONTH}`);
    assert.match(await web.text('error'), /Tidak ditemukan di wilayah Anda/);
    await shoot('19-other-puskesmas-refused');
    await page('/dasbor/admin');
    // Its own users only (the audit log does name the dinas admin, who acted in Halilulik).
    const users = await web.text('table-pengguna');
    assert.match(users, /kader\.melati/);
    assert.doesNotMatch(users, /^dinas\b/m);
    assert.match(await web.text('table-audit'), /tablet_revoke/);
    await shoot('20-admin-puskesmas');
  });
});
