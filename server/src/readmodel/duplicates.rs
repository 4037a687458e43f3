//! Likely duplicates found by the server (issue 17): pairs of live persons, not merged away,
//! at or under a place (both of them), alike by NIK or by name, birth date and mother —
//! `records::duplicates` (the rule and its blocking keys) over the read model's `persons`.
//! Pairs with a live `duplicate_dismissal` fact (`person` = first, `subject` = second) are
//! left out. Answers `GET /v1/records/duplicates?place=` and the dashboard's Tinjauan page.
//!
//! `found_at`: the later of the two persons' `made_hlc` (the earliest stamp of their edits,
//! migration 0009) — when the pair first existed, derived, so the same after a rebuild and
//! on every server; no table of first sightings is kept.

use super::{Cell, Param, text};
use crate::storage::{Storage, StorageError};
use records::duplicates::{Candidate, Reason, find_pairs, mother_key};
use std::collections::{HashMap, HashSet};
use sync_protocol::{DuplicatePairInfo, DuplicatesResponse, Hlc};

/// The live persons at or under `?1`, with their mother's name.
const PERSONS: &str = "SELECT p.id, p.posyandu, p.name, p.sex, p.birth_date, p.nik, p.mother,
        m.name, p.made_hlc
    FROM persons p JOIN place_tree t ON t.code = p.posyandu
    LEFT JOIN persons m ON m.id = p.mother
    WHERE t.ancestor = ?1 AND p.deleted = 0";

/// One likely duplicate, with what the dashboard shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPair {
    pub first: String,
    pub second: String,
    pub reason: Reason,
    pub first_posyandu: String,
    pub second_posyandu: String,
    pub first_name: String,
    pub second_name: String,
    /// Unix milliseconds: the later of the two persons' first edits.
    pub found_at_ms: u64,
}

/// A pair as `GET /v1/records/duplicates` answers it: the wire type the tablet decodes
/// ([`sync_protocol::DuplicatePairInfo`]), so the two sides share one contract.
fn pair_info(p: &FoundPair) -> Result<DuplicatePairInfo, StorageError> {
    let id = |s: &str| {
        s.parse()
            .map_err(|_| StorageError::Corrupt(format!("person id {s:?} in the read model")))
    };
    let reason = match p.reason {
        Reason::Nik => "nik",
        Reason::NameBirthMother => "name_birth_mother",
    };
    Ok(DuplicatePairInfo {
        first: id(&p.first)?,
        second: id(&p.second)?,
        reason: reason.into(),
        first_posyandu: Some(p.first_posyandu.clone()),
        second_posyandu: Some(p.second_posyandu.clone()),
        found_at: i64::try_from(p.found_at_ms / 1000).unwrap_or(i64::MAX),
    })
}

/// The ids of persons merged away (the `merged` of a live `person_merge`).
async fn merged_away(store: &dyn Storage) -> Result<HashSet<String>, StorageError> {
    let rows = store
        .read_rows(
            "SELECT subject FROM facts
             WHERE kind = 'person_merge' AND deleted = 0 AND subject IS NOT NULL"
                .into(),
            vec![],
        )
        .await?;
    Ok(rows.iter().filter_map(|r| text(r, 0)).collect())
}

/// The pairs dismissed by a live `duplicate_dismissal`, in canonical order.
async fn dismissed(store: &dyn Storage) -> Result<HashSet<(String, String)>, StorageError> {
    let rows = store
        .read_rows(
            "SELECT person, subject FROM facts
             WHERE kind = 'duplicate_dismissal' AND deleted = 0"
                .into(),
            vec![],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let (a, b) = (text(r, 0)?, text(r, 1)?);
            let (f, s) = records::duplicates::canonical(&a, &b);
            Some((f.to_string(), s.to_string()))
        })
        .collect())
}

/// A stored HLC as Unix milliseconds (0 when absent or unreadable).
pub fn hlc_ms(s: Option<&str>) -> u64 {
    s.and_then(|s| s.parse::<Hlc>().ok())
        .map_or(0, |h| h.wall_ms)
}

/// The likely duplicates at or under `place` (the caller checks it is in scope), sorted by
/// `(first, second)`.
pub async fn find(store: &dyn Storage, place: &str) -> Result<Vec<FoundPair>, StorageError> {
    let rows = store
        .read_rows(PERSONS.into(), vec![Param::Text(place.to_string())])
        .await?;
    let gone = merged_away(store).await?;
    let dismissed = dismissed(store).await?;
    let mut made: HashMap<String, u64> = HashMap::with_capacity(rows.len());
    let mut candidates = Vec::with_capacity(rows.len());
    for r in &rows {
        let (Some(id), Some(posyandu)) = (text(r, 0), text(r, 1)) else {
            continue;
        };
        if gone.contains(&id) {
            continue;
        }
        made.insert(id.clone(), hlc_ms(r.get(8).and_then(Cell::text)));
        candidates.push(Candidate {
            id,
            posyandu,
            name: text(r, 2).unwrap_or_default(),
            sex: text(r, 3),
            birth_date: text(r, 4),
            nik: text(r, 5),
            mother: mother_key(r.get(6).and_then(Cell::text), r.get(7).and_then(Cell::text)),
        });
    }
    let by_id: HashMap<&str, &Candidate> = candidates.iter().map(|c| (c.id.as_str(), c)).collect();
    let pairs = find_pairs(&candidates, &dismissed);
    Ok(pairs
        .into_iter()
        .filter_map(|p| {
            let (a, b) = (by_id.get(p.first.as_str())?, by_id.get(p.second.as_str())?);
            let found_at_ms = made
                .get(&p.first)
                .copied()
                .unwrap_or(0)
                .max(made.get(&p.second).copied().unwrap_or(0));
            Some(FoundPair {
                first_posyandu: a.posyandu.clone(),
                second_posyandu: b.posyandu.clone(),
                first_name: a.name.clone(),
                second_name: b.name.clone(),
                first: p.first,
                second: p.second,
                reason: p.reason,
                found_at_ms,
            })
        })
        .collect())
}

/// The answer of `GET /v1/records/duplicates?place=`.
pub async fn duplicates(
    store: &dyn Storage,
    place: &str,
) -> Result<DuplicatesResponse, StorageError> {
    let pairs = find(store, place).await?;
    Ok(DuplicatesResponse {
        v: 1,
        pairs: pairs.iter().map(pair_info).collect::<Result<_, _>>()?,
    })
}
