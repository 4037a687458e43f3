//! What a due list reads of a posyandu, and no more: its active persons (their field values
//! decoded only for those who end up with a task), and the facts only of persons who may
//! have a task (`records::tasks::may_have_tasks`: under-fives and persons with a pregnancy;
//! the plan of anyone else is empty whatever their facts), of those only the kinds and body
//! fields `records::tasks::person_due` looks at (measurements, doses, visits, ANC contacts
//! and screenings; `supplement`, `note` and the rest are never read by the plan).
//!
//! The facts come from `due_facts` (migration V6, kept by triggers on `facts`): per fact its
//! person, date, kind, id, correction link and the few body fields the plan reads, a
//! person's rows together, instead of the person index and a table page of `facts` per few
//! facts with every body whole.
//!
//! The answer is the same as reading every fact whole: the plan only asks for the fields kept
//! here (`records::history` and `records::facts::live_measurements`; a field written `null`
//! reads as an absent one there); the test `due_read_matches_the_full_read`
//! (field-core/tests/due_equivalence.rs) checks it on generated stores, and that the
//! triggers leave `due_facts` as a fill from `facts` would.

use crate::error::{Result, StoreError};
use crate::reads::{PERSON_COLS, PERSON_NCOLS, PersonSummary, TimelineEntry};
use crate::store::Store;
use chrono::NaiveDate;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use sync_protocol::{Body, EntityKind};

/// The fact kinds the plan of a person's tasks reads.
pub(super) const DUE_KINDS: [EntityKind; 5] = [
    EntityKind::Measurement,
    EntityKind::Immunisation,
    EntityKind::Visit,
    EntityKind::AncContact,
    EntityKind::Screening,
];

/// The body fields the plan reads (of any of [`DUE_KINDS`]): a measurement's `type`,
/// `value`, `position`, `visit` and `oedema`; a dose's `vaccine`; a visit's `type`; an ANC
/// contact's `pregnancy`; a screening's `instrument` and `answers`.
const DUE_FIELDS: [&str; 9] = [
    "type",
    "value",
    "position",
    "visit",
    "oedema",
    "vaccine",
    "pregnancy",
    "instrument",
    "answers",
];

/// One active person of a due list; the field values are decoded by [`DuePerson::finish`],
/// for persons with a task only.
pub(crate) struct DuePerson {
    pub person: PersonSummary,
    values_json: String,
}

impl DuePerson {
    /// The person with every field value, as [`PersonSummary::from_row`] gives it.
    pub fn finish(mut self) -> PersonSummary {
        self.person.values = serde_json::from_str(&self.values_json).unwrap_or_default();
        self.person
    }
}

/// A posyandu's roster as a due list reads it ([`Store::due_roster`]).
pub(crate) struct DueRoster {
    /// The persons who may have a task, in the roster's order.
    pub persons: Vec<DuePerson>,
    /// Every person record of the posyandu (deleted and inactive ones too).
    pub all: HashSet<String>,
    /// Those of `persons` edited at or after the list's stamp (their registration day may
    /// matter).
    pub recent: Vec<String>,
}

/// A JSON object's key, borrowed from the text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Decodes a JSON object keeping only [`DUE_FIELDS`]; the other values are checked for
/// syntax and skipped without being built.
struct DueBody;

