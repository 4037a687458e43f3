//! Which `person_merge` facts take effect. Merges are facts, so two tablets may record, each
//! offline, decisions that contradict: the same person merged into two different persons, or
//! A kept over B on one tablet and B kept over A on another (a cycle in which both would
//! vanish from every list). Every replica — tablets and the server — applies one rule to the
//! set of live merges, so they agree whatever order the facts arrived in:
//!
//! in stamp order (oldest first), a merge takes effect unless its `merged` person is already
//! merged into someone by an earlier effective merge, or its `kept` person is (through the
//! effective merges so far) merged into its `merged` person, or both name one person.
//!
//! A merge that does not take effect is kept (nothing is lost) but changes nothing: the
//! persons stay as the earlier decision left them.

use std::collections::{BTreeSet, HashMap};
use sync_protocol::{RecordId, Stamp};

/// A live `person_merge` fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeFact {
    pub id: RecordId,
    pub kept: RecordId,
    pub merged: RecordId,
    /// The fact's stamp `(hlc, device)`: the order decisions are taken in.
    pub stamp: Stamp,
}

/// The ids of the merges that take effect (see the module documentation).
pub fn effective(merges: &[MergeFact]) -> BTreeSet<RecordId> {
    let mut ordered: Vec<&MergeFact> = merges.iter().collect();
    ordered.sort_by_key(|m| (m.stamp, m.id));
    // merged person -> the person it was merged into.
    let mut parent: HashMap<RecordId, RecordId> = HashMap::new();
    let mut out = BTreeSet::new();
    for m in ordered {
        if m.kept == m.merged || parent.contains_key(&m.merged) {
            continue;
        }
        // Walk up from `kept`: reaching `merged` means a cycle. Links only point to persons
        // merged earlier, so the walk ends.
        let mut at = m.kept;
        let mut cycle = false;
        let mut steps = 0usize;
        while let Some(&p) = parent.get(&at) {
            if p == m.merged {
                cycle = true;
                break;
            }
            at = p;
            steps += 1;
            if steps > parent.len() {
                break;
            }
        }
        if cycle || at == m.merged {
            continue;
        }
        parent.insert(m.merged, m.kept);
        out.insert(m.id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_protocol::{DeviceId, Hlc};

    struct Ids(Vec<RecordId>, DeviceId);

    impl Ids {
        fn new() -> Self {
            Ids(
                (0..2000).map(|_| RecordId::new_v7()).collect(),
                DeviceId::new_v7(),
            )
        }
        fn id(&self, n: usize) -> RecordId {
            self.0[n]
        }
        fn m(&self, n: usize, kept: usize, merged: usize, t: u64) -> MergeFact {
            MergeFact {
                id: self.id(1000 + n),
                kept: self.id(kept),
                merged: self.id(merged),
                stamp: Stamp {
                    hlc: Hlc {
                        wall_ms: t,
                        counter: 0,
                    },
                    device: self.1,
                },
            }
        }
    }

    #[test]
    fn the_earlier_decision_holds_and_cycles_are_broken() {
        let i = Ids::new();
        // A chain: B into A, then C into B.
        assert_eq!(effective(&[i.m(1, 1, 2, 10), i.m(2, 2, 3, 20)]).len(), 2);
        // Two tablets, opposite survivors: the earlier holds.
        let e = effective(&[i.m(2, 2, 1, 20), i.m(1, 1, 2, 10)]);
        assert_eq!(e.into_iter().collect::<Vec<_>>(), vec![i.id(1001)]);
        // The same person merged into two: the earlier holds.
        let e = effective(&[i.m(1, 1, 3, 10), i.m(2, 2, 3, 20)]);
        assert_eq!(e.into_iter().collect::<Vec<_>>(), vec![i.id(1001)]);
        // A longer cycle A<-B<-C<-A: the last closing merge does not take effect.
        let e = effective(&[i.m(1, 1, 2, 10), i.m(2, 2, 3, 20), i.m(3, 3, 1, 30)]);
        assert_eq!(e.len(), 2);
        assert!(!e.contains(&i.id(1003)));
        // A person merged into itself changes nothing.
        assert!(effective(&[i.m(1, 1, 1, 10)]).is_empty());
    }

    #[test]
    fn any_order_gives_the_same_answer() {
        let i = Ids::new();
        let all = [
            i.m(1, 1, 2, 10),
            i.m(2, 2, 1, 20),
            i.m(3, 3, 2, 15),
            i.m(4, 2, 4, 5),
            i.m(5, 4, 1, 25),
        ];
        let want = effective(&all);
        let mut v = all.to_vec();
        for _ in 0..20 {
            v.rotate_left(1);
            v.swap(0, 3);
            assert_eq!(effective(&v), want);
        }
    }
}
