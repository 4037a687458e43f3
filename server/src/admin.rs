//! What the admin CLI does, as library functions (so tests and the demo use them too):
//! importing places, adding users, issuing enrolment codes, the Belu demo district.

use crate::auth::{self, PasswordCost};
use crate::model::{Place, User, allowed_scope_levels, level_str, now_ms, parse_level, role_str};
use crate::storage::{Storage, StorageError};
use std::collections::{HashMap, HashSet};
use sync_protocol::{PlaceLevel, Role, Scope, UserId};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("no user {0:?}")]
    NoSuchUser(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
}

/// A place code: dot-separated ASCII letters and digits, e.g. `53.04.05.2001.P01`.
pub fn is_place_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The digits of each leading part of a Kemendagri region code (kode wilayah, Permendagri
/// on the codes of administrative areas): province, kabupaten/kota, kecamatan,
/// desa/kelurahan, e.g. `53.04` for Kabupaten Belu in Nusa Tenggara Timur.
pub const KEMENDAGRI_PART_DIGITS: [usize; 4] = [2, 2, 2, 4];

/// How many parts a place's Kemendagri code has at each level that has one.
fn kemendagri_parts(level: PlaceLevel) -> Option<usize> {
    match level {
        PlaceLevel::Kabupaten => Some(2),
        PlaceLevel::Kecamatan => Some(3),
        PlaceLevel::Desa => Some(4),
        PlaceLevel::Puskesmas | PlaceLevel::Dusun | PlaceLevel::Posyandu => None,
    }
}

/// Checks the Kemendagri shape of a place code: its leading parts made of digits are the
/// region code, `PP.KK.CC.DDDD` (2, 2, 2 and 4 digits); a kabupaten, kecamatan or desa whose
/// code is all digits has exactly the parts of its level. Other parts (a puskesmas's
/// `PKM07`, a dusun's `D1`, a posyandu's `P01`) follow freely.
pub fn check_kemendagri_shape(code: &str, level: PlaceLevel) -> Result<(), String> {
    let parts: Vec<&str> = code.split('.').collect();
    let numeric = parts
        .iter()
        .take_while(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .count();
    for (i, p) in parts.iter().take(numeric.min(4)).enumerate() {
        if p.len() != KEMENDAGRI_PART_DIGITS[i] {
            return Err(format!(
                "{code:?}: a region code is written PP.KK.CC.DDDD (2, 2, 2 and 4 digits, dots between), like 53.04 for Kabupaten Belu"
            ));
        }
    }
    if numeric == parts.len()
        && let Some(want) = kemendagri_parts(level)
        && numeric != want
    {
        return Err(format!(
            "{code:?}: the Kemendagri code of a {} has {want} parts",
            level_str(level)
        ));
    }
    Ok(())
}

/// The level a parent must have is above the child's.
fn rank(l: PlaceLevel) -> u8 {
    match l {
        PlaceLevel::Kabupaten => 0,
        PlaceLevel::Kecamatan => 1,
        PlaceLevel::Puskesmas => 2,
        PlaceLevel::Desa => 3,
        PlaceLevel::Dusun => 4,
        PlaceLevel::Posyandu => 5,
    }
}

/// Parses a place CSV (`code,name,level,parent`; parent empty for the kabupaten) and checks
/// it: codes well formed and unique, levels known, each parent known (in the file or
/// already stored) and of a higher level.
pub fn parse_places_csv(
    reader: impl std::io::Read,
    known: &[Place],
) -> Result<Vec<Place>, AdminError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .map_err(|e| AdminError::Csv {
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let want = ["code", "name", "level", "parent"];
    if headers.len() != 4
        || headers
            .iter()
            .zip(want)
            .any(|(h, w)| !h.eq_ignore_ascii_case(w))
    {
        return Err(AdminError::Csv {
            line: 1,
            message: format!("the header must be {}", crate::model::PLACES_CSV_HEADER),
        });
    }
    let mut places = Vec::new();
    let mut seen = HashSet::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| AdminError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let bad = |message: String| AdminError::Csv { line, message };
        let code = rec.get(0).unwrap_or_default().to_string();
        let name = rec.get(1).unwrap_or_default().to_string();
        let level_s = rec.get(2).unwrap_or_default();
        let parent = rec.get(3).unwrap_or_default().to_string();
        if !is_place_code(&code) {
            return Err(bad(format!(
                "{code:?} is not a place code like 53.04.05.2001.P01"
            )));
        }
        if name.is_empty() || name.chars().count() > 120 {
            return Err(bad("the name must be 1 to 120 characters".into()));
        }
        let level = parse_level(level_s).ok_or_else(|| {
            bad(format!(
                "unknown level {level_s:?}: kabupaten, kecamatan, puskesmas, desa, dusun or posyandu"
            ))
        })?;
        check_kemendagri_shape(&code, level).map_err(bad)?;
        if !seen.insert(code.clone()) {
            return Err(bad(format!("{code} appears twice")));
        }
        let parent = (!parent.is_empty()).then_some(parent);
        if parent.is_none() && level != PlaceLevel::Kabupaten {
            return Err(bad(format!("a {} needs a parent", level_str(level))));
        }
        places.push(Place {
            code,
            name,
            level,
            parent,
        });
    }
    let levels: HashMap<&str, PlaceLevel> = known
        .iter()
        .chain(places.iter())
        .map(|p| (p.code.as_str(), p.level))
        .collect();
    for (i, p) in places.iter().enumerate() {
        if let Some(parent) = &p.parent {
            let line = u64::try_from(i).unwrap_or(0) + 2;
            let Some(pl) = levels.get(parent.as_str()) else {
                return Err(AdminError::Csv {
                    line,
                    message: format!("the parent {parent} of {} is not known", p.code),
                });
            };
            if rank(*pl) >= rank(p.level) {
                return Err(AdminError::Csv {
                    line,
                    message: format!(
                        "a {} cannot be under a {}",
                        level_str(p.level),
                        level_str(*pl)
                    ),
                });
            }
        }
    }
    Ok(places)
}

pub async fn import_places(
    store: &dyn Storage,
    reader: impl std::io::Read,
) -> Result<usize, AdminError> {
    let known = store.all_places().await?;
    let places = parse_places_csv(reader, &known)?;
    Ok(store.import_places(places).await?)
}

/// A health worker's NIK as typed (spaces ignored), checked by the NIK rules
/// (`health_rules::identity::parse_nik`: 16 digits, region, birth date, serial): the digits.
pub fn check_user_nik(s: &str) -> Result<String, AdminError> {
    health_rules::identity::parse_nik(s)
        .map(|n| n.digits)
        .map_err(|e| AdminError::Invalid(e.to_string()))
}

/// Sets (or, with `None`, removes) a user's NIK, checked first: the worker looks the
/// Practitioner up by it (`crate::satusehat`).
pub async fn set_user_nik(
    store: &dyn Storage,
    username: &str,
    nik: Option<&str>,
) -> Result<(), AdminError> {
    let nik = nik.map(check_user_nik).transpose()?;
    let username = username.trim().to_lowercase();
    if crate::satusehat::store::set_user_nik(store, &username, nik.as_deref()).await? {
        Ok(())
    } else {
        Err(AdminError::NoSuchUser(username))
    }
}

/// Adds a user after checking the role may have that scope and the place exists.
pub async fn add_user(
    store: &dyn Storage,
    username: &str,
    display_name: &str,
    role: Role,
    scope_place: &str,
    secret: &str,
    cost: PasswordCost,
) -> Result<User, AdminError> {
    let username = username.trim().to_lowercase();
    if username.is_empty()
        || username.len() > 64
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(AdminError::Invalid(
            "a username is 1 to 64 letters, digits, '.', '_' or '-'".into(),
        ));
    }
    if secret.chars().count() < 6 {
        return Err(AdminError::Invalid(
            "a password or PIN has at least 6 characters".into(),
        ));
    }
    let place = store
        .place(scope_place.to_string())
        .await?
        .ok_or_else(|| AdminError::Invalid(format!("no place {scope_place}")))?;
    if !allowed_scope_levels(role).contains(&place.level) {
        return Err(AdminError::Invalid(format!(
            "a {} cannot have a {} as scope",
            role_str(role),
            level_str(place.level)
        )));
    }
    let secret = secret.to_string();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&secret, cost))
        .await
        .map_err(|e| AdminError::Invalid(e.to_string()))??;
    let user = User {
        id: UserId::new_v7(),
        username,
        display_name: display_name.trim().to_string(),
        role,
        scope: Scope {
            level: place.level,
            place: place.code,
        },
        secret_hash: hash,
        disabled: false,
    };
    store.create_user(user.clone()).await?;
    Ok(user)
}

