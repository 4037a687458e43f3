import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Review from './Review.svelte';
import ReviewPair from './ReviewPair.svelte';
import { appError, installFake, kader, personSummary } from '../../test/fake';
import { session } from '../../lib/session.svelte';
import { router } from '../../lib/router.svelte';
import type { PersonSummary } from '../../lib/api';
import type { PairComparison, ReviewConflict, ReviewQueue } from '../../lib/api-review';

const bidan = { user_id: 'u9', username: 'bidan.naitimu', display_name: 'Bidan Naitimu', role: 'bidan' };

const person = (id: string, name: string, over: Partial<PersonSummary> = {}): PersonSummary =>
  personSummary({ id, name, ...over });

const side = (value: unknown, name: string | null, thisTablet: boolean) => ({
  value,
  author: 'u1-aaaaaaaa',
  author_name: name,
  device: 'dev-00d001',
  this_tablet: thisTablet,
  at_ms: Date.UTC(2025, 10, 20, 2, 0),
  growth: null,
  hpl: null,
});

const conflict = (): ReviewConflict => ({
  key: { record: 'p1', field: 'birth_date', loser: '0000000000000001.dev-00d001' },
  kind: 'person',
  record: 'p1',
  person: 'p1',
  label: 'Petrus Fiktif',
  posyandu: 'P01',
  field: 'birth_date',
  clinical: true,
  current: side('2024-02-14', 'Kader Mawar', false),
  other: side('2024-03-14', null, false),
});

const queue = (over: Partial<ReviewQueue> = {}): ReviewQueue => ({
  counts: { conflicts: 1, duplicates: 1, problems: 1, total: 3, supervisor: true },
  conflicts: [conflict()],
  duplicates: [
    {
      first: { person: person('a1', 'Yosef Fiktif'), household_head: 'Keluarga A', facts: 2 },
      second: { person: person('b2', 'Yosep Fiktif'), household_head: 'Keluarga B', facts: 3 },
      reasons: ['same_name_birth_date_mother'],
      source: 'device',
      found_at: null,
    },
  ],
  problems: [
    {
      person: person('c3', 'Maria Fiktif', { household: 'h1' }),
      household_head: null,
      dusun: null,
      rt: null,
      group: 'check_data',
      kind: 'check_data',
      priority: 'high',
      due: '2025-11-22',
      days_late: 0,
      reason: { key: 'tasks.check_data', id: 'Periksa data', en: 'Check the data' },
      params: {},
      form: 'correct_record',
    },
  ],
  ...over,
});

describe('Tinjauan', () => {
  beforeEach(() => {
    session.user = bidan;
    router.route = { name: 'review' };
  });

  it('shows a conflict with both values, who and which tablet, and keeps one', async () => {
    const fake = installFake({ review_queue: () => queue(), resolve_conflict: () => 'r1' });
    render(Review);
    expect((await screen.findByTestId('conflict-0-current-value')).textContent).toBe('14/02/2024');
    expect(screen.getByTestId('conflict-0-other-value').textContent).toBe('14/03/2024');
    expect(screen.getByTestId('conflict-0-current-by').textContent).toContain('Kader Mawar');
    expect(screen.getByTestId('conflict-0-other-by').textContent).toContain('tablet 00d001');
    expect(screen.getByTestId('conflict-0-current-effect').textContent).toContain('Tidak ada hasil pertumbuhan');
    await fireEvent.click(screen.getByTestId('conflict-0-take'));
    await waitFor(() => expect(fake.called('resolve_conflict')).toHaveLength(1));
    const args = fake.called('resolve_conflict')[0];
    expect(args.key).toEqual(conflict().key);
    expect(args.resolution).toEqual({ decision: 'use_loser' });
    expect((await screen.findByTestId('review-notice')).textContent).toContain('Keputusan tersimpan');
  });

  it('writes a typed value and keeps what was typed when it is refused', async () => {
    let refuse = true;
    const fake = installFake({
      review_queue: () => queue(),
      resolve_conflict: () => {
        if (refuse) throw appError('validation.date_in_future', 'value', { today: '2025-11-22' });
        return 'r2';
      },
    });
    render(Review);
    await fireEvent.click(await screen.findByTestId('conflict-0-correct'));
    const input = screen.getByTestId('conflict-0-corrected') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '01/01/2030' } });
    await fireEvent.click(screen.getByTestId('conflict-0-save-corrected'));
    await waitFor(() => expect(fake.called('resolve_conflict')).toHaveLength(1));
    expect(fake.called('resolve_conflict')[0].resolution).toEqual({ decision: 'corrected', value: '2030-01-01' });
    expect(await screen.findByTestId('conflict-0-error')).toBeTruthy();
    expect((screen.getByTestId('conflict-0-corrected') as HTMLInputElement).value).toBe('01/01/2030');
    refuse = false;
    await fireEvent.input(screen.getByTestId('conflict-0-corrected'), { target: { value: '01/01/2024' } });
    await fireEvent.click(screen.getByTestId('conflict-0-save-corrected'));
    await waitFor(() => expect(fake.called('resolve_conflict')).toHaveLength(2));
    expect(fake.called('resolve_conflict')[1].resolution).toEqual({ decision: 'corrected', value: '2024-01-01' });
  });

  it('dismisses a pair and opens the correction form of a data problem', async () => {
    const fake = installFake({ review_queue: () => queue(), dismiss_duplicate: () => 'd1' });
    render(Review);
    await fireEvent.click(await screen.findByTestId('pair-0-not-same'));
    await waitFor(() => expect(fake.called('dismiss_duplicate')).toEqual([{ first: 'a1', second: 'b2', note: null }]));
    await fireEvent.click(screen.getByTestId('problem-0-open'));
    expect(router.route).toEqual({ name: 'profile', id: 'c3' });
  });

  it('shows a kader no conflicts, only what she may resolve', async () => {
    session.user = kader;
    installFake({
      review_queue: () => queue({ counts: { conflicts: 0, duplicates: 1, problems: 1, total: 2, supervisor: false }, conflicts: [] }),
    });
    render(Review);
    expect(await screen.findByTestId('review-kader-note')).toBeTruthy();
    expect(screen.queryByTestId('review-conflicts')).toBeNull();
    expect(screen.getByTestId('review-duplicates-count').textContent).toBe('1');
  });
});

