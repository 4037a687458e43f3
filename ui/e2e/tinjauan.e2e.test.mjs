// End to end (issue 17, "Tinjauan"): the bidan's review queue against a real district
// server, with four devices:
// - the bidan's tablet (bidan.naitimu): the real app, every decision made on its screens;
// - a kader's tablet (kader.mawar): the real app, whose screens are asserted after the
//   bidan's decisions (the kept birth date, no conflict, every weighing on the surviving
//   child's growth chart, SKDN counting the child once, the dismissed pair not proposed);
// - kader tablets A (kader.mawar, a second device) and C (kader.mawar2): `jangkau` CLI
//   devices used for data entry only (the app has no form that changes a registered birth
//   date; the CLI's `record person` does): they register, weigh and change the birth date
//   offline. Their end state is checked from what they hold (`jangkau status --json`: no
//   open conflict; `jangkau export`: the kept birth date is the winning edit).
// Scenario:
// 1. A registers Agnes (and two twins sharing one NIK by mistake, and Yosef), C registers
//    "Josef" (the same child as Yosef, registered twice); both weigh;
// 2. A and C change Agnes's birth date offline, then both sync: a conflict;
// 3. the bidan sees it with both values, who, which tablet and when, and what each value
//    changes (the latest KMS result), takes A's value, syncs;
// 4. the bidan dismisses the twins ("Bukan orang yang sama") and merges Yosef and Josef
//    ("Orang yang sama"): the survivor's growth chart has every weighing of both;
// 5. the kader's tablet syncs: the kept birth date, no conflict, the survivor's chart with
//    every weighing, the month's SKDN D one less than before the merge, no pair proposed;
//    A and C sync: no conflict, the kept birth date.
// Runtime about 1½ minutes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDriver } from './lib/app.mjs';
import { DEMO_PASSWORD, SECOND_KADER } from './lib/server.mjs';
import { bodyOf, enrolCli, enrolTablet, exportRecords, idOf, personIds, shoot as shootIn, shotsDir, startStack, stopStack, syncTablet, ZONE } from './lib/flows.mjs';

const SHOTS = shotsDir('tinjauan');

function todayIn(zone) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(new Date())
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}`;
}
const TODAY = todayIn(ZONE);
const MONTH = TODAY.slice(0, 7);
const FIRST = `${MONTH}-01`;
const dmy = (s) => s.split('-').reverse().join('/');

const NAMES = { agnes: 'Agnes Tinjauan', yosef: 'Yosef Ganda Tinjauan', josef: 'Josef Ganda Tinjauan', petrus: 'Petrus Kembar Tinjauan', paulus: 'Paulus Kembar Tinjauan' };
const BIRTH = { registered: '2024-03-01', onA: '2024-04-01', onC: '2024-02-01' };

let stack;
let kader;
let bidan;
let cliA;
let cliC;
let ids;

async function openProfile(app, id) {
  await app.browser.execute((h) => {
    location.hash = h;
  }, `#/orang/${id}`);
  await app.visible('screen-profile');
}

async function openReview(app) {
  await app.click('nav-home');
  await app.visible('screen-home');
  await app.click('home-review');
  await app.visible('screen-review');
  await app.browser.waitUntil(async () => !(await app.$('review-loading').isExisting()), { timeout: 20_000 });
}

/** The index of the pair whose card says `name`, or -1. */
async function pairIndex(app, name) {
  const cards = await app.browser.$$('[data-testid^="pair-"][data-first]');
  for (let i = 0; i < cards.length; i++) {
    if ((await cards[i].getText()).includes(name)) return Number((await cards[i].getAttribute('data-testid')).slice(5));
  }
  return -1;
}

async function growthDays(app, id) {
  await openProfile(app, id);
  await app.click('profile-growth');
  await app.visible('screen-growth');
  await app.visible('growth-table');
  const rows = await app.browser.$$('[data-testid="growth-table"] tr[data-date]');
  const days = [];
  for (const r of rows) days.push(await r.getAttribute('data-date'));
  return days.sort();
}

async function skdnD(app) {
  await app.click('nav-reports');
  await app.visible('screen-reports');
  return Number(await app.text('skdn-d'));
}

/** The winning birth date on a CLI device: the edit with the greatest stamp (hlc, device). */
async function birthDateOn(cli, id) {
  const edits = (await exportRecords(cli))
    .filter((r) => r.kind === 'person' && idOf(r) === id && bodyOf(r).birth_date)
    .map((r) => ({ stamp: `${r.hlc}.${r.device}`, birth: bodyOf(r).birth_date }))
    .sort((a, b) => (a.stamp < b.stamp ? -1 : 1));
  return edits.at(-1)?.birth;
}

