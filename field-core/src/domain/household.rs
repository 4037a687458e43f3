//! Households and their members: search before register, likely-duplicate warnings.

use crate::error::{Result, ValidationError};
use crate::messages::{Key, invalid};
use crate::names;
use crate::reads::PersonSummary;
use crate::store::{Draft, Store, Writer};
use crate::validate;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_protocol::{Body, EntityKind, RecordId};

/// A new household (rumah tangga). Field names as in the household body schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HouseholdInput {
    pub posyandu: String,
    pub kk_number: Option<String>,
    pub head_name: String,
    pub address: Option<String>,
    pub dusun: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    pub phone: Option<String>,
    pub jkn: Option<bool>,
    pub latrine: Option<bool>,
    pub water_source: Option<String>,
}

/// A new person. `posyandu` and `household` come from the household they join.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonInput {
    pub name: String,
    /// `male` or `female`.
    pub sex: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub birth_date_estimated: Option<bool>,
    pub nik: Option<String>,
    pub mother: Option<RecordId>,
    /// `head`, `spouse`, `child`, `parent`, `grandchild`, `other`.
    pub relation: Option<String>,
    pub phone: Option<String>,
    pub jkn_number: Option<String>,
    pub has_kms: Option<bool>,
    pub rt: Option<String>,
    /// A newborn's birth weight in kg, length in cm and time of birth `HH:MM` (local, WITA
    /// in Belu): body schema 2, asked where a newborn is registered.
    #[serde(default)]
    pub birth_weight: Option<f64>,
    #[serde(default)]
    pub birth_length: Option<f64>,
    #[serde(default)]
    pub birth_time: Option<String>,
}

/// Why two persons may be the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    SameNik,
    SameNameBirthDateMother,
}

/// A person already on the tablet who may be the one being registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateWarning {
    /// Index of the member in the registration (0 for a single person).
    pub member: usize,
    pub existing: RecordId,
    pub existing_name: String,
    pub reason: DuplicateReason,
}

/// The result of a registration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Registered {
    pub household: RecordId,
    pub persons: Vec<RecordId>,
    /// Likely duplicates found; the registration was still saved (the kader can merge).
    pub duplicates: Vec<DuplicateWarning>,
    /// Checks that did not stop the registration (e.g. a NIK that does not match the birth
    /// date).
    pub warnings: Vec<ValidationError>,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonHit {
    pub person: PersonSummary,
    pub household_head: Option<String>,
}

impl Store {
    /// Registers a household and its members in one transaction. `mothers` links members
    /// registered in the same call: `(child index, mother index)`, the mother listed first.
    /// A refused or doubtful member field is named `members.<index>.<field>` (a household
    /// field by its own name), so a form can mark the right row.
    /// Likely duplicates are returned as warnings; the registration is still saved (search
    /// first with [`Store::search_persons`] and [`Store::likely_duplicates`]).
    pub fn register_household(
        &mut self,
        household: &HouseholdInput,
        members: &[PersonInput],
        mothers: &[(usize, usize)],
    ) -> Result<Registered> {
        if members.is_empty() {
            return Err(invalid("members", Key::NoMembers, &[]).into());
        }
        let mut duplicates = Vec::new();
        for (i, m) in members.iter().enumerate() {
            for mut d in self.likely_duplicates(m)? {
                d.member = i;
                duplicates.push(d);
            }
        }
        let body = super::body_of(household)?;
        let posyandu = household.posyandu.clone();
        let (hh, persons, warnings) = self.write(|w| {
            let hh = w.push(Draft::new(EntityKind::Household, body))?;
            let mut ids: Vec<RecordId> = Vec::with_capacity(members.len());
            let mut warnings = Vec::new();
            for (i, m) in members.iter().enumerate() {
                let added = (|| {
                    let mut m = m.clone();
                    if let Some((_, mother)) = mothers.iter().find(|(c, _)| *c == i) {
                        m.mother = ids.get(*mother).copied().or(m.mother);
                        if *mother >= i {
                            return Err(invalid("mother", Key::UnknownRecord, &[]).into());
                        }
                    }
                    add_person(w, &posyandu, Some(hh), &m)
                })();
                let (id, warn) = added.map_err(|e| at_member(e, i))?;
                warnings.extend(warn.into_iter().map(|v| at_member_v(v, i)));
                ids.push(id);
            }
            Ok((hh, ids, warnings))
        })?;
        Ok(Registered {
            household: hh,
            persons,
            duplicates,
            warnings,
        })
    }

    /// Adds one person to an existing household.
    pub fn add_member(&mut self, household: RecordId, person: &PersonInput) -> Result<Registered> {
        let duplicates = self.likely_duplicates(person)?;
        let (id, warnings) = self.write(|w| {
            validate::require_live(&w.tx, "household", &household, "household")?;
            let posyandu: String = w.tx.query_row(
                "SELECT posyandu FROM households WHERE id = ?1",
                [household.to_string()],
                |r| r.get(0),
            )?;
            add_person(w, &posyandu, Some(household), person)
        })?;
        Ok(Registered {
            household,
            persons: vec![id],
            duplicates,
            warnings,
        })
    }

    /// Changes fields of a household (a body patch; `null` clears an optional field).
    pub fn update_household(&mut self, id: RecordId, patch: Body) -> Result<()> {
        self.write(|w| {
            validate::require_live(&w.tx, "id", &id, "household")?;
            w.push(Draft::edit(id, EntityKind::Household, patch))?;
            Ok(())
        })
    }