const comparison = (): PairComparison => {
  const tl = (p: PersonSummary, kinds: string[]) => ({
    person: p,
    merged_from: [],
    entries: kinds.map((k, i) => ({ id: `${p.id}-${i}`, kind: k, date: '2025-10-0' + (i + 1), body: {}, supersedes: null, superseded_by: null })),
    pregnancies: [],
    referrals: [],
    growth: [],
  });
  return {
    first: { timeline: tl(person('a1', 'Yosef Fiktif'), ['measurement', 'visit']), household: null, visits: 1 },
    second: {
      timeline: tl(person('b2', 'Yosep Fiktif'), ['measurement', 'measurement', 'visit']),
      household: { id: 'h2', posyandu: 'P02', head_name: 'Keluarga B', dusun: 'Dusun B', rt: '002', members: ['Yosep Fiktif'] },
      visits: 1,
    },
    fields: [
      { field: 'name', first: 'Yosef Fiktif', second: 'Yosep Fiktif', same: false },
      { field: 'birth_date', first: '2024-02-14', second: '2024-02-14', same: true },
      { field: 'nik', first: '5304011402240001', second: null, same: false },
    ],
  };
};

describe('a pair side by side', () => {
  beforeEach(() => {
    session.user = bidan;
  });

  it('merges into the chosen record, taking the chosen fields', async () => {
    const fake = installFake({ compare_pair: () => comparison(), merge_same_person: () => 'm1' });
    render(ReviewPair, { first: 'a1', second: 'b2' });
    // The record with the longer history is kept by default; its empty NIK is filled.
    expect(((await screen.findByTestId('pair-keep-second')) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId('pair-second-household').textContent ?? '').trim()).toContain('Keluarga B');
    await fireEvent.click(screen.getByTestId('pair-field-name-first'));
    await fireEvent.click(screen.getByTestId('pair-same'));
    await waitFor(() => expect(fake.called('merge_same_person')).toHaveLength(1));
    expect(fake.called('merge_same_person')[0]).toEqual({ kept: 'b2', merged: 'a1', take: ['name', 'nik'], reason: null });
    expect(router.route).toEqual({ name: 'profile', id: 'b2' });
  });

  it('lets a kader only dismiss', async () => {
    session.user = kader;
    const fake = installFake({ compare_pair: () => comparison(), dismiss_duplicate: () => 'd1' });
    render(ReviewPair, { first: 'a1', second: 'b2' });
    expect(await screen.findByTestId('pair-supervisor-only')).toBeTruthy();
    expect(screen.queryByTestId('pair-same')).toBeNull();
    await fireEvent.click(screen.getByTestId('pair-not-same'));
    await waitFor(() => expect(fake.called('dismiss_duplicate')).toHaveLength(1));
    expect(router.route).toEqual({ name: 'review' });
  });
});
