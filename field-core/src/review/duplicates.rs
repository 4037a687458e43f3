//! Likely duplicates: pairs found on the tablet and by the server, compared side by side,
//! merged ("the same person") or dismissed for good ("not the same").

use crate::domain::DuplicateReason;
use crate::error::Result;
use crate::messages::{Key, invalid};
use crate::reads::{PERSON_COLS, PersonSummary, Timeline, rid};
use crate::store::{Draft, Store};
use crate::validate;
use records::duplicates::{MAX_NAME_GROUP, MAX_NIK_GROUP};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use sync_protocol::{Body, EntityKind, RecordId};

/// Where a pair was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairSource {
    /// By this tablet, from what it holds.
    Device,
    /// By the district server, across the posyandu it sees.
    Server,
    Both,
}

/// A person in a pair, as the list shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonBrief {
    pub person: PersonSummary,
    pub household_head: Option<String>,
    /// Live facts recorded for the person (weighings, visits, doses …).
    pub facts: u64,
}

/// A likely-duplicate pair, `first` < `second` (the canonical order of a dismissal).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicatePair {
    pub first: PersonBrief,
    pub second: PersonBrief,
    pub reasons: Vec<DuplicateReason>,
    pub source: PairSource,
    /// When the server found it (Unix seconds), for a server pair.
    pub found_at: Option<i64>,
}

/// A pair as the server's `GET /v1/records/duplicates` names it (cached on the tablet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerPair {
    pub first: RecordId,
    pub second: RecordId,
    /// `nik` or `name_birth_mother` (another word from a newer server is kept as is).
    pub reason: String,
    pub first_posyandu: Option<String>,
    pub second_posyandu: Option<String>,
    pub found_at: i64,
}

/// A person's household in a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairHousehold {
    pub id: RecordId,
    pub posyandu: Option<String>,
    pub head_name: Option<String>,
    pub dusun: Option<String>,
    pub rt: Option<String>,
    pub members: Vec<String>,
}

/// One person of a comparison: every fact, visit, pregnancy and referral (the timeline),
/// and the household.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairSide {
    pub timeline: Timeline,
    pub household: Option<PairHousehold>,
    pub visits: u64,
}

/// One person field, as each record has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairField {
    pub field: String,
    pub first: Value,
    pub second: Value,
    pub same: bool,
}

/// Two persons side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairComparison {
    pub first: PairSide,
    pub second: PairSide,
    /// The fields a merge may take from either record, in form order.
    pub fields: Vec<PairField>,
}

/// The person fields a merge chooses one by one (the survivor keeps its `posyandu`; its
/// `status` is a separate decision, moved/died).
pub const CHOOSABLE_FIELDS: [&str; 12] = [
    "name",
    "sex",
    "birth_date",
    "birth_date_estimated",
    "nik",
    "mother",
    "household",
    "relation",
    "phone",
    "jkn_number",
    "has_kms",
    "rt",
];

/// SQL: person `p` is live and not merged into another.
const UNMERGED: &str = "p.deleted = 0 AND NOT EXISTS (SELECT 1 FROM facts m
    WHERE m.subject = p.id AND m.kind = 'person_merge' AND m.deleted = 0)";

/// The pair `(a, b)` in canonical order.
pub(crate) fn ordered(a: RecordId, b: RecordId) -> (RecordId, RecordId) {
    if a.to_string() <= b.to_string() {
        (a, b)
    } else {
        (b, a)
    }
}

