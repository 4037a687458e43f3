//! The health reports from kept per-posyandu parts (`readmodel::parts`) equal a fresh
//! computation of the whole place, after random pushes: weighings (some recorded at another
//! posyandu than the child's), corrections, deletions, new children, deaths, immunisations,
//! pregnancies with ANC contacts and LiLA/Hb, and person merges across posyandu — for every
//! report kind at the kabupaten, a desa and a posyandu. Then a quarantine and its release, a
//! place renamed, and a new cache (a restarted server) give the same answers too.

use crate::common::{Backend, TestDb, now_ms};
use chrono::Datelike;
use district_server::Storage;
use district_server::readmodel::parts::{self, PartCache};
use district_server::readmodel::warm;
use district_server::readmodel::{
    Cell, Param, immunisation, monthly, nutrition, pregnancies, reports,
};
use district_server::sync::PushContext;
use health_rules::kms::YearMonth;
use serde_json::{Value, json};
use std::sync::Arc;
use sync_protocol::{Change, ClockPolicy, DeviceId, EntityKind, Hlc, OutcomeStatus, RecordId};

both_backends!(kept_parts_equal_a_fresh_computation_after_random_pushes);

const KAB: &str = "53.04";
const DESA: &str = "53.04.05.2002";
const POSYANDU: &str = "53.04.05.2003.P01";

/// Every report kind at `place`, from the kept parts and computed afresh, as JSON.
async fn both_ways(
    cache: &PartCache,
    s: &dyn Storage,
    place: &str,
    today: chrono::NaiveDate,
) -> Vec<(String, Value, Value)> {
    let month = YearMonth {
        year: today.year(),
        month: today.month(),
    };
    let first = today.with_day(1).unwrap();
    let cohort = today - chrono::Days::new(365 * 2);
    let v = |x: &dyn erased::Ser| x.json();
    vec![
        (
            format!("skdn {place}"),
            v(&parts::skdn(cache, s, KAB, place, month).await.unwrap()),
            v(&monthly::skdn(s, KAB, place, month).await.unwrap()),
        ),
        (
            format!("nutrition {place}"),
            v(&parts::nutrition(cache, s, KAB, place, first, today)
                .await
                .unwrap()),
            v(&nutrition::nutrition(s, KAB, place, first, today)
                .await
                .unwrap()),
        ),
        (
            format!("followup {place}"),
            v(&parts::followup(cache, s, KAB, place, today).await.unwrap()),
            v(&nutrition::followup(s, KAB, place, today).await.unwrap()),
        ),
        (
            format!("pregnancies {place}"),
            v(&parts::pregnancies(cache, s, KAB, place, month)
                .await
                .unwrap()),
            v(&pregnancies::pregnancies(s, KAB, place, month)
                .await
                .unwrap()),
        ),
        (
            format!("immunisation {place}"),
            v(&parts::coverage(cache, s, KAB, place, cohort, today, today)
                .await
                .unwrap()),
            v(&immunisation::coverage(s, KAB, place, cohort, today, today)
                .await
                .unwrap()),
        ),
    ]
}