impl<'de> DeserializeSeed<'de> for DueBody {
    type Value = Body;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Body, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DueBody {
    type Value = Body;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a fact body (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<Body, A::Error> {
        let mut out = Body::new();
        while let Some(Key(k)) = m.next_key::<Key<'de>>()? {
            if DUE_FIELDS.contains(&k.as_ref()) {
                let v: Value = m.next_value()?;
                out.insert(k.into_owned(), v);
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// A stored body with only the fields the due plan reads. Fails where decoding the whole
/// body as a [`Body`] fails (not JSON, not an object, text after it).
pub(crate) fn due_body(json: &str) -> serde_json::Result<Body> {
    let mut de = serde_json::Deserializer::from_str(json);
    let body = DueBody.deserialize(&mut de)?;
    de.end()?;
    Ok(body)
}

/// A text column borrowed from the row (`None` for NULL).
fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Result<Option<&'r str>> {
    r.get_ref(i)?.as_str_or_null().map_err(|e| {
        StoreError::from(rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            Box::new(e),
        ))
    })
}

/// A NOT NULL text column borrowed from the row.
fn text_nn<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str> {
    text(r, i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
}

fn record_id(s: &str) -> Result<sync_protocol::RecordId> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("record id {s:?}")))
}

impl Store {
    /// The active persons of a posyandu not merged into another (`merged`), in the roster's
    /// order (youngest first): [`Store::roster`] without the day's visit, the pregnancy flag
    /// and the household's head, which the plans do not use ([`Store::due_list`] looks up
    /// the heads it shows). Only persons with
    /// a sex and a birth date for which `keep(id, birth)` holds are built (the others' plans
    /// are empty); the rest of the posyandu's rows are read but not decoded.
    ///
    /// Also gives every person record of the posyandu (deleted and inactive ones too; with
    /// the records merged into them, [`Store::due_people`], those whose facts count here) and
    /// the persons kept who were edited at or after `since` (see [`Store::registration_days`]).
    pub(crate) fn due_roster(
        &self,
        posyandu: &str,
        today: NaiveDate,
        since: &str,
        merged: &HashSet<String>,
        keep: impl Fn(&str, NaiveDate) -> bool,
    ) -> Result<DueRoster> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PERSON_COLS}, p.deleted, p.updated_hlc >= ?2 FROM persons p
             WHERE p.posyandu = ?1 ORDER BY p.birth_date DESC"
        ))?;
        let mut rows = stmt.query([posyandu, since])?;
        let mut out = Vec::new();
        let mut all = HashSet::new();
        let mut recent = Vec::new();
        while let Some(r) = rows.next()? {
            let id = text_nn(r, 0)?;
            all.insert(id.to_string());
            let deleted: i64 = r.get(PERSON_NCOLS)?;
            if deleted != 0 || text(r, 9)? != Some("active") {
                continue;
            }
            let (Some(_), Some(birth)) = (
                records::facts::sex(text(r, 4)?),
                text(r, 5)?.and_then(records::facts::parse_date),
            ) else {
                continue;
            };
            if merged.contains(id) || !keep(id, birth) {
                continue;
            }
            if r.get::<_, Option<bool>>(PERSON_NCOLS + 1)? == Some(true) {
                recent.push(id.to_string());
            }
            let (person, values_json) = PersonSummary::from_row_undecoded(r, today)?;
            out.push(DuePerson {
                person,
                values_json,
            });
        }
        Ok(DueRoster {
            persons: out,
            all,
            recent,
        })
    }

    /// The local day each of the persons `ids` was first written (the earliest stamp of
    /// its fields): [`Store::registration_days`] for the persons a due list plans who were
    /// edited since its stamp. The ids are bound as one JSON array (see
    /// [`Store::due_facts_of`]).
    pub(crate) fn registration_days_of(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, NaiveDate>> {
        let mut out = HashMap::new();
        if !ids.is_empty() {
            let mut stmt = self.conn.prepare_cached(
                "SELECT record_id, MIN(hlc) FROM field_edits
                 WHERE record_id IN (SELECT value FROM json_each(?1)) GROUP BY record_id",
            )?;
            let mut rows = stmt.query([serde_json::to_string(ids)?])?;
            while let Some(r) = rows.next()? {
                let hlc: Option<String> = r.get(1)?;
                if let Some(stamp) = hlc.and_then(|h| h.parse::<sync_protocol::Hlc>().ok()) {
                    out.insert(
                        r.get(0)?,
                        crate::clock::local_date_at(stamp.wall_ms, self.utc_offset_ms),
                    );
                }
            }
        }
        Ok(out)
    }

    /// The head's name of one household (deleted ones and those of another posyandu too, as
    /// a join on the household's id finds them); `None` when unknown.
    pub(crate) fn household_head(&self, id: &str) -> Result<Option<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT head_name FROM households WHERE id = ?1")?;
        let mut rows = stmt.query([id])?;
        Ok(match rows.next()? {
            Some(r) => r.get(0)?,
            None => None,
        })
    }

    /// The records whose facts and pregnancies count for a posyandu's persons: its persons
    /// (`persons`, from [`Store::due_roster`]) and the records merged into a person by a
    /// merge recorded in it.
    pub(crate) fn due_people(
        &self,
        posyandu: &str,
        mut persons: HashSet<String>,
    ) -> Result<HashSet<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.subject FROM facts m WHERE m.kind = 'person_merge'
               AND m.deleted = 0 AND m.posyandu = ?1 AND m.subject IS NOT NULL",
        )?;
        let mut rows = stmt.query([posyandu])?;
        while let Some(r) = rows.next()? {
            persons.insert(r.get(0)?);
        }
        Ok(persons)
    }

    /// The live facts of [`DUE_KINDS`] saved under the person records `ids`, grouped by
    /// record, each group in the order of the person index (date, then as written), with
    /// bodies cut to the fields the plan reads. The `person` of each fact is left out (the
    /// grouping holds it).
    ///
    /// They come from `due_facts` (migration V6): a person's due facts are a few short rows
    /// together, where `facts` holds them in table pages of their own with whole bodies.
    ///
    /// The ids are bound as one JSON array, read back by `json_each`, rather than one by one:
    /// with `ANALYZE` statistics, SQLite prepares a statement again for every new value
    /// bound to an indexed column, which per person cost more than the read itself (the
    /// array is an argument of `json_each`, compared with no index). One statement, prepared
    /// once (it was written with the ids in it, 500 a statement: parsing those statements
    /// was a twentieth of a desa's list).
    pub(crate) fn due_facts_of(
        &self,
        ids: &[&str],
        corrected: &HashMap<String, String>,
    ) -> Result<HashMap<String, Vec<TimelineEntry>>> {
        let mut facts: HashMap<String, Vec<TimelineEntry>> = HashMap::new();
        // The rows come person by person: a person's list is filled until the next person
        // begins, then filed, instead of a look-up in the map for every row.
        let mut current: Option<(String, Vec<TimelineEntry>)> = None;
        {
            let list = serde_json::to_string(ids)?;
            let mut stmt = self.conn.prepare_cached(
                "SELECT person, id, kind, date, body, supersedes FROM due_facts
                 WHERE person IN (SELECT value FROM json_each(?1)) ORDER BY person, date, seq",
            )?;
            let mut rows = stmt.query([list])?;
            while let Some(r) = rows.next()? {
                let person = text_nn(r, 0)?;
                let id = text_nn(r, 1)?;
                let kind: i64 = r.get(2)?;
                let body = match text(r, 4)? {
                    Some(json) => due_fields(kind, json)?,
                    None => self.whole_due_body(id)?,
                };
                let entry = TimelineEntry {
                    id: record_id(id)?,
                    kind: due_kind(kind)?,
                    date: r.get(3)?,
                    body,
                    supersedes: text(r, 5)?.map(record_id).transpose()?,
                    superseded_by: corrected.get(id).map(|c| record_id(c)).transpose()?,
                    person: None,
                };
                if !matches!(&current, Some((p, _)) if p == person) {
                    if let Some((p, list)) = current.take() {
                        facts.entry(p).or_default().extend(list);
                    }
                    current = Some((person.to_string(), Vec::with_capacity(8)));
                }
                if let Some((_, list)) = &mut current {
                    list.push(entry);
                }
            }
        }
        if let Some((p, list)) = current {
            facts.entry(p).or_default().extend(list);
        }
        Ok(facts)
    }

    /// A fact's body from `facts`, cut to [`DUE_FIELDS`]: for a `due_facts` row without a
    /// body (the stored body is not a JSON object), which fails here as it always did.
    fn whole_due_body(&self, id: &str) -> Result<Body> {
        let json: String = self
            .conn
            .prepare_cached("SELECT body_json FROM facts WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        Ok(due_body(&json)?)
    }
}