impl Store {
    /// Likely duplicates in the unlocked user's area: pairs found here (same NIK; same name
    /// by spelling key, same birth date and same mother, as registration warns; more than
    /// `records::duplicates`' MAX_NIK_GROUP / MAX_NAME_GROUP persons of one NIK or of one name,
    /// birth date and mother are a placeholder and propose none) and pairs the
    /// server found, without dismissed pairs (a live `duplicate_dismissal`) and merged or
    /// deleted persons. Server pairs whose persons are not on the tablet are left out.
    pub fn duplicate_pairs(&self) -> Result<Vec<DuplicatePair>> {
        let scope_a = self.scope_condition("a.posyandu")?;
        let scope_b = self.scope_condition("b.posyandu")?;
        let scope_c = self.scope_condition("c.posyandu")?;
        let unmerged = |t: &str| UNMERGED.replace("p.", &format!("{t}."));
        let not_dismissed = "NOT EXISTS (SELECT 1 FROM facts d WHERE d.kind = 'duplicate_dismissal'
            AND d.deleted = 0 AND d.person = a.id AND d.subject = b.id)";
        let (ua, ub, uc) = (unmerged("a"), unmerged("b"), unmerged("c"));
        // Only groups of at most MAX_*_GROUP persons propose pairs (more are a placeholder,
        // as the server's finder says: `records::duplicates`), so a copied test record or a
        // default birth date cannot make the list quadratic.
        let (max_nik, max_name) = (MAX_NIK_GROUP, MAX_NAME_GROUP);
        let sql = format!(
            "WITH niks AS (SELECT c.nik AS nik FROM persons c
                 WHERE c.nik IS NOT NULL AND {uc}{scope_c}
                 GROUP BY c.nik HAVING count(*) BETWEEN 2 AND {max_nik}),
             names AS (SELECT c.name_key AS k, c.birth_date AS d, c.mother AS m FROM persons c
                 WHERE c.name_key IS NOT NULL AND c.name_key != '' AND c.birth_date IS NOT NULL
                   AND {uc}{scope_c}
                 GROUP BY 1, 2, 3 HAVING count(*) BETWEEN 2 AND {max_name})
             SELECT a.id, b.id, 'nik' FROM niks g JOIN persons a ON a.nik = g.nik
               JOIN persons b ON b.nik = a.nik AND b.id > a.id
             WHERE {ua} AND {ub} AND {not_dismissed}{scope_a}{scope_b}
             UNION ALL
             SELECT a.id, b.id, 'name' FROM names g
               JOIN persons a ON a.name_key = g.k AND a.birth_date = g.d AND a.mother IS g.m
               JOIN persons b ON b.name_key = a.name_key AND b.birth_date = a.birth_date
                  AND b.mother IS a.mother AND b.id > a.id
             WHERE {ua} AND {ub} AND {not_dismissed}{scope_a}{scope_b}"
        );
        // (first, second) -> (reasons, source, found_at)
        type Found = (Vec<DuplicateReason>, PairSource, Option<i64>);
        let mut pairs: BTreeMap<(String, String), Found> = BTreeMap::new();
        let add = |pairs: &mut BTreeMap<(String, String), Found>,
                   a: String,
                   b: String,
                   reason: Option<DuplicateReason>,
                   server: Option<i64>| {
            let e = pairs.entry((a, b)).or_insert((
                Vec::new(),
                if server.is_some() {
                    PairSource::Server
                } else {
                    PairSource::Device
                },
                None,
            ));
            if let Some(r) = reason
                && !e.0.contains(&r)
            {
                e.0.push(r);
            }
            match (server, e.1) {
                (Some(at), PairSource::Device) => {
                    e.1 = PairSource::Both;
                    e.2 = Some(at);
                }
                (Some(at), _) => e.2 = Some(at),
                (None, PairSource::Server) => e.1 = PairSource::Both,
                _ => {}
            }
        };
        {
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (a, b, why) = row?;
                let reason = if why == "nik" {
                    DuplicateReason::SameNik
                } else {
                    DuplicateReason::SameNameBirthDateMother
                };
                add(&mut pairs, a, b, Some(reason), None);
            }
        }
        {
            // The server's pairs, checked again against what the tablet holds now (a merge or
            // a dismissal made here since the server answered).
            let mut stmt = self.conn.prepare(&format!(
                "SELECT s.first, s.second, s.reason, max(s.found_at) FROM server_duplicates s
                   JOIN persons a ON a.id = s.first JOIN persons b ON b.id = s.second
                 WHERE {ua} AND {ub} AND {not_dismissed}{scope_a}{scope_b}
                 GROUP BY s.first, s.second, s.reason"
            ))?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (a, b, why, at) = row?;
                let reason = match why.as_str() {
                    "nik" => Some(DuplicateReason::SameNik),
                    "name_birth_mother" => Some(DuplicateReason::SameNameBirthDateMother),
                    _ => None,
                };
                add(&mut pairs, a, b, reason, Some(at));
            }
        }
        let mut out = Vec::with_capacity(pairs.len());
        for ((a, b), (reasons, source, found_at)) in pairs {
            let (Some(first), Some(second)) = (self.brief(&a)?, self.brief(&b)?) else {
                continue;
            };
            out.push(DuplicatePair {
                first,
                second,
                reasons,
                source,
                found_at,
            });
        }
        Ok(out)
    }

    /// A person for the pair list, whatever the read scope (the list's SQL applied it).
    fn brief(&self, id: &str) -> Result<Option<PersonBrief>> {
        let today = self.today()?;
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {PERSON_COLS}, h.head_name,
                     (SELECT count(*) FROM facts f WHERE f.person = p.id AND f.deleted = 0
                        AND f.kind NOT IN ('person_merge', 'duplicate_dismissal'))
                 FROM persons p LEFT JOIN households h ON h.id = p.household WHERE p.id = ?1"
            ))?
            .query_row([id], |r| {
                Ok(PersonBrief {
                    person: PersonSummary::from_row(r, today)?,
                    household_head: r.get(crate::reads::PERSON_NCOLS)?,
                    facts: u64::try_from(r.get::<_, i64>(crate::reads::PERSON_NCOLS + 1)?)
                        .unwrap_or(0),
                })
            })
            .optional()?)
    }

    /// Replaces the server's pairs of `place` with its latest answer.
    pub fn replace_server_duplicates(
        &mut self,
        place: &str,
        pairs: &[ServerPair],
        now_ms: u64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM server_duplicates WHERE place = ?1", [place])?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR REPLACE INTO server_duplicates
                   (place, first, second, reason, first_posyandu, second_posyandu, found_at,
                    fetched_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for p in pairs {
                // Stored in canonical order whatever the answer says.
                let (first, second) = ordered(p.first, p.second);
                if first == second {
                    continue;
                }
                stmt.execute(params![
                    place,
                    first.to_string(),
                    second.to_string(),
                    p.reason,
                    p.first_posyandu,
                    p.second_posyandu,
                    p.found_at,
                    i64::try_from(now_ms).unwrap_or(i64::MAX),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Two persons side by side: their timelines (facts, visits, growth, pregnancies,
    /// referrals), households and the fields a merge chooses between.
    pub fn compare_pair(&self, first: RecordId, second: RecordId) -> Result<PairComparison> {
        let a = self.pair_side(first)?;
        let b = self.pair_side(second)?;
        let fields = CHOOSABLE_FIELDS
            .iter()
            .map(|f| {
                let x = a
                    .timeline
                    .person
                    .values
                    .get(*f)
                    .cloned()
                    .unwrap_or(Value::Null);
                let y = b
                    .timeline
                    .person
                    .values
                    .get(*f)
                    .cloned()
                    .unwrap_or(Value::Null);
                PairField {
                    field: (*f).to_string(),
                    same: x == y,
                    first: x,
                    second: y,
                }
            })
            .collect();
        Ok(PairComparison {
            first: a,
            second: b,
            fields,
        })
    }

    fn pair_side(&self, id: RecordId) -> Result<PairSide> {
        let timeline = self.person_timeline(id)?;
        let household = match timeline.person.household.as_deref() {
            Some(h) => match h.parse::<RecordId>() {
                Ok(hid) => match self.household(hid) {
                    Ok(view) => {
                        let text = |f: &str| {
                            view.values
                                .get(f)
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        };
                        Some(PairHousehold {
                            id: hid,
                            posyandu: text("posyandu"),
                            head_name: text("head_name"),
                            dusun: text("dusun"),
                            rt: text("rt"),
                            members: view.members.iter().map(|m| m.name.clone()).collect(),
                        })
                    }
                    Err(crate::error::StoreError::NoSuchRecord { .. }) => None,
                    Err(e) => return Err(e),
                },
                Err(_) => None,
            },
            None => None,
        };
        let visits = timeline
            .entries
            .iter()
            .filter(|e| e.kind == EntityKind::Visit && e.superseded_by.is_none())
            .count() as u64;
        Ok(PairSide {
            timeline,
            household,
            visits,
        })
    }

    /// "Not the same person": a `duplicate_dismissal` fact for the pair (canonical order,
    /// `posyandu` of `first`), so that no tablet and not the server proposes it again. A pair
    /// already dismissed is not dismissed twice: the live dismissal's id is returned.
    pub fn dismiss_duplicate(
        &mut self,
        a: RecordId,
        b: RecordId,
        note: Option<&str>,
    ) -> Result<RecordId> {
        if a == b {
            return Err(invalid("second", Key::SamePerson, &[]).into());
        }
        let (first, second) = ordered(a, b);
        // Both must be persons the user may read (a kader: her own area).
        self.person(first)?;
        self.person(second)?;
        self.write(|w| {
            let p = validate::person(&w.tx, "first", &first)?;
            validate::person(&w.tx, "second", &second)?;
            let existing: Option<String> =
                w.tx.query_row(
                    "SELECT id FROM facts WHERE kind = 'duplicate_dismissal' AND deleted = 0
                     AND person = ?1 AND subject = ?2 LIMIT 1",
                    [first.to_string(), second.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                return rid(&id);
            }
            let mut body = Body::new();
            body.insert("posyandu".into(), Value::String(p.posyandu));
            body.insert("first".into(), Value::String(first.to_string()));
            body.insert("second".into(), Value::String(second.to_string()));
            if let Some(n) = note.map(str::trim).filter(|n| !n.is_empty()) {
                body.insert("note".into(), Value::String(n.into()));
            }
            w.push(Draft::new(EntityKind::DuplicateDismissal, body))
        })
    }

    /// "The same person": `kept` survives with, for each field named in `take`, the value
    /// `merged` holds (the others stay `kept`'s), and `merged` is linked to it by a
    /// `person_merge`: every fact of both shows on `kept`, nothing is deleted. One write.
    /// Only a bidan, perawat or admin merges ([`Key::SupervisorOnly`]).
    pub fn merge_same_person(
        &mut self,
        kept: RecordId,
        merged: RecordId,
        take: &[String],
        reason: Option<&str>,
    ) -> Result<RecordId> {
        self.require_supervisor("merged")?;
        if kept == merged {
            return Err(invalid("merged", Key::SamePerson, &[]).into());
        }
        self.person(kept)?;
        self.person(merged)?;
        self.write(|w| {
            let k = w.mutable(&kept, EntityKind::Person)?.values();
            let m = w.mutable(&merged, EntityKind::Person)?.values();
            let mut patch = Body::new();
            for f in take {
                if !CHOOSABLE_FIELDS.contains(&f.as_str()) {
                    return Err(invalid(f, Key::UnknownField, &[]).into());
                }
                let v = m.get(f.as_str()).cloned().unwrap_or(Value::Null);
                if k.get(f.as_str()).cloned().unwrap_or(Value::Null) == v {
                    continue;
                }
                if f == "household"
                    && let Value::String(h) = &v
                {
                    let posyandu: Option<String> =
                        w.tx.query_row(
                            "SELECT posyandu FROM households WHERE id = ?1 AND deleted = 0",
                            [h],
                            |r| r.get(0),
                        )
                        .optional()?
                        .flatten();
                    if posyandu.as_ref()
                        != k.get("posyandu")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .as_ref()
                    {
                        return Err(invalid("household", Key::HouseholdElsewhere, &[]).into());
                    }
                }
                if (f == "name" || f == "sex" || f == "birth_date") && v.is_null() {
                    // A required field the other record lacks: keep the survivor's.
                    continue;
                }
                patch.insert(f.clone(), v);
            }
            if !patch.is_empty() {
                w.push(Draft::edit(kept, EntityKind::Person, patch))?;
            }
            crate::domain::records::push_merge(w, kept, merged, reason)
        })
    }
}