const openConflicts = async (cli) => JSON.parse(await cli(['status', '--json'])).open_conflicts;

describe('Tinjauan: conflicts, duplicates and dismissals across tablets', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    stack = await startStack('tinjauan', SHOTS);
    console.log(`# today ${TODAY}`);
  });
  after(async () => {
    if (bidan) await bidan.close().catch(() => {});
    await stopStack(stack, kader);
  });

  it('two kader tablets register, weigh and change one birth date offline', async () => {
    cliA = await enrolCli(stack, 'cli-a', { username: 'kader.mawar', password: DEMO_PASSWORD, device: 'Tablet A (CLI)' });
    cliC = await enrolCli(stack, 'cli-c', { username: SECOND_KADER.username, password: SECOND_KADER.password, device: 'Tablet C (CLI)' });
    const csvA = join(stack.tmp, 'a.csv');
    writeFileSync(
      csvA,
      [
        'household;head_name;name;sex;birth_date;nik',
        `1;Keluarga Tinjauan A;${NAMES.agnes};female;${BIRTH.registered};`,
        `1;;${NAMES.yosef};male;2024-05-10;`,
        `2;Keluarga Kembar Tinjauan;${NAMES.petrus};male;2023-01-02;5304050201230007`,
        `2;;${NAMES.paulus};male;2023-01-02;5304050201230007`,
      ].join('\n'),
    );
    await cliA(['import', csvA]);
    const csvC = join(stack.tmp, 'c.csv');
    writeFileSync(csvC, ['household;head_name;name;sex;birth_date', `1;Keluarga Tinjauan C;${NAMES.josef};male;2024-05-10`].join('\n'));
    await cliC(['import', csvC]);
    ids = { ...personIds(await exportRecords(cliA), { agnes: NAMES.agnes, yosef: NAMES.yosef, petrus: NAMES.petrus }), ...personIds(await exportRecords(cliC), { josef: NAMES.josef }) };
    await cliA(['record', 'weighing', '--person', ids.agnes, '--kg', '10.1', '--date', TODAY]);
    await cliA(['record', 'weighing', '--person', ids.yosef, '--kg', '11.0', '--date', FIRST]);
    await cliC(['record', 'weighing', '--person', ids.josef, '--kg', '11.2', '--date', TODAY]);
    await cliA(['sync', '--quiet']);
    await cliC(['sync', '--quiet']);
    await cliA(['sync', '--quiet']);

    // The kader's and the bidan's tablets: the real app.
    kader = await stack.open('tablet-kader');
    await enrolTablet(kader, stack.server, { device: 'Tablet Kader Mawar' });
    const driver2 = await startDriver(stack.display, stack.logs, 'tauri-driver-bidan');
    bidan = await stack.open('tablet-bidan', driver2);
    await enrolTablet(bidan, stack.server, { code: await stack.server.code('bidan.naitimu'), username: 'bidan.naitimu', password: DEMO_PASSWORD, device: 'Tablet Bidan Naitimu' });

    // Offline, A then C change Agnes's birth date; then both sync.
    await cliA(['record', 'person', '--person', ids.agnes, '--birth-date', BIRTH.onA]);
    await new Promise((r) => setTimeout(r, 50));
    await cliC(['record', 'person', '--person', ids.agnes, '--birth-date', BIRTH.onC]);
    await cliA(['sync', '--quiet']);
    await cliC(['sync', '--quiet']);
    await cliA(['sync', '--quiet']);
    assert.equal(await openConflicts(cliA), 1);
    assert.equal(await openConflicts(cliC), 1);
  });

  it('the kader tablet counts both children in the month before the merge', async () => {
    await syncTablet(kader);
    assert.equal(await (await kader.$('sync-conflicts')).isExisting(), true, 'the kader sees that the bidan has a conflict to review');
    stack.dBefore = await skdnD(kader);
    console.log(`# SKDN D before the merge: ${stack.dBefore}`);
  });

  it('the bidan sees the conflict with both values, who, where, when and what each changes, and takes one', async () => {
    await syncTablet(bidan);
    await bidan.click('nav-home');
    const badge = Number(await bidan.text('home-review-count'));
    assert.ok(badge >= 3, `Beranda's badge counts the conflict and both pairs: ${badge}`);
    await openReview(bidan);
    assert.equal(await bidan.text('review-conflicts-count'), '1');
    assert.equal(await bidan.text('conflict-0-label'), NAMES.agnes);
    assert.match(await bidan.text('conflict-0-field'), /Tanggal lahir/);
    // C's edit was later: it holds; A's value is the other.
    assert.equal(await bidan.text('conflict-0-current-value'), dmy(BIRTH.onC));
    assert.equal(await bidan.text('conflict-0-other-value'), dmy(BIRTH.onA));
    for (const side of ['current', 'other']) {
      const by = await bidan.text(`conflict-0-${side}-by`);
      assert.match(by, /^Diubah oleh .+ di tablet [0-9a-f]{6}, /, by);
      const effect = await bidan.text(`conflict-0-${side}-effect`);
      assert.match(effect, new RegExp(`Hasil penimbangan terakhir \\(${dmy(TODAY)}, umur \\d+ bulan\\)`), effect);
    }
    assert.notEqual(await bidan.text('conflict-0-current-by'), await bidan.text('conflict-0-other-by'));
    await shootIn(bidan, SHOTS, '01-conflict');
    await bidan.click('conflict-0-take');
    await bidan.visible('review-notice');
    await bidan.visible('review-conflicts-empty');
    await syncTablet(bidan);
  });

  it('the bidan dismisses the twins and merges the child registered twice', async () => {
    await openReview(bidan);
    const twins = await pairIndex(bidan, NAMES.petrus);
    assert.ok(twins >= 0, 'the twins sharing a NIK are proposed');
    await shootIn(bidan, SHOTS, '02-duplicates');
    await bidan.click(`pair-${twins}-not-same`);
    await bidan.visible('review-notice');
    await bidan.browser.waitUntil(async () => (await pairIndex(bidan, NAMES.petrus)) < 0, { timeout: 15_000, timeoutMsg: 'the dismissed pair is still listed' });
    const same = await pairIndex(bidan, NAMES.josef);
    assert.ok(same >= 0, 'Yosef and Josef are proposed');
    await bidan.click(`pair-${same}-compare`);
    await bidan.visible('screen-review-pair');
    await bidan.visible('pair-fields');
    await shootIn(bidan, SHOTS, '03-compare');
    // Keep Yosef's record, with Josef's spelling of the name.
    const sideOf = async (id) => ((await (await bidan.$('pair-side-first')).getAttribute('data-person')) === id ? 'first' : 'second');
    const keep = await sideOf(ids.yosef);
    const other = keep === 'first' ? 'second' : 'first';
    await bidan.click(`pair-keep-${keep}`);
    await bidan.click(`pair-field-name-${other}`);
    await bidan.click('pair-same');
    await bidan.visible('screen-profile');
    assert.equal(await bidan.text('profile-name'), NAMES.josef);
    const days = await growthDays(bidan, ids.yosef);
    assert.deepEqual(days, [...new Set([FIRST, TODAY])].sort());
    await syncTablet(bidan);
    await openReview(bidan);
    assert.equal(await pairIndex(bidan, NAMES.josef), -1);
    assert.equal(await pairIndex(bidan, NAMES.petrus), -1);
  });

  it('the kader tablet shows the kept birth date, no conflict, the merged chart and SKDN counting the child once', async () => {
    await syncTablet(kader);
    assert.equal(await (await kader.$('sync-conflicts')).isExisting(), false);
    await openProfile(kader, ids.agnes);
    assert.equal(await kader.text('profile-birth'), dmy(BIRTH.onA));
    const days = await growthDays(kader, ids.yosef);
    assert.deepEqual(days, [...new Set([FIRST, TODAY])].sort());
    const d = await skdnD(kader);
    assert.equal(d, stack.dBefore - 1, `SKDN D after the merge: ${d}`);
    await openReview(kader);
    await kader.visible('review-kader-note');
    assert.equal(await (await kader.$('review-conflicts')).isExisting(), false);
    assert.equal(await pairIndex(kader, NAMES.petrus), -1, 'the dismissed pair is proposed again');
    assert.equal(await pairIndex(kader, NAMES.josef), -1);
    await shootIn(kader, SHOTS, '04-kader-review');
  });

  it('the CLI kader tablets hold the kept birth date and no conflict', async () => {
    for (const cli of [cliA, cliC]) {
      await cli(['sync', '--quiet']);
      assert.equal(await openConflicts(cli), 0);
      assert.equal(await birthDateOn(cli, ids.agnes), BIRTH.onA);
    }
  });
});