    /// Changes fields of a person (a body patch; `null` clears an optional field). Use
    /// [`Store::mark_moved`] / [`Store::mark_died`] for the status.
    pub fn update_person(&mut self, id: RecordId, patch: Body) -> Result<()> {
        self.write(|w| {
            let p = validate::person(&w.tx, "id", &id)?;
            if let Some(Value::String(m)) = patch.get("mother") {
                let mother = m
                    .parse()
                    .map_err(|_| invalid("mother", Key::RecordRef, &[]))?;
                check_mother(
                    &w.tx,
                    &mother,
                    patch.get("birth_date").and_then(Value::as_str).or(p
                        .birth_date
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .as_deref()),
                )?;
            }
            if let Some(Value::String(h)) = patch.get("household") {
                let h = h
                    .parse()
                    .map_err(|_| invalid("household", Key::RecordRef, &[]))?;
                validate::require_live(&w.tx, "household", &h, "household")?;
            }
            w.push(Draft::edit(id, EntityKind::Person, patch))?;
            Ok(())
        })
    }

    /// Likely duplicates of a person about to be registered: same NIK; or same name (by
    /// spelling key), birth date and mother.
    pub fn likely_duplicates(&self, p: &PersonInput) -> Result<Vec<DuplicateWarning>> {
        likely_duplicates(&self.conn, p)
    }

    /// Name search, tolerant of spelling variants; live, unmerged persons (of `posyandu` when
    /// given), the closest names first: the whole name, then names beginning with the query,
    /// then names holding its words whole, then the rest. Its cost is bounded by `limit`, not
    /// by the number of namesakes (see `domain::search`).
    pub fn search_persons(
        &self,
        query: &str,
        posyandu: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PersonHit>> {
        super::search::search_persons(&self.conn, self.today()?, query, posyandu, limit)
    }
}

/// A member's validation error, its field named `members.<i>.<field>`.
fn at_member(e: crate::error::StoreError, i: usize) -> crate::error::StoreError {
    match e {
        crate::error::StoreError::Invalid(v) => at_member_v(v, i).into(),
        other => other,
    }
}

fn at_member_v(mut v: ValidationError, i: usize) -> ValidationError {
    v.field = format!("members.{i}.{}", v.field);
    v
}

/// Validates and queues one new person.
fn add_person(
    w: &mut Writer<'_>,
    posyandu: &str,
    household: Option<RecordId>,
    m: &PersonInput,
) -> Result<(RecordId, Vec<ValidationError>)> {
    if let Some(mother) = &m.mother {
        check_mother(&w.tx, mother, Some(&m.birth_date))?;
    }
    let mut warnings = Vec::new();
    if let Some(nik) = &m.nik
        && !m.birth_date_estimated.unwrap_or(false)
        && let Some(warn) = validate::nik_warning(nik, &m.sex, &m.birth_date)
    {
        warnings.push(warn);
    }
    let mut body = super::body_of(m)?;
    body.insert("posyandu".into(), Value::String(posyandu.to_string()));
    if let Some(h) = household {
        body.insert("household".into(), Value::String(h.to_string()));
    }
    body.entry("status")
        .or_insert_with(|| Value::String("active".into()));
    let id = w.push(Draft::new(EntityKind::Person, body))?;
    Ok((id, warnings))
}

/// The mother must be a live female person born at least ten years before the child.
fn check_mother(conn: &Connection, mother: &RecordId, child_birth: Option<&str>) -> Result<()> {
    let m = validate::person(conn, "mother", mother)?;
    if m.sex != "female" {
        return Err(invalid("mother", Key::MotherNotFemale, &[]).into());
    }
    if let (Some(mb), Some(cb)) = (m.birth_date, child_birth.and_then(validate::parse_date))
        && validate::age_months(mb, cb) < 120
    {
        return Err(invalid("mother", Key::MotherTooYoung, &[]).into());
    }
    Ok(())
}

fn likely_duplicates(conn: &Connection, p: &PersonInput) -> Result<Vec<DuplicateWarning>> {
    let mut out = Vec::new();
    let unmerged = "p.deleted = 0 AND NOT EXISTS (SELECT 1 FROM facts m WHERE m.subject = p.id
                    AND m.kind = 'person_merge' AND m.deleted = 0)";
    if let Some(nik) = &p.nik {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT p.id, p.name FROM persons p WHERE p.nik = ?1 AND {unmerged}"
        ))?;
        let rows = stmt.query_map([nik], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, name) = row?;
            if let Ok(id) = id.parse() {
                out.push(DuplicateWarning {
                    member: 0,
                    existing: id,
                    existing_name: name,
                    reason: DuplicateReason::SameNik,
                });
            }
        }
    }
    let key = names::name_key(&p.name);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT p.id, p.name FROM persons p
         WHERE p.name_key = ?1 AND p.birth_date = ?2 AND p.mother IS ?3 AND {unmerged}"
    ))?;
    let rows = stmt.query_map(
        params![key, p.birth_date, p.mother.map(|m| m.to_string())],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    for row in rows {
        let (id, name) = row?;
        if let Ok(id) = id.parse::<RecordId>()
            && !out.iter().any(|d| d.existing == id)
        {
            out.push(DuplicateWarning {
                member: 0,
                existing: id,
                existing_name: name,
                reason: DuplicateReason::SameNameBirthDateMother,
            });
        }
    }
    Ok(out)
}