/// Serialising any answer to a JSON value behind one trait object.
mod erased {
    pub trait Ser {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

async fn check(cache: &PartCache, s: &dyn Storage, today: chrono::NaiveDate, when: &str) {
    for place in [KAB, DESA, POSYANDU] {
        for (what, kept, fresh) in both_ways(cache, s, place, today).await {
            assert!(!fresh.is_null(), "{what}: no answer");
            assert_eq!(kept, fresh, "{what} after {when}: kept parts != fresh");
        }
    }
}

/// A small deterministic generator (the seed is printed on failure through `when`).
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Persons of the read model: (id, posyandu, name, sex, birth date).
async fn persons(s: &dyn Storage) -> Vec<(String, String, String, String, String)> {
    s.read_rows(
        "SELECT id, posyandu, name, sex, birth_date FROM persons
         WHERE deleted = 0 AND status = 'active' ORDER BY id"
            .into(),
        Vec::<Param>::new(),
    )
    .await
    .unwrap()
    .into_iter()
    .filter_map(|r| {
        let t = |i: usize| r.get(i).and_then(Cell::text).map(str::to_string);
        Some((t(0)?, t(1)?, t(2)?, t(3)?, t(4)?))
    })
    .collect()
}

/// One random batch of 1–6 changes by the perawat of the puskesmas (every kind, every
/// posyandu of Halilulik).
async fn random_batch(
    s: &dyn Storage,
    rng: &mut Rng,
    device: DeviceId,
    author: sync_protocol::UserId,
    seq: &mut u64,
    today: chrono::NaiveDate,
) -> Vec<Change> {
    let people = persons(s).await;
    let posyandu: Vec<String> = district_server::demodata::POSYANDU
        .iter()
        .map(|p| p.code.to_string())
        .collect();
    let day = |rng: &mut Rng| {
        let d =
            today - chrono::Days::new(rng.next(usize::try_from(today.day0()).unwrap() + 1) as u64);
        d.format("%Y-%m-%d").to_string()
    };
    let mut out: Vec<(RecordId, EntityKind, Value, Option<RecordId>, bool)> = Vec::new();
    for _ in 0..1 + rng.next(6) {
        let p = &people[rng.next(people.len())];
        let (pid, ppos) = (p.0.clone(), p.1.clone());
        match rng.next(10) {
            0 | 1 => {
                // A weighing, sometimes recorded at another posyandu than the child's.
                let at = if rng.next(4) == 0 {
                    posyandu[rng.next(posyandu.len())].clone()
                } else {
                    ppos
                };
                out.push((
                    RecordId::new_v7(),
                    EntityKind::Measurement,
                    json!({"posyandu": at, "person": pid, "type": "weight",
                           "value": 4.0 + rng.next(140) as f64 / 10.0, "unit": "kg", "date": day(rng)}),
                    None,
                    false,
                ));
            }
            2 => {
                // A correction or a deletion of one of the person's measurements.
                let facts = s
                    .read_rows(
                        "SELECT id, posyandu FROM facts WHERE person = ?1 AND kind = 'measurement'
                         AND deleted = 0 ORDER BY id"
                            .into(),
                        vec![Param::Text(pid.clone())],
                    )
                    .await
                    .unwrap();
                let Some(f) = facts.get(rng.next(facts.len().max(1))) else {
                    continue;
                };
                let (Some(fid), Some(fpos)) = (f[0].text(), f[1].text()) else {
                    continue;
                };
                let fid: RecordId = fid.parse().unwrap();
                if rng.next(2) == 0 {
                    out.push((fid, EntityKind::Measurement, json!({}), None, true));
                } else {
                    out.push((
                        RecordId::new_v7(),
                        EntityKind::Measurement,
                        json!({"posyandu": fpos, "person": pid, "type": "weight",
                               "value": 3.0 + rng.next(150) as f64 / 10.0, "unit": "kg", "date": day(rng)}),
                        Some(fid),
                        false,
                    ));
                }
            }
            3 => {
                // A new child, weighed and given BCG.
                let at = posyandu[rng.next(posyandu.len())].clone();
                let child = RecordId::new_v7();
                let born = (today - chrono::Days::new(30 + rng.next(900) as u64))
                    .format("%Y-%m-%d")
                    .to_string();
                out.push((
                    child,
                    EntityKind::Person,
                    json!({"posyandu": at, "name": format!("Anak Uji {}", rng.next(1000)),
                           "sex": if rng.next(2) == 0 {"male"} else {"female"}, "birth_date": born}),
                    None,
                    false,
                ));
                out.push((
                    RecordId::new_v7(),
                    EntityKind::Measurement,
                    json!({"posyandu": at, "person": child.to_string(), "type": "weight",
                           "value": 6.5, "unit": "kg", "date": day(rng)}),
                    None,
                    false,
                ));
                out.push((
                    RecordId::new_v7(),
                    EntityKind::Immunisation,
                    json!({"posyandu": at, "person": child.to_string(), "vaccine": "BCG", "date": born}),
                    None,
                    false,
                ));
            }
            4 => {
                // Died this month.
                out.push((
                    pid.parse().unwrap(),
                    EntityKind::Person,
                    json!({"posyandu": ppos, "name": p.2, "sex": p.3, "birth_date": p.4,
                           "status": "died", "status_date": day(rng)}),
                    None,
                    false,
                ));
            }
            5 => {
                let vaccine = ["HB0", "BCG", "DPT-HB-Hib 1", "Polio 1", "MR1"][rng.next(5)];
                out.push((
                    RecordId::new_v7(),
                    EntityKind::Immunisation,
                    json!({"posyandu": ppos, "person": pid, "vaccine": vaccine, "date": day(rng)}),
                    None,
                    false,
                ));
            }
            6 | 7 => {
                // A pregnancy of a woman with ANC contacts, a LiLA and an Hb this month.
                if p.3 != "female" {
                    continue;
                }
                let g = RecordId::new_v7();
                let hpht = (today - chrono::Days::new(40 + rng.next(200) as u64))
                    .format("%Y-%m-%d")
                    .to_string();
                out.push((
                    g,
                    EntityKind::Pregnancy,
                    json!({"posyandu": ppos, "person": pid, "hpht": hpht, "status": "ongoing"}),
                    None,
                    false,
                ));
                for n in 1..=1 + rng.next(5) {
                    out.push((
                        RecordId::new_v7(),
                        EntityKind::AncContact,
                        json!({"posyandu": ppos, "person": pid, "pregnancy": g.to_string(),
                               "contact": n, "date": day(rng)}),
                        None,
                        false,
                    ));
                }
                out.push((
                    RecordId::new_v7(),
                    EntityKind::Measurement,
                    json!({"posyandu": ppos, "person": pid, "type": "muac",
                           "value": 21.0 + rng.next(50) as f64 / 10.0, "unit": "cm", "date": day(rng)}),
                    None,
                    false,
                ));
                out.push((
                    RecordId::new_v7(),
                    EntityKind::Measurement,
                    json!({"posyandu": ppos, "person": pid, "type": "hb",
                           "value": 9.0 + rng.next(40) as f64 / 10.0, "unit": "g/dL", "date": day(rng)}),
                    None,
                    false,
                ));
            }
            _ => {
                // Two persons (often of two posyandu) found to be one; neither merged
                // before (merging a merged person twice makes "whose facts" ambiguous).
                let q = &people[rng.next(people.len())];
                let merged = s
                    .read_rows(
                        "SELECT COUNT(*) FROM facts WHERE kind = 'person_merge'
                         AND (person IN (?1, ?2) OR subject IN (?1, ?2))"
                            .into(),
                        vec![Param::Text(pid.clone()), Param::Text(q.0.clone())],
                    )
                    .await
                    .unwrap();
                let already = merged
                    .first()
                    .and_then(|r| r.first())
                    .and_then(Cell::int)
                    .unwrap_or(1);
                if q.0 == pid || already > 0 {
                    continue;
                }
                out.push((
                    RecordId::new_v7(),
                    EntityKind::PersonMerge,
                    json!({"posyandu": ppos, "kept": pid, "merged": q.0}),
                    None,
                    false,
                ));
            }
        }
    }
    let now = now_ms();
    out.into_iter()
        .enumerate()
        .map(|(i, (id, kind, body, supersedes, tombstone))| {
            *seq += 1;
            Change {
                id,
                kind,
                device,
                seq: *seq,
                hlc: Hlc {
                    wall_ms: now.saturating_sub(1_000),
                    counter: u16::try_from(i).unwrap(),
                },
                author,
                schema: sync_protocol::schema::SCHEMA_VERSION,
                tombstone,
                supersedes,
                base: Default::default(),
                body: body.as_object().cloned().unwrap_or_default(),
            }
        })
        .collect()
}

async fn kept_parts_equal_a_fresh_computation_after_random_pushes(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    let now = crate::demo_with_history(s).await;
    let today = reports::today(now);
    let device = DeviceId::new_v7();
    let (author, role) =
        crate::convergence::enrol(s, district_server::demodata::PERAWAT, device).await;
    let ctx = Arc::new(PushContext {
        device,
        user: author,
        role,
        scope_posyandu: s
            .posyandu_under("53.04.PKM07".into())
            .await
            .unwrap()
            .into_iter()
            .collect(),
        now_ms: now_ms(),
        today: district_server::model::today_for_validation(now_ms()),
        clock: ClockPolicy::default(),
    });

    let cache = PartCache::default();
    check(&cache, s, today, "the demo history").await;
    assert!(!cache.is_empty(), "parts are kept");

    // One weighing at one posyandu: only that posyandu's part is computed again.
    let child = persons(s)
        .await
        .into_iter()
        .find(|p| p.1 == POSYANDU)
        .expect("a person of the posyandu");
    let before = cache.computed();
    let weighing = Change {
        id: RecordId::new_v7(),
        kind: EntityKind::Measurement,
        device,
        seq: 1,
        hlc: Hlc {
            wall_ms: now_ms(),
            counter: 0,
        },
        author,
        schema: sync_protocol::schema::SCHEMA_VERSION,
        tombstone: false,
        supersedes: None,
        base: Default::default(),
        body: json!({"posyandu": POSYANDU, "person": child.0, "type": "weight", "value": 9.5,
                     "unit": "kg", "date": today.format("%Y-%m-%d").to_string()})
        .as_object()
        .cloned()
        .unwrap(),
    };
    let r = s.push(ctx.clone(), vec![weighing]).await.unwrap();
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Accepted, "{r:?}");
    let month = YearMonth {
        year: today.year(),
        month: today.month(),
    };
    let kept = parts::skdn(&cache, s, KAB, KAB, month).await.unwrap();
    assert_eq!(
        serde_json::to_value(&kept).unwrap(),
        serde_json::to_value(monthly::skdn(s, KAB, KAB, month).await.unwrap()).unwrap()
    );
    assert_eq!(
        cache.computed() - before,
        1,
        "only the pushed posyandu's part"
    );