/// Issues a one-time enrolment code for a user's device; returns the code to type.
pub async fn issue_enrol_code(
    store: &dyn Storage,
    username: &str,
    ttl_hours: u64,
) -> Result<String, AdminError> {
    let user = store
        .user_by_username(username.trim().to_lowercase())
        .await?
        .ok_or_else(|| AdminError::NoSuchUser(username.to_string()))?;
    if user.disabled {
        return Err(AdminError::Invalid(format!(
            "{} is disabled",
            user.username
        )));
    }
    let code = auth::new_enrol_code()?;
    let normalised = auth::normalise_code(&code)
        .ok_or_else(|| AdminError::Invalid("generated code does not normalise".into()))?;
    let now = now_ms();
    store
        .create_enrol_code(
            auth::hash_secret(&normalised),
            user.id,
            now,
            now.saturating_add(ttl_hours.saturating_mul(3_600_000)),
        )
        .await?;
    Ok(code)
}

/// The demo's shared password (printed by `jangkau-server demo`; demo data only).
pub const DEMO_PASSWORD: &str = "belu-demo-2025";

/// Belu's kecamatan (names as published), numbered in this demo only.
const KECAMATAN: [&str; 12] = [
    "Kota Atambua",
    "Atambua Barat",
    "Atambua Selatan",
    "Kakuluk Mesak",
    "Tasifeto Barat",
    "Tasifeto Timur",
    "Raihat",
    "Lamaknen",
    "Lamaknen Selatan",
    "Lasiolat",
    "Raimanuk",
    "Nanaet Duabesi",
];

