//! The answers of `/v1/records/…` and `/v1/reports/…` (non-health): read from the read
//! tables, always within a scope place through the hierarchy closure (`place_tree`), exactly
//! as pull limits a user to the posyandu at or below their scope.

use super::merge::wita_date;
use super::text;
use super::{Cell, Param};
use crate::Storage;
use crate::storage::StorageError;
use chrono::NaiveDate;
use records::LifeStage;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use sync_protocol::{Hlc, RecordId};

fn int(row: &[Cell], i: usize) -> Option<i64> {
    row.get(i).and_then(Cell::int)
}

fn json(row: &[Cell], i: usize) -> Value {
    row.get(i)
        .and_then(Cell::text)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

/// Today in WITA, the district's zone.
pub fn today(now_ms: u64) -> NaiveDate {
    let hlc = Hlc {
        wall_ms: now_ms,
        counter: 0,
    };
    NaiveDate::parse_from_str(&wita_date(hlc), "%Y-%m-%d").unwrap_or_default()
}

/// Whether `code` is `scope` or below it.
pub async fn in_scope(store: &dyn Storage, scope: &str, code: &str) -> Result<bool, StorageError> {
    let rows = store
        .read_rows(
            "SELECT 1 FROM place_tree WHERE ancestor = ?1 AND code = ?2".into(),
            vec![Param::Text(scope.into()), Param::Text(code.into())],
        )
        .await?;
    Ok(!rows.is_empty())
}

// ---------------------------------------------------------------------------------------------
// A place's tree with counts.

/// Counts at or below one place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub posyandu: u64,
    pub households: u64,
    /// Persons registered and active (not moved away, not died, not deleted).
    pub persons: u64,
    /// `balita`, `school_adolescent`, `adult`, `lansia`, and `unknown` (no birth date, or
    /// one after today).
    pub persons_by_life_stage: BTreeMap<String, u64>,
    /// Tablets (not revoked) enrolled for a user whose area is this place or below it.
    pub tablets: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.posyandu += o.posyandu;
        self.households += o.households;
        self.persons += o.persons;
        self.tablets += o.tablets;
        for (k, v) in &o.persons_by_life_stage {
            *self.persons_by_life_stage.entry(k.clone()).or_default() += v;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceNode {
    pub code: String,
    pub name: String,
    pub level: String,
    pub counts: Counts,
    pub children: Vec<PlaceNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceTree {
    /// The day life stages are counted on (WITA).
    pub as_of: String,
    pub place: PlaceNode,
}

/// The tree under `code` with counts; `None` when `code` is not `scope` or below it.
pub async fn place_tree(
    store: &dyn Storage,
    scope: &str,
    code: &str,
    now_ms: u64,
) -> Result<Option<PlaceTree>, StorageError> {
    if !in_scope(store, scope, code).await? {
        return Ok(None);
    }
    let on = today(now_ms);
    let root = || vec![Param::Text(code.into())];
    let places = store
        .read_rows(
            "SELECT p.code, p.name, p.level, p.parent FROM place_tree t
             JOIN places p ON p.code = t.code WHERE t.ancestor = ?1 ORDER BY p.code"
                .into(),
            root(),
        )
        .await?;
    let mut own: HashMap<String, Counts> = HashMap::new();
    let mut parent: HashMap<String, String> = HashMap::new();
    let mut info: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in &places {
        let (Some(c), Some(name), Some(level)) = (text(r, 0), text(r, 1), text(r, 2)) else {
            continue;
        };
        if level == "posyandu" {
            own.entry(c.clone()).or_default().posyandu += 1;
        }
        if let Some(p) = text(r, 3).filter(|_| c != code) {
            parent.insert(c.clone(), p);
        }
        info.insert(c, (name, level));
    }
    for r in store
        .read_rows(
            "SELECT h.posyandu, COUNT(*) FROM households h JOIN place_tree t ON t.code = h.posyandu
             WHERE t.ancestor = ?1 AND h.deleted = 0 GROUP BY h.posyandu"
                .into(),
            root(),
        )
        .await?
    {
        if let (Some(p), Some(n)) = (text(&r, 0), int(&r, 1)) {
            own.entry(p).or_default().households += n.unsigned_abs();
        }
    }
    for r in store
        .read_rows(
            "SELECT p.posyandu, p.birth_date, COUNT(*) FROM persons p
             JOIN place_tree t ON t.code = p.posyandu
             WHERE t.ancestor = ?1 AND p.deleted = 0 AND p.status = 'active'
             GROUP BY p.posyandu, p.birth_date"
                .into(),
            root(),
        )
        .await?
    {
        let (Some(p), Some(n)) = (text(&r, 0), int(&r, 2)) else {
            continue;
        };
        let stage = text(&r, 1)
            .and_then(|b| NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok())
            .and_then(|b| LifeStage::of(b, on))
            .map_or("unknown", LifeStage::as_str);
        let c = own.entry(p).or_default();
        c.persons += n.unsigned_abs();
        *c.persons_by_life_stage.entry(stage.into()).or_default() += n.unsigned_abs();
    }
    for r in store
        .read_rows(
            "SELECT u.scope_place, COUNT(*) FROM devices d JOIN users u ON u.id = d.user_id
             JOIN place_tree t ON t.code = u.scope_place
             WHERE t.ancestor = ?1 AND d.revoked_at IS NULL GROUP BY u.scope_place"
                .into(),
            root(),
        )
        .await?
    {
        if let (Some(p), Some(n)) = (text(&r, 0), int(&r, 1)) {
            own.entry(p).or_default().tablets += n.unsigned_abs();
        }
    }
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    for (c, p) in &parent {
        if info.contains_key(p) {
            children.entry(p.clone()).or_default().push(c.clone());
        }
    }
    for v in children.values_mut() {
        v.sort();
    }
    fn build(
        code: &str,
        info: &BTreeMap<String, (String, String)>,
        children: &HashMap<String, Vec<String>>,
        own: &HashMap<String, Counts>,
        depth: usize,
    ) -> PlaceNode {
        let mut counts = own.get(code).cloned().unwrap_or_default();
        let mut kids = Vec::new();
        if depth < 16 {
            for k in children.get(code).into_iter().flatten() {
                let node = build(k, info, children, own, depth + 1);
                counts.add(&node.counts);
                kids.push(node);
            }
        }
        let (name, level) = info.get(code).cloned().unwrap_or_default();
        PlaceNode {
            code: code.to_string(),
            name,
            level,
            counts,
            children: kids,
        }
    }
    Ok(Some(PlaceTree {
        as_of: on.format("%Y-%m-%d").to_string(),
        place: build(code, &info, &children, &own, 0),
    }))
}

// ---------------------------------------------------------------------------------------------
// Open referrals.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgeBands {
    pub count: u64,
    /// Made 0–7 days ago.
    pub days_0_7: u64,
    pub days_8_30: u64,
    pub days_over_30: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenReferral {
    pub id: String,
    pub posyandu: String,
    pub person: Option<String>,
    pub person_name: Option<String>,
    /// `made` or `received` (a `done` referral is closed).
    pub status: String,
    /// The day it was made (its first `made` event, else when the record was made, WITA).
    pub made_on: String,
    pub days_open: i64,
    pub reason: Option<String>,
    pub destination: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferralReport {
    pub as_of: String,
    pub by_status: BTreeMap<String, AgeBands>,
    /// Oldest first.
    pub referrals: Vec<OpenReferral>,
}

/// Referrals in `scope` not yet done, by status and by days since made.
pub async fn open_referrals(
    store: &dyn Storage,
    scope: &str,
    now_ms: u64,
) -> Result<ReferralReport, StorageError> {
    let on = today(now_ms);
    let rows = store
        .read_rows(
            "SELECT r.id, r.posyandu, r.person, p.name, r.status, r.made_hlc, r.values_json,
                 (SELECT MIN(e.date) FROM facts e WHERE e.kind = 'referral_event'
                     AND e.subject = r.id AND e.deleted = 0
                     AND e.body_json LIKE '%\"status\":\"made\"%')
             FROM referrals r JOIN place_tree t ON t.code = r.posyandu
             LEFT JOIN persons p ON p.id = r.person
             WHERE t.ancestor = ?1 AND r.deleted = 0 AND COALESCE(r.status, 'made') <> 'done'"
                .into(),
            vec![Param::Text(scope.into())],
        )
        .await?;
    let mut by_status: BTreeMap<String, AgeBands> = BTreeMap::new();
    let mut referrals = Vec::new();
    for r in &rows {
        let Some(id) = text(r, 0) else { continue };
        let made_on = text(r, 7).unwrap_or_else(|| {
            text(r, 5)
                .and_then(|h| h.parse::<Hlc>().ok())
                .map(wita_date)
                .unwrap_or_default()
        });
        let days = NaiveDate::parse_from_str(&made_on, "%Y-%m-%d")
            .map(|d| (on - d).num_days().max(0))
            .unwrap_or(0);
        let status = text(r, 4).unwrap_or_else(|| "made".into());
        let band = by_status.entry(status.clone()).or_default();
        band.count += 1;
        match days {
            0..=7 => band.days_0_7 += 1,
            8..=30 => band.days_8_30 += 1,
            _ => band.days_over_30 += 1,
        }
        let values = json(r, 6);
        let field = |f: &str| values.get(f).and_then(Value::as_str).map(str::to_string);
        referrals.push(OpenReferral {
            id,
            posyandu: text(r, 1).unwrap_or_default(),
            person: text(r, 2),
            person_name: text(r, 3),
            status,
            made_on,
            days_open: days,
            reason: field("reason"),
            destination: field("destination"),
        });
    }
    referrals.sort_by(|a, b| b.days_open.cmp(&a.days_open).then(a.id.cmp(&b.id)));
    Ok(ReferralReport {
        as_of: on.format("%Y-%m-%d").to_string(),
        by_status,
        referrals,
    })
}

// ---------------------------------------------------------------------------------------------
// Tablets.

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tablet {
    pub device_id: String,
    pub name: String,
    /// The user the tablet was enrolled for.
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub area: String,
    pub app_version: String,
    /// Its last contact: the latest of its last push, completed pull, status, login or titip
    /// bundle (ms since the epoch; a status within a minute of the last contact is not
    /// written).
    pub last_sync_at: Option<i64>,
    pub last_push_at: Option<i64>,
    pub last_pull_at: Option<i64>,
    /// Its last contact by titip: a bundle it sealed, handed over by another tablet or a
    /// file (ms since the epoch).
    pub last_relay_at: Option<i64>,
    /// Changes in its outbox the server has not stored, as of its last status report
    /// (`None` for a tablet never seen since enrolment).
    pub waiting_changes: Option<i64>,
    /// No sync for more than `stale_days` days (or never).
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TabletReport {
    pub stale_days: u32,
    pub tablets: Vec<Tablet>,
    pub stale: u64,
}

/// Tablets (not revoked) enrolled for users whose area is `scope` or below it.
pub async fn tablets(
    store: &dyn Storage,
    scope: &str,
    stale_days: u32,
    now_ms: u64,
) -> Result<TabletReport, StorageError> {
    let rows = store
        .read_rows(
            "SELECT d.id, d.name, u.username, u.display_name, u.role, u.scope_place,
                 d.app_version, d.last_sync_at, d.acked_seq, s.reported_seq, d.last_seen_at,
                 s.last_pull_at, d.last_relay_at
             FROM devices d JOIN users u ON u.id = d.user_id
             JOIN place_tree t ON t.code = u.scope_place
             LEFT JOIN device_sync s ON s.device_id = d.id
             WHERE t.ancestor = ?1 AND d.revoked_at IS NULL
             ORDER BY u.scope_place, d.name, d.id"
                .into(),
            vec![Param::Text(scope.into())],
        )
        .await?;
    let limit = i64::from(stale_days).saturating_mul(86_400_000);
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    for r in &rows {
        let push = int(r, 7);
        let pull = int(r, 11);
        let seen = int(r, 10);
        let relay = int(r, 12);
        // Changes delivered by titip count as contact: a tablet that never sees a signal
        // but sends its bundles monthly through the bidan is not stale.
        let last = [push, pull, seen, relay].into_iter().flatten().max();
        // A status only writes a report when something waits (see `http::status`): a device
        // seen without one has nothing waiting.
        let acked = int(r, 8).unwrap_or(0);
        let waiting = match (int(r, 9), seen) {
            (Some(rep), _) => Some((rep - acked).max(0)),
            (None, Some(_)) => Some(0),
            (None, None) => None,
        };
        out.push(Tablet {
            device_id: text(r, 0).unwrap_or_default(),
            name: text(r, 1).unwrap_or_default(),
            username: text(r, 2).unwrap_or_default(),
            display_name: text(r, 3).unwrap_or_default(),
            role: text(r, 4).unwrap_or_default(),
            area: text(r, 5).unwrap_or_default(),
            app_version: text(r, 6).unwrap_or_default(),
            last_sync_at: last,
            last_push_at: push,
            last_pull_at: pull,
            last_relay_at: relay,
            waiting_changes: waiting,
            stale: last.is_none_or(|t| now.saturating_sub(t) > limit),
        });
    }
    Ok(TabletReport {
        stale_days,
        stale: out.iter().filter(|t| t.stale).count() as u64,
        tablets: out,
    })
}

// ---------------------------------------------------------------------------------------------
// One person.

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactView {
    pub id: String,
    pub kind: String,
    pub date: String,
    pub body: Value,
    pub made_hlc: String,
    pub author: String,
    pub deleted: bool,
    pub supersedes: Option<String>,
    /// Live facts that correct this one.
    pub superseded_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedRecord {
    pub id: String,
    pub values: Value,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRecord {
    pub id: String,
    pub posyandu: String,
    /// The merged values of every field.
    pub values: Value,
    pub deleted: bool,
    pub life_stage: Option<String>,
    pub facts: Vec<FactView>,
    pub pregnancies: Vec<LinkedRecord>,
    pub referrals: Vec<LinkedRecord>,
    /// Values that lost without being seen (kept for review), as the merge reports them.
    pub conflicts: Vec<Value>,
}

/// The merged person `id` with its facts; `None` when unknown or outside `scope`.
pub async fn person(
    store: &dyn Storage,
    scope: &str,
    id: RecordId,
    now_ms: u64,
) -> Result<Option<PersonRecord>, StorageError> {
    let idp = || Param::Text(id.to_string());
    let rows = store
        .read_rows(
            "SELECT p.id, p.posyandu, p.values_json, p.deleted, p.birth_date FROM persons p
             WHERE p.id = ?1 AND EXISTS (
                 SELECT 1 FROM place_tree t WHERE t.ancestor = ?2 AND t.code = p.posyandu)"
                .into(),
            vec![idp(), Param::Text(scope.into())],
        )
        .await?;
    let Some(p) = rows.first() else {
        return Ok(None);
    };
    let mut superseded: HashMap<String, Vec<String>> = HashMap::new();
    for r in store
        .read_rows(
            "SELECT s.supersedes, s.id FROM facts s JOIN facts f ON f.id = s.supersedes
             WHERE f.person = ?1 AND s.deleted = 0 ORDER BY s.id"
                .into(),
            vec![idp()],
        )
        .await?
    {
        if let (Some(t), Some(by)) = (text(&r, 0), text(&r, 1)) {
            superseded.entry(t).or_default().push(by);
        }
    }
    let facts = store
        .read_rows(
            "SELECT id, kind, date, body_json, made_hlc, author, deleted, supersedes FROM facts
             WHERE person = ?1 ORDER BY date, made_hlc, id"
                .into(),
            vec![idp()],
        )
        .await?
        .iter()
        .map(|r| {
            let id = text(r, 0).unwrap_or_default();
            FactView {
                superseded_by: superseded.remove(&id).unwrap_or_default(),
                id,
                kind: text(r, 1).unwrap_or_default(),
                date: text(r, 2).unwrap_or_default(),
                body: json(r, 3),
                made_hlc: text(r, 4).unwrap_or_default(),
                author: text(r, 5).unwrap_or_default(),
                deleted: int(r, 6).unwrap_or(0) != 0,
                supersedes: text(r, 7),
            }
        })
        .collect();
    let linked = |rows: Vec<Vec<Cell>>| -> Vec<LinkedRecord> {
        rows.iter()
            .map(|r| LinkedRecord {
                id: text(r, 0).unwrap_or_default(),
                values: json(r, 1),
                deleted: int(r, 2).unwrap_or(0) != 0,
            })
            .collect()
    };
    let pregnancies = linked(
        store
            .read_rows(
                "SELECT id, values_json, deleted FROM pregnancies WHERE person = ?1 ORDER BY id"
                    .into(),
                vec![idp()],
            )
            .await?,
    );
    let referrals = linked(
        store
            .read_rows(
                "SELECT id, values_json, deleted FROM referrals WHERE person = ?1 ORDER BY id"
                    .into(),
                vec![idp()],
            )
            .await?,
    );
    let conflicts = store
        .read_rows(
            "SELECT conflict_json FROM conflicts WHERE record_id = ?1
             ORDER BY field, loser_hlc, loser_device"
                .into(),
            vec![idp()],
        )
        .await?
        .iter()
        .map(|r| json(r, 0))
        .collect();
    let life_stage = text(p, 4)
        .and_then(|b| NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok())
        .and_then(|b| LifeStage::of(b, today(now_ms)))
        .map(|s| s.as_str().to_string());
    Ok(Some(PersonRecord {
        id: text(p, 0).unwrap_or_default(),
        posyandu: text(p, 1).unwrap_or_default(),
        values: json(p, 2),
        deleted: int(p, 3).unwrap_or(0) != 0,
        life_stage,
        facts,
        pregnancies,
        referrals,
        conflicts,
    }))
}