    let seed = 0x5eed_0013 ^ now;
    let mut rng = Rng(seed | 1);
    let mut seq = 1;
    let rounds = if b == Backend::Sqlite { 16 } else { 10 };
    let mut accepted = 0;
    for round in 0..rounds {
        let batch = random_batch(s, &mut rng, device, author, &mut seq, today).await;
        let kinds: Vec<EntityKind> = batch.iter().map(|c| c.kind).collect();
        let result = s.push(ctx.clone(), batch).await.unwrap();
        accepted += result
            .outcomes
            .iter()
            .filter(|o| o.status == OutcomeStatus::Accepted)
            .count();
        check(
            &cache,
            s,
            today,
            &format!("push {round} {kinds:?} (seed {seed})"),
        )
        .await;
    }
    assert!(
        accepted > rounds,
        "the random pushes were accepted: {accepted}"
    );

    // Targeted: a merge, a quarantine and a release make only the posyandu they touch
    // stale (a full recomputation would compute every posyandu for each of the 5 reports).
    let all = s.posyandu_under(KAB.into()).await.unwrap().len() as u64;
    assert!(all > 10, "{all} posyandu");
    let targeted = |what: &str, before: u64, after: u64| {
        assert!(
            after - before < all,
            "{what}: {} parts computed again, of {all} posyandu x 5 reports",
            after - before
        );
    };
    let in_merges: std::collections::HashSet<String> = s
        .read_rows(
            "SELECT person, subject FROM facts WHERE kind = 'person_merge'".into(),
            Vec::<Param>::new(),
        )
        .await
        .unwrap()
        .iter()
        .flat_map(|r| r.iter().filter_map(|c| c.text().map(str::to_string)))
        .collect();
    let people: Vec<_> = persons(s)
        .await
        .into_iter()
        .filter(|p| !in_merges.contains(&p.0))
        .collect();
    let kept = people.iter().find(|p| p.1 == POSYANDU).expect("a person");
    let other = people
        .iter()
        .find(|p| p.1 != POSYANDU && p.0 != kept.0)
        .expect("a person of another posyandu");
    seq += 1;
    let merge = Change {
        id: RecordId::new_v7(),
        kind: EntityKind::PersonMerge,
        device,
        seq,
        hlc: Hlc {
            wall_ms: now_ms(),
            counter: 0,
        },
        author,
        schema: sync_protocol::schema::SCHEMA_VERSION,
        tombstone: false,
        supersedes: None,
        base: Default::default(),
        body: json!({"posyandu": POSYANDU, "kept": kept.0, "merged": other.0})
            .as_object()
            .cloned()
            .unwrap(),
    };
    let r = s.push(ctx.clone(), vec![merge]).await.unwrap();
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Accepted, "{r:?}");
    let merge_sseq = s
        .read_rows("SELECT MAX(sseq) FROM changes".into(), Vec::<Param>::new())
        .await
        .unwrap()[0][0]
        .int()
        .unwrap();
    let before = cache.computed();
    check(&cache, s, today, &format!("a merge (seed {seed})")).await;
    targeted("a merge", before, cache.computed());

