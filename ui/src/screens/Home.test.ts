import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Home from './Home.svelte';
import { appError, home, installFake, personSummary } from '../test/fake';
import type { PersonTasks } from '../lib/api';

/** Person `i` of a list, with one task (and a data problem for every third). */
const due = (i: number): PersonTasks => ({
  person: personSummary({ id: `p${i}`, name: `Anak ${String(i).padStart(3, '0')}`, sex: 'female' }),
  tasks: [
    {
      kind: 'growth_monitoring',
      priority: 'normal',
      due: '2025-11-22',
      reason: { key: 'task.growth_monitoring', id: 'Timbang', en: 'Weigh' },
      params: {},
      form: 'posyandu_measurement',
    },
  ],
  problems: [],
});

const list = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => due(from + k));

describe('Beranda', () => {
  it('shows the first page with the whole list\'s counts and fetches the next pages from the shell', async () => {
    const fake = installFake({
      home: () => home({ tasks: list(0, 30), due: { persons: 65, tasks: 80 } }),
      home_tasks: (a) => {
        const offset = a.offset as number;
        const limit = a.limit as number;
        const end = Math.min(65, offset + limit);
        return { tasks: list(offset, end), next: end, persons: 65 };
      },
    });
    render(Home);
    await screen.findByTestId('task-person-p29');
    expect(screen.getByTestId('tasks-count').textContent).toBe('80');
    expect(screen.queryByTestId('task-person-p30')).toBeNull();
    const more = screen.getByTestId('tasks-more');
    expect(more.textContent).toContain('35');
    await fireEvent.click(more);
    await screen.findByTestId('task-person-p59');
    expect(fake.called('home_tasks')).toEqual([{ offset: 30, limit: 30 }]);
    expect(screen.getByTestId('tasks-more').textContent).toContain('5');
    await fireEvent.click(screen.getByTestId('tasks-more'));
    await screen.findByTestId('task-person-p64');
    expect(fake.called('home_tasks')).toEqual([
      { offset: 30, limit: 30 },
      { offset: 60, limit: 30 },
    ]);
    expect(screen.queryByTestId('tasks-more')).toBeNull();
    // In the list's order, each person once.
    const shown = screen.getAllByTestId(/^task-person-/).map((e) => e.dataset.testid);
    expect(shown).toEqual(list(0, 65).map((p) => `task-person-${p.person.id}`));
  });

  it('skips a person a page brings again', async () => {
    installFake({
      home: () => home({ tasks: list(0, 30), due: { persons: 40, tasks: 40 } }),
      home_tasks: () => {
        // A person planned again came back on the next page (the list changed meanwhile).
        return { tasks: [due(29), ...list(30, 35)], next: 60, persons: 40 };
      },
    });
    render(Home);
    await screen.findByTestId('task-person-p29');
    await fireEvent.click(screen.getByTestId('tasks-more'));
    await screen.findByTestId('task-person-p34');
    expect(screen.getAllByTestId('task-person-p29')).toHaveLength(1);
    // Everything the shell had is shown: no button for persons it skipped.
    expect(screen.queryByTestId('tasks-more')).toBeNull();
  });

  it('shows an error under the list when a page fails, and keeps what it has', async () => {
    installFake({
      home: () => home({ tasks: list(0, 30), due: { persons: 31, tasks: 31 } }),
      home_tasks: () => {
        throw appError('app.locked');
      },
    });
    render(Home);
    await screen.findByTestId('task-person-p29');
    await fireEvent.click(screen.getByTestId('tasks-more'));
    await screen.findByTestId('tasks-more-error');
    await waitFor(() => expect((screen.getByTestId('tasks-more') as HTMLButtonElement).disabled).toBe(false));
    expect(screen.getAllByTestId(/^task-person-/)).toHaveLength(30);
  });
});
