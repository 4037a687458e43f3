//! Beranda's due list a page at a time. A bidan's kecamatan is tens of thousands of persons
//! with a task (its whole answer is over 100 MiB); the screen shows 30 at a time. The list is
//! computed once, handed out person by person ([`Store::for_each_due_in_scope`]), keeping only
//! each person's place in Beranda's order ([`DueIndex`], about 100 bytes a person) and the
//! first page itself (a bounded heap). A later page ("Tampilkan lagi") plans again only the
//! posyandu of its persons ([`Store::due_tasks`]), which gives each person the same tasks.
//!
//! The order is today's: the most pressing task (urgent, high, normal; persons with only data
//! problems last), then the name, then the order the scope hands them out in (posyandu by
//! posyandu, youngest first).

use field_core::{PersonTasks, RuleOptions, Store, StoreError};
use health_rules::tasks::{Priority, TaskKind};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use sync_protocol::RecordId;

/// Persons a page holds (the UI's page).
pub const PAGE: usize = 30;
/// The most persons one request may ask for.
pub const MAX_PAGE: usize = 500;

/// A person's most pressing task, for Beranda's order (urgent, high, normal; persons with
/// only data problems last).
fn priority_rank(t: &PersonTasks) -> u8 {
    match t.top_priority() {
        Some(Priority::Urgent) => 0,
        Some(Priority::High) => 1,
        Some(Priority::Normal) => 2,
        None => 3,
    }
}

/// A person's place in Beranda's order: compared field by field, `seq` (the order the scope
/// hands them out in) last, so that sorting by it is the stable sort by rank and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    rank: u8,
    name: String,
    seq: u32,
}

impl Key {
    fn of(t: &PersonTasks, seq: u32) -> Self {
        Self {
            rank: priority_rank(t),
            name: t.person.name.clone(),
            seq,
        }
    }
}

/// One person of the list: their place, and where to plan them again.
#[derive(Debug)]
struct Slot {
    key: Key,
    person: RecordId,
    posyandu: Option<String>,
}

/// What Beranda counts of the whole list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DueCounts {
    /// Persons with something due.
    pub persons: u64,
    /// Their tasks and data problems together (the count beside the title).
    pub tasks: u64,
    /// Their "periksa data" tasks (Tinjauan's data problems).
    pub check_data: u64,
}

/// The whole list's order without its answers, and its counts.
#[derive(Debug, Default)]
pub struct DueIndex {
    slots: Vec<Slot>,
    pub counts: DueCounts,
}

/// A person and their tasks in the bounded heap of the first page, ordered by their key.
struct Ranked(Key, PersonTasks);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

/// The user's due list computed once: its order and counts, and its first `first` persons.
pub fn index(
    store: &Store,
    opts: &RuleOptions,
    first: usize,
) -> Result<(DueIndex, Vec<PersonTasks>), StoreError> {
    let mut idx = DueIndex::default();
    // The `first` best so far, the worst on top.
    let mut best: BinaryHeap<Ranked> = BinaryHeap::with_capacity(first + 1);
    let mut seq: u32 = 0;
    store.for_each_due_in_scope(opts, |t| {
        let key = Key::of(&t, seq);
        seq = seq.saturating_add(1);
        idx.counts.persons += 1;
        idx.counts.tasks += (t.tasks.len() + t.problems.len()) as u64;
        idx.counts.check_data += t
            .tasks
            .iter()
            .filter(|d| d.task.kind == TaskKind::CheckData)
            .count() as u64;
        idx.slots.push(Slot {
            key: key.clone(),
            person: t.person.id,
            posyandu: t.person.posyandu.clone(),
        });
        if best.len() < first {
            best.push(Ranked(key, t));
        } else if best.peek().is_some_and(|w| key < w.0) {
            best.pop();
            best.push(Ranked(key, t));
        }
        Ok(())
    })?;
    idx.slots.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    idx.slots.shrink_to_fit();
    let first = best.into_sorted_vec().into_iter().map(|r| r.1).collect();
    Ok((idx, first))
}

/// The persons `offset..offset + limit` of the list in its order, planned again posyandu by
/// posyandu. A person whose plan no longer has a task (a record saved since the list was
/// made) is left out, so a page may hold fewer.
pub fn page(
    store: &Store,
    opts: &RuleOptions,
    idx: &DueIndex,
    offset: usize,
    limit: usize,
) -> Result<Vec<PersonTasks>, StoreError> {
    let start = offset.min(idx.slots.len());
    let end = offset.saturating_add(limit).min(idx.slots.len());
    let wanted = &idx.slots[start..end];
    let at: HashMap<RecordId, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, s)| (s.person, i))
        .collect();
    let mut posyandu: Vec<&str> = Vec::new();
    for s in wanted {
        if let Some(p) = s.posyandu.as_deref()
            && !posyandu.contains(&p)
        {
            posyandu.push(p);
        }
    }
    let mut out: Vec<Option<PersonTasks>> = (0..wanted.len()).map(|_| None).collect();
    for p in posyandu {
        for t in store.due_tasks(p, opts)? {
            if let Some(&i) = at.get(&t.person.id) {
                out[i] = Some(t);
            }
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Today's whole list, collected and sorted as Beranda did before it was paged: kept to check
/// the pages against (tests, the memory measure).
#[doc(hidden)]
pub fn whole_list(store: &Store, opts: &RuleOptions) -> Result<Vec<PersonTasks>, StoreError> {
    let mut tasks = store.due_tasks_in_scope(opts)?;
    tasks.sort_by(|a, b| {
        priority_rank(a)
            .cmp(&priority_rank(b))
            .then_with(|| a.person.name.cmp(&b.person.name))
    });
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_orders_by_rank_then_name_then_the_scope_order() {
        let k = |rank, name: &str, seq| Key {
            rank,
            name: name.into(),
            seq,
        };
        let mut keys = [
            k(2, "Ana", 0),
            k(0, "Zaki", 1),
            k(2, "Ana", 2),
            k(1, "Budi", 3),
            k(0, "Ani", 4),
            k(3, "Ana", 5),
        ];
        keys.sort();
        let order: Vec<u32> = keys.iter().map(|k| k.seq).collect();
        assert_eq!(order, vec![4, 1, 3, 0, 2, 5]);
    }
}