/// 17 puskesmas and the index of their kecamatan above. Halilulik is the detailed one.
const PUSKESMAS: [(&str, usize); 17] = [
    ("Kota Atambua", 0),
    ("Umanen", 0),
    ("Atambua Barat", 1),
    ("Atambua Selatan", 2),
    ("Atapupu", 3),
    ("Haliwen", 3),
    ("Halilulik", 4),
    ("Wedomu", 5),
    ("Silawan", 5),
    ("Haekesak", 6),
    ("Weluli", 7),
    ("Webora", 7),
    ("Nualain", 8),
    ("Laktutus", 8),
    ("Lasiolat", 9),
    ("Raimanuk", 10),
    ("Nanaet Duabesi", 11),
];

/// The demo district's places: every puskesmas with one desa and one posyandu, and
/// Halilulik with three desa (each with its pustu named in the desa), dusun and posyandu.
pub fn demo_places() -> Vec<Place> {
    let mut out = vec![Place {
        code: "53.04".into(),
        name: "Kabupaten Belu".into(),
        level: PlaceLevel::Kabupaten,
        parent: None,
    }];
    for (i, k) in KECAMATAN.iter().enumerate() {
        out.push(Place {
            code: format!("53.04.{:02}", i + 1),
            name: format!("Kecamatan {k}"),
            level: PlaceLevel::Kecamatan,
            parent: Some("53.04".into()),
        });
    }
    let flowers = [
        "Mawar",
        "Melati",
        "Anggrek",
        "Kenanga",
        "Cempaka",
        "Flamboyan",
    ];
    for (i, (name, kec)) in PUSKESMAS.iter().enumerate() {
        let kec_code = format!("53.04.{:02}", kec + 1);
        let pkm = format!("53.04.PKM{:02}", i + 1);
        out.push(Place {
            code: pkm.clone(),
            name: format!("Puskesmas {name}"),
            level: PlaceLevel::Puskesmas,
            parent: Some(kec_code.clone()),
        });
        if *name == "Halilulik" {
            for (d, desa) in ["Naitimu", "Tulamalae", "Bakustulama"].iter().enumerate() {
                let desa_code = format!("{kec_code}.{}", 2001 + d);
                out.push(Place {
                    code: desa_code.clone(),
                    name: format!("Desa {desa} (Pustu {desa})"),
                    level: PlaceLevel::Desa,
                    parent: Some(pkm.clone()),
                });
                for u in 1..=2 {
                    let dusun = format!("{desa_code}.D{u}");
                    out.push(Place {
                        code: dusun.clone(),
                        name: format!("Dusun {u} {desa}"),
                        level: PlaceLevel::Dusun,
                        parent: Some(desa_code.clone()),
                    });
                    let p = (u - 1) + d * 2;
                    out.push(Place {
                        code: format!("{desa_code}.P{:02}", u),
                        name: format!("Posyandu {}", flowers[p % flowers.len()]),
                        level: PlaceLevel::Posyandu,
                        parent: Some(dusun),
                    });
                }
            }
        } else {
            let desa_code = format!("{kec_code}.{}", 2100 + i);
            out.push(Place {
                code: desa_code.clone(),
                name: format!("Desa contoh {name}"),
                level: PlaceLevel::Desa,
                parent: Some(pkm),
            });
            out.push(Place {
                code: format!("{desa_code}.P01"),
                name: format!("Posyandu {}", flowers[i % flowers.len()]),
                level: PlaceLevel::Posyandu,
                parent: Some(desa_code),
            });
        }
    }
    out
}