/// The kind of a `due_facts.kind` code (migration V6).
fn due_kind(code: i64) -> Result<EntityKind> {
    usize::try_from(code)
        .ok()
        .and_then(|c| c.checked_sub(1))
        .and_then(|c| DUE_KINDS.get(c))
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("due fact kind {code}")))
}

/// The body fields kept in `due_facts.body` for each kind code, in the order of its JSON
/// array (migration V6's `due_columns`).
fn due_field_names(code: i64) -> &'static [&'static str] {
    match code {
        1 => &["type", "value", "position", "oedema"],
        2 => &["vaccine"],
        3 => &["type"],
        4 => &["pregnancy"],
        _ => &["instrument", "answers"],
    }
}

/// A body from a `due_facts.body` array: each field the fact's body has, by name. A field
/// written as `null` is left out as an absent one (the plan reads neither).
///
/// Decoded straight into the body ([`DueArray`]), without a vector of the values first.
fn due_fields(code: i64, json: &str) -> Result<Body> {
    let mut de = serde_json::Deserializer::from_str(json);
    let body = DueArray(due_field_names(code)).deserialize(&mut de)?;
    de.end()?;
    Ok(body)
}

/// Decodes a `due_facts.body` array into a body, its values named in order by the given
/// field names; `null`s and values past the names are checked for syntax and left out (as
/// `zip` over a decoded vector did).
struct DueArray(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for DueArray {
    type Value = Body;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Body, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DueArray {
    type Value = Body;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of a due fact's fields")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Body, A::Error> {
        let mut body = Body::new();
        let mut names = self.0.iter();
        loop {
            match names.next() {
                Some(name) => match seq.next_element::<Value>()? {
                    Some(Value::Null) => {}
                    Some(v) => {
                        body.insert((*name).to_string(), v);
                    }
                    None => break,
                },
                None => {
                    if seq.next_element::<IgnoredAny>()?.is_none() {
                        break;
                    }
                }
            }
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_body_keeps_the_read_fields_and_fails_like_a_whole_one() {
        let json = r#"{"posyandu":"P1","person":"x","type":"weight","value":8.5,
            "unit":"kg","oedema":true,"note":{"a":[1,2,{"b":null}]},"answers":{"bleeding":true},
            "t\u0079pe2":"escaped key","vaccine":"MR1"}"#;
        let body = due_body(json).expect("body");
        let whole: Body = serde_json::from_str(json).expect("whole");
        for k in DUE_FIELDS {
            assert_eq!(body.get(k), whole.get(k), "{k}");
        }
        assert!(body.get("posyandu").is_none() && body.get("note").is_none());
        for bad in ["[1]", "{\"a\":", "{} x", "\"s\"", "{\"a\":tru}"] {
            assert!(due_body(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Body>(bad).is_err(), "{bad}");
        }
        assert!(due_body("{}").expect("empty").is_empty());
    }
}
