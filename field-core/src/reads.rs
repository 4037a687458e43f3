//! Reads: a household with its members, a person's timeline, the roster of a posyandu day,
//! and what waits to sync.

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::validate::{age_months, parse_date};
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use sync_protocol::{Body, RecordId};

/// Columns of `persons p` read into a [`PersonSummary`], in order.
pub(crate) const PERSON_COLS: &str = "p.id, p.posyandu, p.household, p.name, p.sex, p.birth_date,
    p.birth_date_estimated, p.nik, p.mother, p.status, p.values_json";
pub(crate) const PERSON_NCOLS: usize = 11;

/// Life stages of ILP: `records`' (one definition for the tablet and the server).
pub use records::LifeStage;

/// A person as lists show them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonSummary {
    pub id: RecordId,
    pub posyandu: Option<String>,
    pub household: Option<String>,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub birth_date_estimated: bool,
    pub nik: Option<String>,
    pub mother: Option<String>,
    pub status: String,
    /// Age in completed months today (WITA).
    pub age_months: Option<i64>,
    pub life_stage: Option<LifeStage>,
    /// Every current field value.
    pub values: Body,
}

impl PersonSummary {
    pub(crate) fn from_row(r: &rusqlite::Row<'_>, today: NaiveDate) -> rusqlite::Result<Self> {
        let (mut p, values) = Self::from_row_undecoded(r, today)?;
        p.values = serde_json::from_str(&values).unwrap_or_default();
        Ok(p)
    }

    /// [`PersonSummary::from_row`] with `values` left empty and their JSON text returned,
    /// for lists that decode it only for the persons they keep.
    pub(crate) fn from_row_undecoded(
        r: &rusqlite::Row<'_>,
        today: NaiveDate,
    ) -> rusqlite::Result<(Self, String)> {
        let id: String = r.get(0)?;
        let birth: Option<String> = r.get(5)?;
        let values: String = r.get(10)?;
        let age = birth
            .as_deref()
            .and_then(parse_date)
            .map(|b| age_months(b, today));
        Ok((
            PersonSummary {
                id: id.parse().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?,
                posyandu: r.get(1)?,
                household: r.get(2)?,
                name: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                sex: r.get(4)?,
                birth_date: birth,
                birth_date_estimated: r.get(6)?,
                nik: r.get(7)?,
                mother: r.get(8)?,
                status: r.get(9)?,
                age_months: age,
                life_stage: age.map(|m| LifeStage::at(u32::try_from(m).unwrap_or(0))),
                values: Body::new(),
            },
            values,
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdView {
    pub id: RecordId,
    pub values: Body,
    pub deleted: bool,
    pub members: Vec<PersonSummary>,
}

/// One fact in a timeline: `records`' [`records::Fact`] (the same row on the server).
pub type TimelineEntry = records::Fact;

/// A person's history, oldest first, including the facts of records merged into them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub person: PersonSummary,
    pub merged_from: Vec<RecordId>,
    pub entries: Vec<TimelineEntry>,
    pub pregnancies: Vec<Body>,
    pub referrals: Vec<Body>,
    /// Growth results per weighing (health-rules), when the person is under five.
    pub growth: Vec<GrowthPoint>,
}

/// The growth result of one day's measurements (typed WHO assessment and KMS result),
/// computed by `records`.
pub use records::GrowthPoint;

/// A household in a search result ([`Store::search_households`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdHit {
    pub id: RecordId,
    pub posyandu: Option<String>,
    pub head_name: String,
    pub dusun: Option<String>,
    pub rt: Option<String>,
    /// Live, unmerged members.
    pub members: u64,
    /// Names of members that matched the query (best first): "found by member".
    pub matched_members: Vec<String>,
}

/// One person on the roster of a posyandu day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosterEntry {
    pub person: PersonSummary,
    pub pregnant: bool,
    /// The posyandu visit of this day, when the person came.
    pub visit: Option<RecordId>,
    pub household_head: Option<String>,
}

/// What waits to sync, for the status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounts {
    pub pending: u64,
    pub rejected: u64,
    /// Conflicts no supervisor has reviewed.
    pub open_conflicts: u64,
    pub last_pull_ms: Option<u64>,
    pub last_push_ms: Option<u64>,
}

/// What identifies a conflict for ever: the record, the field (`_deleted` for an overridden
/// deletion) and the losing stamp, exactly what a `conflict_review` fact names. Stable while
/// the record is merged again and again (its winner may change; the key does not).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct ConflictKey {
    pub record: RecordId,
    pub field: String,
    pub loser: sync_protocol::Stamp,
}

impl ConflictKey {
    pub fn of(c: &sync_protocol::Conflict) -> Self {
        let (field, loser) = c.subject();
        Self {
            record: c.record,
            field: field.to_string(),
            loser,
        }
    }
}