/// The demo accounts: (username, display name, role, scope place).
pub const DEMO_USERS: [(&str, &str, Role, &str); 6] = [
    (
        "dinas",
        "Admin Dinkes Belu (demo)",
        Role::DinasAdmin,
        "53.04",
    ),
    (
        "admin.halilulik",
        "Admin Puskesmas Halilulik (demo)",
        Role::PuskesmasAdmin,
        "53.04.PKM07",
    ),
    (
        "bidan.naitimu",
        "Bidan Contoh Naitimu (demo)",
        Role::Bidan,
        "53.04.05.2001",
    ),
    (
        "perawat.halilulik",
        "Perawat Contoh Halilulik (demo)",
        Role::Perawat,
        "53.04.PKM07",
    ),
    (
        "kader.mawar",
        "Kader Contoh Mawar (demo)",
        Role::Kader,
        "53.04.05.2001.P01",
    ),
    (
        "kader.melati",
        "Kader Contoh Melati (demo)",
        Role::Kader,
        "53.04.05.2001.P02",
    ),
];

/// The accounts the demo history adds (kader and bidan of the other posyandu and desa of
/// Halilulik; the history's tablets are theirs and [`DEMO_USERS`]').
pub const DEMO_HISTORY_USERS: [(&str, &str, Role, &str); 6] = [
    (
        "kader.anggrek",
        "Kader Contoh Anggrek (demo)",
        Role::Kader,
        "53.04.05.2002.P01",
    ),
    (
        "kader.kenanga",
        "Kader Contoh Kenanga (demo)",
        Role::Kader,
        "53.04.05.2002.P02",
    ),
    (
        "kader.cempaka",
        "Kader Contoh Cempaka (demo)",
        Role::Kader,
        "53.04.05.2003.P01",
    ),
    (
        "kader.flamboyan",
        "Kader Contoh Flamboyan (demo)",
        Role::Kader,
        "53.04.05.2003.P02",
    ),
    (
        "bidan.tulamalae",
        "Bidan Contoh Tulamalae (demo)",
        Role::Bidan,
        "53.04.05.2002",
    ),
    (
        "bidan.bakustulama",
        "Bidan Contoh Bakustulama (demo)",
        Role::Bidan,
        "53.04.05.2003",
    ),
];

/// The usernames of accounts that are not the demo's: `jangkau-server demo` refuses a
/// database holding any (unless forced), since it adds accounts with a published password.
pub async fn real_users(store: &dyn Storage) -> Result<Vec<String>, AdminError> {
    Ok(store
        .list_users()
        .await?
        .into_iter()
        .map(|u| u.username)
        .filter(|u| {
            !DEMO_USERS
                .iter()
                .chain(DEMO_HISTORY_USERS.iter())
                .any(|(demo, ..)| demo == u)
        })
        .collect())
}

/// What `demo` made.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub places: usize,
    pub users_created: usize,
    /// Fictional records of Posyandu Mawar (a family with a child's weighing), first run only.
    pub records_seeded: usize,
    /// A fresh enrolment code for `kader.mawar`'s tablet.
    pub kader_code: String,
}