    // A quarantine and its release.
    let logged = s
        .list_changes(district_server::storage::ChangeFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let sseq = logged[0].sseq.to_string();
    district_server::quarantine::set(s, &sseq, true, "uji")
        .await
        .unwrap();
    let before = cache.computed();
    check(&cache, s, today, "a quarantine").await;
    targeted("a quarantine", before, cache.computed());
    district_server::quarantine::set(s, &sseq, false, "uji")
        .await
        .unwrap();
    let before = cache.computed();
    check(&cache, s, today, "a release").await;
    targeted("a release", before, cache.computed());
    // The merge itself quarantined and released: the merge undone, then again.
    for (on, what) in [
        (true, "the merge quarantined"),
        (false, "the merge released"),
    ] {
        district_server::quarantine::set(s, &merge_sseq.to_string(), on, "uji")
            .await
            .unwrap();
        let before = cache.computed();
        check(&cache, s, today, what).await;
        targeted(what, before, cache.computed());
    }
    // A place renamed: everything computed again.
    let mut p = s.place(POSYANDU.into()).await.unwrap().unwrap();
    p.name = "Posyandu Cempaka Baru".into();
    s.import_places(vec![p]).await.unwrap();
    check(&cache, s, today, "a rename").await;

    // A restarted server (no parts kept) answers the same.
    check(&PartCache::default(), s, today, "a restart").await;

    // A restarted server warmed from the questions asked before it (`readmodel::warm`):
    // the same answers, and no part computed when they are asked.
    warm::persist_now(&cache, s).await.unwrap();
    let stored = warm::stored(s).await.unwrap();
    assert_eq!(
        stored.len(),
        15,
        "5 reports x 3 places: {stored:?} {:?}",
        warm::stored_rows(s).await.unwrap()
    );
    let restarted = PartCache::default();
    assert_eq!(warm::warm(&restarted, s, &stored).await, stored.len());
    let warmed = restarted.computed();
    assert!(warmed > 0);
    check(&restarted, s, today, "a warmed restart").await;
    assert_eq!(
        restarted.computed(),
        warmed,
        "every answer from the warmed parts"
    );
    db.finish().await;
}