/// SQL: the conflict row `c` has a live `conflict_review` fact.
pub(crate) const REVIEWED: &str = "EXISTS (
    SELECT 1 FROM facts r WHERE r.subject = c.record_id AND r.kind = 'conflict_review'
      AND r.deleted = 0
      AND json_extract(r.body_json, '$.field') = c.field
      AND json_extract(r.body_json, '$.loser') = c.loser_hlc || '.' || c.loser_device)";

/// The persons whose facts show in `?1`'s timeline: the person and every record merged into
/// them, through chains (A kept B, B kept C). Column `id`.
pub(crate) const MERGED_INTO: &str = "WITH RECURSIVE merged(id) AS (
        SELECT ?1
        UNION
        SELECT f.subject FROM facts f JOIN merged m ON f.person = m.id
         WHERE f.kind = 'person_merge' AND f.deleted = 0 AND f.subject IS NOT NULL)
    SELECT id FROM merged";

/// A record id read back from the database.
pub(crate) fn rid(s: &str) -> Result<RecordId> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("record id {s:?}")))
}

impl Store {
    /// The posyandu the unlocked user may read on this tablet: their scope's posyandu
    /// ([`Store::posyandu_in_scope`]). `None` (no limit) while the user has no scope yet (a
    /// store never logged in to a server: tests, tools). On a shared tablet every user has
    /// logged in, so a kader of one posyandu does not see, through search, a household or a
    /// profile, the records another user's wider scope brought to the tablet.
    pub fn read_scope(&self) -> Result<Option<Vec<String>>> {
        if self.scope()?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.posyandu_in_scope()?))
    }

    /// Whether a record labelled `posyandu` is inside [`Store::read_scope`]. A record without
    /// a posyandu label (none is written today) is not hidden.
    fn readable(&self, posyandu: Option<&str>) -> Result<bool> {
        Ok(match (self.read_scope()?, posyandu) {
            (None, _) | (_, None) => true,
            (Some(scope), Some(p)) => scope.iter().any(|s| s == p),
        })
    }

    /// An SQL condition on `column` (a posyandu code) for [`Store::read_scope`]: empty
    /// without a scope. The codes are inlined as one JSON string literal (single quotes
    /// doubled), so the statement's numbered parameters stay as they are.
    pub(crate) fn scope_condition(&self, column: &str) -> Result<String> {
        Ok(match self.read_scope()? {
            None => String::new(),
            Some(codes) => {
                let json = serde_json::to_string(&codes)?.replace('\'', "''");
                format!(" AND {column} IN (SELECT value FROM json_each('{json}'))")
            }
        })
    }

    /// A person of the unlocked user's scope ([`Store::read_scope`]); one outside it is
    /// [`StoreError::NoSuchRecord`], as if it were not on the tablet.
    pub fn person(&self, id: RecordId) -> Result<PersonSummary> {
        let today = self.today()?;
        let missing = || StoreError::NoSuchRecord {
            kind: "person",
            id: id.to_string(),
        };
        let p = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PERSON_COLS} FROM persons p WHERE p.id = ?1"
            ))?
            .query_row([id.to_string()], |r| PersonSummary::from_row(r, today))
            .optional()?
            .ok_or_else(missing)?;
        if !self.readable(p.posyandu.as_deref())? {
            return Err(missing());
        }
        Ok(p)
    }

    /// A household with its live members (merged duplicates left out). Outside the unlocked
    /// user's scope ([`Store::read_scope`]): [`StoreError::NoSuchRecord`].
    pub fn household(&self, id: RecordId) -> Result<HouseholdView> {
        let missing = || StoreError::NoSuchRecord {
            kind: "household",
            id: id.to_string(),
        };
        let (values, deleted, posyandu): (String, bool, Option<String>) = self
            .conn
            .prepare_cached("SELECT values_json, deleted, posyandu FROM households WHERE id = ?1")?
            .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .ok_or_else(missing)?;
        if !self.readable(posyandu.as_deref())? {
            return Err(missing());
        }
        let today = self.today()?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PERSON_COLS} FROM persons p WHERE p.household = ?1 AND p.deleted = 0
               AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                               AND m.kind = 'person_merge' AND m.deleted = 0)
             ORDER BY p.birth_date"
        ))?;
        let members = stmt
            .query_map([id.to_string()], |r| PersonSummary::from_row(r, today))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(HouseholdView {
            id,
            values: serde_json::from_str(&values)?,
            deleted,
            members,
        })
    }

    /// A person's timeline: their facts and those of person records merged into them, oldest
    /// first; retracted facts left out, corrected ones marked.
    pub fn person_timeline(&self, id: RecordId) -> Result<Timeline> {
        let person = self.person(id)?;
        let mut merged_from = Vec::new();
        {
            let mut stmt = self.conn.prepare_cached(MERGED_INTO)?;
            let rows = stmt.query_map([id.to_string()], |r| r.get::<_, String>(0))?;
            for r in rows {
                let m = rid(&r?)?;
                if m != id {
                    merged_from.push(m);
                }
            }
        }
        let mut ids: Vec<String> = vec![id.to_string()];
        ids.extend(merged_from.iter().map(|m| m.to_string()));
        let mut entries = Vec::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.kind, f.date, f.body_json, f.supersedes, f.person,
                 (SELECT c.id FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0 LIMIT 1)
             FROM facts f WHERE f.person = ?1 AND f.deleted = 0
               AND f.kind NOT IN ('person_merge', 'duplicate_dismissal')
             ORDER BY f.date, f.made_hlc",
        )?;
        for pid in &ids {
            let rows = stmt.query_map([pid], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?;
            for row in rows {
                let (fid, kind, date, body, sup, person, sup_by) = row?;
                entries.push(TimelineEntry {
                    id: rid(&fid)?,
                    kind: serde_json::from_value(Value::String(kind))?,
                    date,
                    body: serde_json::from_str(&body)?,
                    supersedes: sup.as_deref().map(rid).transpose()?,
                    superseded_by: sup_by.as_deref().map(rid).transpose()?,
                    person,
                });
            }
        }
        entries.sort_by(|a, b| a.date.cmp(&b.date));
        let mut pregnancies = Vec::new();
        let mut referrals = Vec::new();
        for (table, out) in [
            ("pregnancies", &mut pregnancies),
            ("referrals", &mut referrals),
        ] {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT id, values_json FROM {table} WHERE person = ?1 AND deleted = 0"
            ))?;
            for pid in &ids {
                let rows = stmt.query_map([pid], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                for row in rows {
                    let (rid_, json) = row?;
                    let mut body: Body = serde_json::from_str(&json)?;
                    body.insert("id".into(), Value::String(rid_));
                    out.push(body);
                }
            }
        }
        let growth = crate::health::growth_points(&person, &entries, &self.rules);
        Ok(Timeline {
            person,
            merged_from,
            entries,
            pregnancies,
            referrals,
            growth,
        })
    }

    /// The roster of a posyandu day: every active, unmerged person of the posyandu, with the
    /// visit of that day's session when they came. Ordered by life stage (youngest first).
    pub fn roster(&self, posyandu: &str, date: &str) -> Result<Vec<RosterEntry>> {
        let today = self.today()?;
        // The day's sessions are looked up once, then their visits; `+v.kind` keeps SQLite off
        // the (kind, posyandu, date) index for `v`, which after ANALYZE it picked to scan every
        // visit of the area for each person (minutes for a posyandu of 250 in a 50,000-person
        // database).
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PERSON_COLS}, h.head_name,
                 (SELECT v.id FROM facts v
                   WHERE v.session IN (SELECT s.id FROM facts s WHERE s.kind = 'posyandu_session'
                                         AND s.posyandu = ?1 AND s.date = ?2)
                     AND +v.kind = 'visit' AND v.person = p.id AND v.deleted = 0 LIMIT 1),
                 EXISTS (SELECT 1 FROM pregnancies g WHERE g.person = p.id AND g.deleted = 0
                         AND g.status = 'ongoing')
             FROM persons p LEFT JOIN households h ON h.id = p.household
             WHERE p.posyandu = ?1 AND p.deleted = 0 AND p.status = 'active'
               AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                               AND m.kind = 'person_merge' AND m.deleted = 0)
             ORDER BY p.birth_date DESC"
        ))?;
        let rows = stmt.query_map(params![posyandu, date], |r| {
            let visit: Option<String> = r.get(PERSON_NCOLS + 1)?;
            Ok((
                PersonSummary::from_row(r, today)?,
                r.get::<_, Option<String>>(PERSON_NCOLS)?,
                visit,
                r.get::<_, bool>(PERSON_NCOLS + 2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (person, head, visit, pregnant) = row?;
            out.push(RosterEntry {
                person,
                pregnant,
                visit: visit.as_deref().map(rid).transpose()?,
                household_head: head,
            });
        }
        Ok(out)
    }

    /// Households of a posyandu, by head name.
    pub fn households(&self, posyandu: &str) -> Result<Vec<(RecordId, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, head_name FROM households WHERE posyandu = ?1 AND deleted = 0 ORDER BY head_name",
        )?;
        let rows = stmt.query_map([posyandu], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, head) = row?;
            out.push((rid(&id)?, head.unwrap_or_default()));
        }
        Ok(out)
    }

    /// Households by name, member and place: the head's name (a substring, any case) or a
    /// member's name (spelling-tolerant, [`Store::search_persons`]) matches `query`; `dusun`
    /// (any case) and `rt` (leading zeros ignored: `1` = `001`) narrow the list. An empty query
    /// lists the households of that dusun/RT by dusun, RT and head's name. Deleted households,
    /// merged-away persons and households outside the unlocked user's scope
    /// ([`Store::read_scope`]) are left out. At most `limit` households, best match first.
    pub fn search_households(
        &self,
        query: &str,
        dusun: Option<&str>,
        rt: Option<&str>,
        limit: usize,
    ) -> Result<Vec<HouseholdHit>> {
        fn blank(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let (dusun, rt) = (blank(dusun), blank(rt));
        let query = query.trim();
        let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
        // Only the households of the unlocked user's scope (a shared tablet).
        let place = format!(
            "h.deleted = 0
            AND (:dusun IS NULL OR h.dusun = :dusun COLLATE NOCASE)
            AND (:rt IS NULL OR ltrim(h.rt, '0') = ltrim(:rt, '0')){}",
            self.scope_condition("h.posyandu")?
        );
        let place_args: [(&str, &dyn rusqlite::ToSql); 2] = [(":dusun", &dusun), (":rt", &rt)];
        // Household id -> names of the members that matched, best first.
        let mut order: Vec<String> = Vec::new();
        let mut matched: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        if query.is_empty() {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT h.id FROM households h WHERE {place}
                 ORDER BY h.dusun, ltrim(h.rt, '0') + 0, h.head_name LIMIT :take"
            ))?;
            let mut args = place_args.to_vec();
            args.push((":take", &limit_sql));
            let rows = stmt.query_map(&args[..], |r| r.get::<_, String>(0))?;
            for row in rows {
                order.push(row?);
            }
        } else {
            // Bounded by the limit: the person search's sources, best first, then the
            // head's name (`domain/search.rs`).
            for (hh, names) in crate::domain::search::search_households(
                &self.conn,
                query,
                &place,
                &place_args,
                limit,
            )? {
                order.push(hh.clone());
                matched.insert(hh, names);
            }
        }
        order.truncate(limit);
        let mut stmt = self.conn.prepare_cached(
            "SELECT h.posyandu, h.head_name, h.dusun, h.rt,
                 (SELECT count(*) FROM persons p WHERE p.household = h.id AND p.deleted = 0
                    AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                                    AND m.kind = 'person_merge' AND m.deleted = 0))
             FROM households h WHERE h.id = ?1",
        )?;
        let mut out = Vec::with_capacity(order.len());
        for hh in order {
            let (posyandu, head, dusun, rt, members) = stmt.query_row([&hh], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            out.push(HouseholdHit {
                id: rid(&hh)?,
                posyandu,
                head_name: head.unwrap_or_default(),
                dusun,
                rt,
                members: u64::try_from(members).unwrap_or(0),
                matched_members: matched.remove(&hh).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// What waits to sync.
    pub fn sync_counts(&self) -> Result<SyncCounts> {
        let (pending, rejected): (i64, i64) = self.conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM outbox WHERE {}),
                        (SELECT count(*) FROM outbox WHERE state = 'rejected')",
                crate::outbox::PENDING
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let open: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM conflicts c WHERE NOT {REVIEWED}"),
            [],
            |r| r.get(0),
        )?;
        let st = self.state()?;
        Ok(SyncCounts {
            pending: u64::try_from(pending).unwrap_or(0),
            rejected: u64::try_from(rejected).unwrap_or(0),
            open_conflicts: u64::try_from(open).unwrap_or(0),
            last_pull_ms: st.last_pull_ms,
            last_push_ms: st.last_push_ms,
        })
    }

    /// Conflicts waiting for review (reviewed ones are left out), oldest first, each with
    /// the key [`Store::review_conflict`] takes.
    pub fn conflicts(&self) -> Result<Vec<(ConflictKey, sync_protocol::Conflict)>> {
        self.conflicts_where(&format!("NOT {REVIEWED}"))
    }

    /// Every conflict this tablet holds, reviewed or not, with whether it was reviewed.
    pub fn all_conflicts(&self) -> Result<Vec<(ConflictKey, sync_protocol::Conflict, bool)>> {
        let reviewed: std::collections::BTreeSet<ConflictKey> = self
            .conflicts_where(REVIEWED)?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        Ok(self
            .conflicts_where("1")?
            .into_iter()
            .map(|(k, c)| {
                let r = reviewed.contains(&k);
                (k, c, r)
            })
            .collect())
    }

    fn conflicts_where(&self, filter: &str) -> Result<Vec<(ConflictKey, sync_protocol::Conflict)>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT c.conflict_json FROM conflicts c WHERE {filter} ORDER BY c.id"
        ))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let c: sync_protocol::Conflict = serde_json::from_str(&row?)?;
            out.push((ConflictKey::of(&c), c));
        }
        Ok(out)
    }
}