/// Creates (or completes) the Belu demo district; with `records`, also a fictional family of
/// Posyandu Mawar (first run only). Safe to run twice.
pub async fn demo(
    store: &dyn Storage,
    cost: PasswordCost,
    code_ttl_hours: u64,
    records: bool,
) -> Result<DemoSummary, AdminError> {
    let places = demo_places();
    let n_places = store.import_places(places).await?;
    let mut created = 0;
    for (username, name, role, scope) in DEMO_USERS {
        if store.user_by_username(username.into()).await?.is_some() {
            continue;
        }
        add_user(store, username, name, role, scope, DEMO_PASSWORD, cost).await?;
        created += 1;
    }
    let seeded = if records && created > 0 {
        seed_demo_records(store).await?
    } else {
        0
    };
    let kader_code = issue_enrol_code(store, "kader.mawar", code_ttl_hours).await?;
    // The ILP rollout the dashboard's Ringkasan tracks: 9 of the 17 puskesmas on ILP.
    crate::web::store::demo_ilp(store).await?;
    Ok(DemoSummary {
        places: n_places,
        users_created: created,
        records_seeded: seeded,
        kader_code,
    })
}

/// A plainly fictional family of Posyandu Mawar, recorded by kader.mawar on a server-side
/// "seed" device through the normal push path, so every tablet of the area pulls it.
async fn seed_demo_records(store: &dyn Storage) -> Result<usize, AdminError> {
    use crate::sync::PushContext;
    use serde_json::json;
    use sync_protocol::{Change, ClockPolicy, EntityKind, Hlc, RecordId};
    let kader = store
        .user_by_username("kader.mawar".into())
        .await?
        .ok_or_else(|| AdminError::NoSuchUser("kader.mawar".into()))?;
    let code = issue_enrol_code(store, "kader.mawar", 1).await?;
    let normalised = auth::normalise_code(&code)
        .ok_or_else(|| AdminError::Invalid("generated code does not normalise".into()))?;
    let now = now_ms();
    let device = store
        .enrol(
            auth::hash_secret(&normalised),
            crate::model::NewDevice {
                id: sync_protocol::DeviceId::new_v7(),
                name: "Demo data (server seed)".into(),
                token_hash: auth::hash_secret(&auth::new_token()?),
                app_version: "seed".into(),
                now,
            },
        )
        .await?
        .map_err(|_| AdminError::Invalid("the seed enrolment code was refused".into()))?;
    let posyandu = "53.04.05.2001.P01";
    let hh = RecordId::new_v7();
    let mother = RecordId::new_v7();
    let child = RecordId::new_v7();
    let bodies = [
        (
            hh,
            EntityKind::Household,
            json!({"posyandu": posyandu, "head_name": "Bapak Contoh Fiktif", "dusun": "Dusun 1 Naitimu", "rt": "01"}),
        ),
        (
            mother,
            EntityKind::Person,
            json!({"posyandu": posyandu, "household": hh.to_string(), "name": "Ibu Contoh Fiktif", "sex": "female", "birth_date": "1995-03-14", "relation": "spouse"}),
        ),
        (
            child,
            EntityKind::Person,
            json!({"posyandu": posyandu, "household": hh.to_string(), "mother": mother.to_string(), "name": "Anak Contoh Fiktif", "sex": "male", "birth_date": "2024-06-02", "relation": "child"}),
        ),
        (
            RecordId::new_v7(),
            EntityKind::Measurement,
            json!({"posyandu": posyandu, "person": child.to_string(), "type": "weight", "value": 8.4, "unit": "kg", "date": "2025-11-22"}),
        ),
        (
            RecordId::new_v7(),
            EntityKind::Measurement,
            json!({"posyandu": posyandu, "person": child.to_string(), "type": "length_height", "value": 71.5, "unit": "cm", "position": "lying", "date": "2025-11-22"}),
        ),
        (
            RecordId::new_v7(),
            EntityKind::Immunisation,
            json!({"posyandu": posyandu, "person": child.to_string(), "vaccine": "MR1", "date": "2025-11-22"}),
        ),
    ];
    let changes: Vec<Change> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, (id, kind, body))| Change {
            id,
            kind,
            device: device.id,
            seq: i as u64 + 1,
            hlc: Hlc {
                wall_ms: now.saturating_sub(60_000),
                counter: u16::try_from(i).unwrap_or(0),
            },
            author: kader.id,
            schema: sync_protocol::schema::kind_since(kind),
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().unwrap_or_default(),
        })
        .collect();
    let ctx = std::sync::Arc::new(PushContext {
        device: device.id,
        user: kader.id,
        role: kader.role,
        scope_posyandu: store
            .posyandu_under(kader.scope.place.clone())
            .await?
            .into_iter()
            .collect(),
        now_ms: now,
        today: crate::model::today_for_validation(now),
        clock: ClockPolicy::default(),
    });
    let result = store.push(ctx, changes).await?;
    let accepted = result
        .outcomes
        .iter()
        .filter(|o| o.status == sync_protocol::OutcomeStatus::Accepted)
        .count();
    Ok(accepted)
}

