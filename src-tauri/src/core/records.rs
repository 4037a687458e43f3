//! Beranda (home) and Keluarga (households): reads and writes on the unlocked store.

use super::{AppCore, due_pages, iso_day};
use crate::error::{AppError, record_id};
use crate::views::{Home, HomeCounts, HomeTasks, HouseholdRef, PlaceRef, Profile, Registered};
use field_core::{
    DuplicateWarning, HouseholdHit, HouseholdInput, HouseholdView, PersonInput, PersonStatus,
    Place, RuleOptions, Store,
};
use serde::Deserialize;
use sync_protocol::PlaceLevel;

/// Most households a search returns.
const SEARCH_LIMIT: usize = 100;

/// `PersonInput` in api.ts: field-core's, plus the mother among the members registered in
/// the same form.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// Index of this member's mother in the same registration (listed before them).
    #[serde(default)]
    pub mother_member: Option<usize>,
}

/// Empty or blank optional texts mean "not given"; required texts are trimmed.
fn opt(v: &mut Option<String>) {
    if let Some(s) = v {
        let t = s.trim();
        if t.is_empty() {
            *v = None;
        } else if t.len() != s.len() {
            *v = Some(t.to_string());
        }
    }
}

fn clean_person(mut p: PersonInput) -> PersonInput {
    p.name = p.name.trim().to_string();
    p.sex = p.sex.trim().to_string();
    p.birth_date = p.birth_date.trim().to_string();
    for v in [
        &mut p.nik,
        &mut p.relation,
        &mut p.phone,
        &mut p.jkn_number,
        &mut p.rt,
    ] {
        opt(v);
    }
    p
}

fn clean_household(mut h: HouseholdInput) -> HouseholdInput {
    h.posyandu = h.posyandu.trim().to_string();
    h.head_name = h.head_name.trim().to_string();
    for v in [
        &mut h.kk_number,
        &mut h.address,
        &mut h.dusun,
        &mut h.rt,
        &mut h.rw,
        &mut h.phone,
        &mut h.water_source,
    ] {
        opt(v);
    }
    h
}

/// The user's posyandu, when their area is one posyandu (a kader).
fn own_posyandu(store: &Store) -> Result<Option<PlaceRef>, AppError> {
    let Some(scope) = store.scope()? else {
        return Ok(None);
    };
    if scope.level != PlaceLevel::Posyandu {
        return Ok(None);
    }
    let name = store
        .places(PlaceLevel::Posyandu, Some(&scope.place))?
        .into_iter()
        .find(|p| p.code == scope.place)
        .map_or_else(|| scope.place.clone(), |p| p.name);
    Ok(Some(PlaceRef {
        code: scope.place,
        name,
    }))
}

impl AppCore {
    /// Beranda: who is working, the sync state, and the first page of today's due tasks in
    /// the user's area with the whole list's counts. The list is computed whole but not held:
    /// its order is kept for [`AppCore::home_tasks`] (`core/due_pages.rs`).
    pub fn home(&self) -> Result<Home, AppError> {
        let sync = self.sync_status()?;
        self.with_home(|s, kept| {
            let (idx, tasks) = due_pages::index(s, &RuleOptions::default(), due_pages::PAGE)?;
            let due = idx.counts;
            *kept = Some(idx);
            // Tinjauan's badge: the data problems are the "periksa data" tasks just planned.
            let problems = due.check_data;
            let conflicts = s.review_conflicts()?.len() as u64;
            let duplicates = s.duplicate_pairs()?.len() as u64;
            let review = field_core::ReviewCounts {
                conflicts,
                duplicates,
                problems,
                total: conflicts + duplicates + problems,
                supervisor: s.is_supervisor(),
            };
            Ok(Home {
                user: s.user().clone(),
                posyandu: own_posyandu(s)?,
                today: iso_day(s.today()?),
                sync,
                tasks,
                due: HomeCounts {
                    persons: due.persons,
                    tasks: due.tasks,
                },
                review,
            })
        })
    }

    /// Beranda's "Tampilkan lagi": the persons `offset..offset + limit` (at most
    /// `due_pages::MAX_PAGE`) of the list [`AppCore::home`] computed last, in its order and
    /// with their tasks planned again (a person with none left since is skipped). Without such
    /// a list (none since the unlock) it is computed first.
    pub fn home_tasks(&self, offset: usize, limit: usize) -> Result<HomeTasks, AppError> {
        let limit = limit.clamp(1, due_pages::MAX_PAGE);
        self.with_home(|s, kept| {
            let opts = RuleOptions::default();
            if kept.is_none() {
                *kept = Some(due_pages::index(s, &opts, 0)?.0);
            }
            let Some(idx) = kept.as_ref() else {
                return Err(AppError::internal("the due list's order is missing"));
            };
            let tasks = due_pages::page(s, &opts, idx, offset, limit)?;
            Ok(HomeTasks {
                tasks,
                next: offset
                    .saturating_add(limit)
                    .min(idx.counts.persons as usize) as u64,
                persons: idx.counts.persons,
            })
        })
    }