/// What `demo_history` made.
#[derive(Debug, Clone, Default)]
pub struct DemoHistorySummary {
    pub users_created: usize,
    pub tablets: usize,
    pub changes_accepted: usize,
    /// Changes the server refused (a generator bug: should be 0).
    pub changes_rejected: usize,
    /// The first few refusals: `<user> seq <n>: <rejection>`.
    pub first_rejections: Vec<String>,
}

/// The demo history ([`crate::demodata`]): adds the history's accounts, enrols one demo
/// tablet per account (see [`crate::demodata::TABLETS`]) and pushes what each recorded
/// through the normal push path, as of `now_ms`. Does nothing when the demo tablets are
/// already there (a second run). Run after [`demo`].
pub async fn demo_history(
    store: &dyn Storage,
    cost: PasswordCost,
    now_ms: u64,
    seed: u64,
) -> Result<DemoHistorySummary, AdminError> {
    use crate::demodata::{self, Actor, TABLETS};
    use crate::sync::PushContext;
    let mut out = DemoHistorySummary::default();
    for (username, name, role, scope) in DEMO_HISTORY_USERS {
        if store.user_by_username(username.into()).await?.is_some() {
            continue;
        }
        add_user(store, username, name, role, scope, DEMO_PASSWORD, cost).await?;
        out.users_created += 1;
    }
    // Device ids from the seed, so a second run finds them.
    let mut rng = sync_protocol::sample::SampleRng::new(seed ^ 0x5eed);
    let mut actors = HashMap::new();
    let mut users = HashMap::new();
    for t in &TABLETS {
        let user = store
            .user_by_username(t.username.into())
            .await?
            .ok_or_else(|| AdminError::NoSuchUser(t.username.into()))?;
        let device = sync_protocol::DeviceId(rng.uuid7(1_700_000_000_000));
        if store.device(device).await?.is_some() {
            return Ok(out);
        }
        actors.insert(
            t.username,
            Actor {
                device,
                user: user.id,
            },
        );
        users.insert(t.username, user);
    }
    let histories = demodata::generate(seed, now_ms, &actors)
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    // Kader first: the bidan's and perawat's changes point at records the kader made.
    let kader_first =
        |h: &demodata::TabletHistory| users.get(h.username).is_none_or(|u| u.role != Role::Kader);
    let mut histories = histories;
    histories.sort_by_key(kader_first);
    for h in histories {
        let Some(user) = users.get(h.username) else {
            continue;
        };
        let spec = TABLETS.iter().find(|t| t.username == h.username);
        let code = issue_enrol_code(store, h.username, 1).await?;
        let normalised = auth::normalise_code(&code)
            .ok_or_else(|| AdminError::Invalid("generated code does not normalise".into()))?;
        store
            .enrol(
                auth::hash_secret(&normalised),
                crate::model::NewDevice {
                    id: h.actor.device,
                    name: spec.map_or("Demo tablet", |t| t.name).into(),
                    token_hash: auth::hash_secret(&auth::new_token()?),
                    app_version: "demo".into(),
                    now: h.enrolled_ms,
                },
            )
            .await?
            .map_err(|_| AdminError::Invalid("a demo enrolment code was refused".into()))?;
        out.tablets += 1;
        let ctx = std::sync::Arc::new(PushContext {
            device: h.actor.device,
            user: user.id,
            role: user.role,
            scope_posyandu: store
                .posyandu_under(user.scope.place.clone())
                .await?
                .into_iter()
                .collect(),
            now_ms: h.last_sync_ms,
            today: crate::model::today_for_validation(h.last_sync_ms),
            clock: sync_protocol::ClockPolicy::default(),
        });
        for batch in h.changes.chunks(500) {
            let result = store.push(ctx.clone(), batch.to_vec()).await?;
            for o in &result.outcomes {
                if o.status == sync_protocol::OutcomeStatus::Accepted {
                    out.changes_accepted += 1;
                } else {
                    out.changes_rejected += 1;
                    if out.first_rejections.len() < 5 {
                        out.first_rejections
                            .push(format!("{} seq {}: {:?}", h.username, o.seq, o.rejection));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The text `jangkau-server demo` prints.
pub fn demo_instructions(s: &DemoSummary, listen: &str) -> String {
    let mut out = format!(
        "Demo district Kabupaten Belu (53.04): {} places, {} new accounts, {} demo records. All persons and accounts are fictional.\n\n",
        s.places, s.users_created, s.records_seeded
    );
    out.push_str("Accounts (password for all: ");
    out.push_str(DEMO_PASSWORD);
    out.push_str(")\n");
    for (u, name, role, scope) in DEMO_USERS {
        out.push_str(&format!(
            "  {u:<18} {:<16} scope {scope:<18} {name}\n",
            role_str(role)
        ));
    }
    out.push_str(&format!(
        "\nStart the server:   jangkau-server serve   (listens on {listen})\n\
         Enrolment code for kader.mawar's tablet (valid 24 h, single use): {}\n\
         More codes:          jangkau-server device code --username bidan.naitimu\n\
         A device enrols with POST /v1/enrol (header Jangkau-Protocol: {v}) {{\"v\":{v},\"code\":\"{}\",...}}, then logs in with\n\
         POST /v1/login (Authorization: Device <device_token>) as kader.mawar / {}.\n\n\
         Web dashboard (Dasbor): http://{listen}/  log in as dinas / {} (dinas_admin, the whole\n\
         kabupaten) or admin.halilulik / {} (puskesmas_admin, Puskesmas Halilulik).\n",
        s.kader_code,
        s.kader_code,
        DEMO_PASSWORD,
        DEMO_PASSWORD,
        DEMO_PASSWORD,
        v = sync_protocol::PROTOCOL_VERSION
    ));
    out
}

#[cfg(test)]
mod place_code_tests {
    use super::*;

    const HEAD: &str = "code,name,level,parent\n";

    fn parse(rows: &str) -> Result<Vec<Place>, String> {
        parse_places_csv(format!("{HEAD}{rows}").as_bytes(), &[]).map_err(|e| e.to_string())
    }

    #[test]
    fn kemendagri_codes_are_accepted_down_to_the_desa() {
        // Belu's code (53.04) is Kemendagri's; the kecamatan and desa below are the demo's
        // codes in the same shape (PP.KK.CC and PP.KK.CC.DDDD).
        let places = parse(
            "53.04,Kabupaten Belu,kabupaten,\n\
             53.04.05,Kecamatan Tasifeto Barat,kecamatan,53.04\n\
             53.04.PKM07,Puskesmas Halilulik,puskesmas,53.04.05\n\
             53.04.05.2001,Desa Naitimu,desa,53.04.PKM07\n\
             53.04.05.1001,Kelurahan contoh,desa,53.04.PKM07\n\
             53.04.05.2001.D1,Dusun 1 Naitimu,dusun,53.04.05.2001\n\
             53.04.05.2001.P01,Posyandu Mawar,posyandu,53.04.05.2001.D1\n",
        )
        .expect("Kemendagri-shaped codes");
        assert_eq!(places.len(), 7);
        // Every place of the demo district has the shape too.
        for p in demo_places() {
            assert_eq!(
                check_kemendagri_shape(&p.code, p.level),
                Ok(()),
                "{}",
                p.code
            );
        }
    }

    #[test]
    fn misshapen_region_codes_are_refused_with_the_form_to_use() {
        for (row, why) in [
            ("5304,Kabupaten Belu,kabupaten,", "PP.KK.CC.DDDD"),
            ("53.4,Kabupaten Belu,kabupaten,", "PP.KK.CC.DDDD"),
            ("53.04.5,Kecamatan X,kecamatan,53.04", "PP.KK.CC.DDDD"),
            ("5304052001,Desa X,desa,53.04", "PP.KK.CC.DDDD"),
            ("53.04.05.201,Desa X,desa,53.04", "PP.KK.CC.DDDD"),
            ("53.04.05,Desa X,desa,53.04", "desa has 4 parts"),
            (
                "53.04.05.2001,Kecamatan X,kecamatan,53.04",
                "kecamatan has 3 parts",
            ),
            ("53,Kabupaten X,kabupaten,", "kabupaten has 2 parts"),
            ("53..04,Kabupaten X,kabupaten,", "not a place code"),
        ] {
            let e = parse(&format!("53.04,Kabupaten Belu,kabupaten,\n{row}\n")).expect_err(row);
            assert!(e.contains(why), "{row}: {e}");
        }
    }
}