    /// Every place this tablet knows, and at least the user's own area (the places arrive
    /// with each login, `GET /v1/places`; until one fetched them, a place known only from the
    /// user's scope is named by its code).
    pub fn places(&self) -> Result<Vec<Place>, AppError> {
        self.with_store(|s| {
            let mut out = Vec::new();
            if let Some(scope) = s.scope()?
                && s.places(scope.level, Some(&scope.place))?.is_empty()
            {
                out.push(Place {
                    code: scope.place.clone(),
                    level: scope.level,
                    name: scope.place,
                    parent: None,
                });
            }
            // A shared tablet knows the places of every user who logged in on it: the
            // posyandu offered (to register a household in) are this user's own.
            let mine = s.posyandu_in_scope()?;
            for level in [
                PlaceLevel::Kabupaten,
                PlaceLevel::Kecamatan,
                PlaceLevel::Puskesmas,
                PlaceLevel::Desa,
                PlaceLevel::Dusun,
                PlaceLevel::Posyandu,
            ] {
                out.extend(
                    s.places(level, None)?
                        .into_iter()
                        .filter(|p| level != PlaceLevel::Posyandu || mine.contains(&p.code)),
                );
            }
            Ok(out)
        })
    }

    /// Keluarga: households by head's or member's name, narrowed by dusun and RT.
    pub fn search_households(
        &self,
        query: &str,
        dusun: Option<&str>,
        rt: Option<&str>,
    ) -> Result<Vec<HouseholdHit>, AppError> {
        // A shared tablet holds the areas of all its users: the store's search keeps only the
        // unlocked user's own (field-core's scope condition).
        self.with_store(|s| Ok(s.search_households(query, dusun, rt, SEARCH_LIMIT)?))
    }

    pub fn household(&self, id: &str) -> Result<HouseholdView, AppError> {
        let id = record_id("id", id)?;
        self.with_store(|s| Ok(s.household(id)?))
    }

    /// Search before register: persons already on the tablet who may be this one.
    pub fn check_duplicates(&self, person: PersonInput) -> Result<Vec<DuplicateWarning>, AppError> {
        let person = clean_person(person);
        self.with_store(|s| Ok(s.likely_duplicates(&person)?))
    }

    /// A household and its members in one transaction. Likely duplicates are returned (the
    /// registration is saved: the kader saw the search first); a refused field is named
    /// `members.<i>.<field>` or the household field.
    pub fn register_household(
        &self,
        household: HouseholdInput,
        members: Vec<MemberInput>,
    ) -> Result<Registered, AppError> {
        let household = clean_household(household);
        let mothers: Vec<(usize, usize)> = members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.mother_member.map(|j| (i, j)))
            .collect();
        let members: Vec<PersonInput> = members
            .into_iter()
            .map(|m| clean_person(m.person))
            .collect();
        self.with_store(|s| {
            // Outside the user's area the server would refuse it after the kader left.
            let area = s.posyandu_in_scope()?;
            if !area.is_empty() && !area.contains(&household.posyandu) {
                return Err(AppError::choice("posyandu"));
            }
            Ok(s.register_household(&household, &members, &mothers)?.into())
        })
    }

    pub fn add_member(&self, household: &str, person: PersonInput) -> Result<Registered, AppError> {
        let household = record_id("household", household)?;
        let person = clean_person(person);
        self.with_store(|s| Ok(s.add_member(household, &person)?.into()))
    }

    /// A person's profile: their record, household, timeline (oldest first, including records
    /// merged into them), growth results and what is due today.
    pub fn profile(&self, id: &str) -> Result<Profile, AppError> {
        let id = record_id("id", id)?;
        self.with_store(|s| {
            let t = s.person_timeline(id)?;
            let household = match t.person.household.as_deref().map(str::parse) {
                Some(Ok(h)) => match s.household(h) {
                    Ok(v) => Some(HouseholdRef {
                        id: h,
                        head_name: v
                            .values
                            .get("head_name")
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    }),
                    Err(field_core::StoreError::NoSuchRecord { .. }) => None,
                    Err(e) => return Err(e.into()),
                },
                _ => None,
            };
            // The posyandu's due tasks, this person's share (health-rules plans per person
            // from the whole history; a posyandu is a few hundred persons).
            let tasks = match (t.person.status.as_str(), t.person.posyandu.as_deref()) {
                ("active", Some(p)) => s
                    .due_tasks(p, &RuleOptions::default())?
                    .into_iter()
                    .find(|pt| pt.person.id == id)
                    .map(|pt| pt.tasks)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            Ok(Profile {
                person: t.person,
                household,
                entries: t.entries,
                tasks,
                growth: t.growth,
                pregnancies: t.pregnancies,
                referrals: t.referrals,
            })
        })
    }

    /// Moved away or died, from `date` (`YYYY-MM-DD`); `active` undoes a mistake.
    pub fn mark_status(&self, id: &str, status: &str, date: &str) -> Result<(), AppError> {
        let id = record_id("id", id)?;
        let status: PersonStatus =
            serde_json::from_value(serde_json::Value::String(status.trim().to_string()))
                .map_err(|_| AppError::choice("status"))?;
        self.with_store(|s| Ok(s.set_status(id, status, date.trim())?))
    }
}
