//! Generated demo history for the Belu demo district: six months (and the current one) of
//! posyandu days in the three desa of Puskesmas Halilulik, as the tablets of their kader,
//! bidan and the puskesmas perawat would have recorded and pushed them.
//!
//! Pure: [`generate`] turns a seed, the current time and the tablets' identities into the
//! changes each tablet would send (sync-protocol's body schema version 1, what field-core
//! writes: households and persons, posyandu sessions, visits, weights, lengths/heights,
//! LiLA, immunisations by the national schedule, vitamin A, pregnancies with ANC contacts
//! and Hb, referrals and their events). [`crate::admin::demo_history`] enrols the tablets and
//! pushes these through the normal push path; tests may push them anywhere else.
//!
//! The mix: children under five whose length follows a WHO length/height-for-age z-score of
//! their own (Belu's stunting is common) and whose weight follows weight-for-length, with
//! noise and a few faltering spells (weight not rising: "T"; some fall below the red line:
//! BGM), children not brought some months, doses on time, late or stopped, pregnant women
//! starting ANC early or late (some with KEK or anaemia) who deliver and bring the newborn,
//! referrals made by kader and received or closed by the perawat. Each tablet last synced at
//! its own time (hours to weeks ago); what it recorded after that is not on the server.
//! Deterministic for a seed and a date.

use chrono::{Datelike, Days, Months, NaiveDate};
use health_rules::Sex;
use health_rules::growth::{Indicator, sd_curve, sd_curve_for_length, weight_for_age_z};
use health_rules::immunisation::Schedule;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use sync_protocol::sample::SampleRng;
use sync_protocol::{Body, Change, DeviceId, EntityKind, Hlc, RecordId, Stamp, UserId};

/// The seed `jangkau-server demo` uses.
pub const SEED: u64 = 0x4a41_4e47_4b41_5521;
/// Months of history before the current month.
pub const MONTHS: u32 = 6;

/// One posyandu of the history: code, name, its kader, its bidan, its day of the month.
pub struct PosyanduSpec {
    pub code: &'static str,
    pub name: &'static str,
    pub dusun: &'static str,
    pub kader: &'static str,
    pub bidan: &'static str,
    pub day: u32,
}

pub const POSYANDU: [PosyanduSpec; 6] = [
    PosyanduSpec {
        code: "53.04.05.2001.P01",
        name: "Mawar",
        dusun: "Dusun 1 Naitimu",
        kader: "kader.mawar",
        bidan: "bidan.naitimu",
        day: 8,
    },
    PosyanduSpec {
        code: "53.04.05.2001.P02",
        name: "Melati",
        dusun: "Dusun 2 Naitimu",
        kader: "kader.melati",
        bidan: "bidan.naitimu",
        day: 12,
    },
    PosyanduSpec {
        code: "53.04.05.2002.P01",
        name: "Anggrek",
        dusun: "Dusun 1 Tulamalae",
        kader: "kader.anggrek",
        bidan: "bidan.tulamalae",
        day: 5,
    },
    PosyanduSpec {
        code: "53.04.05.2002.P02",
        name: "Kenanga",
        dusun: "Dusun 2 Tulamalae",
        kader: "kader.kenanga",
        bidan: "bidan.tulamalae",
        day: 15,
    },
    PosyanduSpec {
        code: "53.04.05.2003.P01",
        name: "Cempaka",
        dusun: "Dusun 1 Bakustulama",
        kader: "kader.cempaka",
        bidan: "bidan.bakustulama",
        day: 10,
    },
    PosyanduSpec {
        code: "53.04.05.2003.P02",
        name: "Flamboyan",
        dusun: "Dusun 2 Bakustulama",
        kader: "kader.flamboyan",
        bidan: "bidan.bakustulama",
        day: 20,
    },
];

/// The user who receives and closes referrals (scope: the puskesmas).
pub const PERAWAT: &str = "perawat.halilulik";

/// One demo tablet: its user, its name, and how long ago it last synced.
pub struct TabletSpec {
    pub username: &'static str,
    pub name: &'static str,
    pub hours_since_sync: u64,
}

/// The demo tablets, one per user. The kader tablets of Mawar, Melati, Anggrek and Cempaka
/// synced within the last 14 hours (so yesterday's posyandu day is on the server); those of
/// Kenanga and Flamboyan have not synced for more than a week (the tablet report shows them
/// stale; their latest posyandu days are not on the server yet).
pub const TABLETS: [TabletSpec; 10] = [
    TabletSpec {
        username: "kader.mawar",
        name: "Tablet Posyandu Mawar (demo)",
        hours_since_sync: 3,
    },
    TabletSpec {
        username: "kader.melati",
        name: "Tablet Posyandu Melati (demo)",
        hours_since_sync: 10,
    },
    TabletSpec {
        username: "kader.anggrek",
        name: "Tablet Posyandu Anggrek (demo)",
        hours_since_sync: 13,
    },
    TabletSpec {
        username: "kader.kenanga",
        name: "Tablet Posyandu Kenanga (demo)",
        hours_since_sync: 9 * 24,
    },
    TabletSpec {
        username: "kader.cempaka",
        name: "Tablet Posyandu Cempaka (demo)",
        hours_since_sync: 6,
    },
    TabletSpec {
        username: "kader.flamboyan",
        name: "Tablet Posyandu Flamboyan (demo)",
        hours_since_sync: 20 * 24,
    },
    TabletSpec {
        username: "bidan.naitimu",
        name: "Tablet Bidan Naitimu (demo)",
        hours_since_sync: 5,
    },
    TabletSpec {
        username: "bidan.tulamalae",
        name: "Tablet Bidan Tulamalae (demo)",
        hours_since_sync: 30,
    },
    TabletSpec {
        username: "bidan.bakustulama",
        name: "Tablet Bidan Bakustulama (demo)",
        hours_since_sync: 100,
    },
    TabletSpec {
        username: PERAWAT,
        name: "Tablet Perawat Halilulik (demo)",
        hours_since_sync: 2,
    },
];

/// A tablet as the server knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub device: DeviceId,
    pub user: UserId,
}

/// What one tablet pushed: its changes (seq 1, 2, ... in HLC order) and when it synced.
#[derive(Debug, Clone)]
pub struct TabletHistory {
    pub username: &'static str,
    pub actor: Actor,
    pub last_sync_ms: u64,
    /// When it was enrolled (before its first change).
    pub enrolled_ms: u64,
    pub changes: Vec<Change>,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoDataError {
    #[error("no identity for the demo tablet of {0}")]
    NoActor(String),
}

const GIVEN_F: &[&str] = &[
    "Maria",
    "Agnes",
    "Theresia",
    "Yosefina",
    "Angela",
    "Emilia",
    "Veronika",
    "Margaretha",
    "Yuliana",
    "Florentina",
    "Natalia",
    "Kristina",
];
const GIVEN_M: &[&str] = &[
    "Yohanes",
    "Fransiskus",
    "Kristoforus",
    "Petrus",
    "Mikael",
    "Aloysius",
    "Dominikus",
    "Gabriel",
    "Benediktus",
    "Stefanus",
    "Yosef",
    "Antonius",
];
/// Family names of Belu (Tetun and Dawan), shared with the simulator (`tests/src/sim`).
pub const FAMILY: &[&str] = &[
    "Bere", "Mau", "Luan", "Seran", "Atok", "Nahak", "Taek", "Klau", "Asa", "Tahu", "Leki", "Mali",
    "Bria", "Fahik", "Lau", "Nurak",
];
/// Counselling a kader writes after a weighing.
pub const COUNSELLING: &[&str] = &[
    "ASI eksklusif sampai 6 bulan",
    "MP-ASI dengan protein hewani (telur, ikan)",
    "Cuci tangan pakai sabun sebelum makan",
    "Datang lagi bulan depan untuk imunisasi",
    "Berat badan naik, pertahankan pola makan",
];
/// Household water sources (the household form's values).
pub const WATER: &[&str] = &["piped", "well", "spring", "rain", "bought"];

/// 09:00 WITA (01:00 UTC) of a day, in ms since the epoch.
fn day_ms(d: NaiveDate) -> u64 {
    d.and_hms_opt(1, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .and_then(|ms| u64::try_from(ms).ok())
        .unwrap_or(0)
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn r1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The value at a fractional z-score on a curve of −3..+3 SD (linear between the SD points,
/// extended beyond ±3 by the last step).
fn at_z(curve: [f64; 7], z: f64) -> f64 {
    let z = z.clamp(-4.0, 4.0);
    let pos = z + 3.0;
    let i = (pos.floor() as i64).clamp(0, 5) as usize;
    let f = pos - i as f64;
    curve[i] + (curve[i + 1] - curve[i]) * f
}

struct Rng(SampleRng);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
    fn pct(&mut self, p: u64) -> bool {
        self.0.below(100) < p
    }
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A standard normal number (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
    fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let days = (to - from).num_days().max(0) as u64;
        from + Days::new(self.below(days + 1))
    }
}

/// One change not yet numbered.
struct Draft {
    wall_ms: u64,
    id: RecordId,
    kind: EntityKind,
    body: Body,
    base: BTreeMap<String, Stamp>,
}

/// The changes of one tablet, collected in any order and numbered at the end.
struct Recorder {
    actor: Actor,
    drafts: Vec<Draft>,
    /// The next free ms of each day (changes of one tablet get distinct times).
    next: HashMap<NaiveDate, u64>,
    /// The current time.
    now_ms: u64,
}

impl Recorder {
    /// Adds a change on `date`; returns its id and stamp.
    fn add(
        &mut self,
        rng: &mut Rng,
        date: NaiveDate,
        kind: EntityKind,
        id: Option<RecordId>,
        body: Value,
        base: BTreeMap<String, Stamp>,
    ) -> (RecordId, Stamp) {
        // Today's posyandu day (on the 1st of a month) starts a few hours before now.
        let start = day_ms(date).min(self.now_ms.saturating_sub(4 * 3_600_000));
        let slot = self.next.entry(date).or_insert(start);
        let wall_ms = *slot;
        *slot += 1_000 + rng.below(20_000);
        let id = id.unwrap_or_else(|| RecordId(rng.0.uuid7(wall_ms)));
        let body = match body {
            Value::Object(m) => m,
            _ => Body::new(),
        };
        self.drafts.push(Draft {
            wall_ms,
            id,
            kind,
            body,
            base,
        });
        let stamp = Stamp {
            hlc: Hlc {
                wall_ms,
                counter: 0,
            },
            device: self.actor.device,
        };
        (id, stamp)
    }

    /// The tablet's changes up to its last sync, numbered.
    fn finish(mut self, last_sync_ms: u64) -> Vec<Change> {
        self.drafts.sort_by_key(|d| d.wall_ms);
        self.drafts
            .into_iter()
            .filter(|d| d.wall_ms <= last_sync_ms)
            .enumerate()
            .map(|(i, d)| Change {
                id: d.id,
                kind: d.kind,
                device: self.actor.device,
                seq: i as u64 + 1,
                hlc: Hlc {
                    wall_ms: d.wall_ms,
                    counter: 0,
                },
                author: self.actor.user,
                schema: sync_protocol::schema::SCHEMA_VERSION,
                tombstone: false,
                supersedes: None,
                base: d.base,
                body: d.body,
            })
            .collect()
    }
}

/// A child under five followed by the history.
struct Child {
    id: RecordId,
    sex: Sex,
    birth: NaiveDate,
    /// Registered on this posyandu day (or before the history).
    registered: NaiveDate,
    /// Length/height-for-age z of the child (stable) and weight-for-length z (drifting).
    z_len: f64,
    z_wfl: f64,
    base_wfl: f64,
    attend_pct: u64,
    /// Months a dose comes late; `stop_after`: doses given at most (then the family stops).
    late_months: u32,
    stop_after: usize,
    /// Indices of the doses given (or copied from the book, or missing from it).
    given: Vec<usize>,
    copied_history: bool,
    last_length: f64,
    faltering: u32,
    last_referral: Option<NaiveDate>,
}

/// A pregnancy of the history.
struct Mother {
    person: RecordId,
    hpht: NaiveDate,
    kek: bool,
    anaemic: bool,
    /// ANC weeks planned (K1..K6), some missed.
    contacts: Vec<(u32, u32)>,
    gravida: i64,
    household: RecordId,
    family: &'static str,
}

/// What one posyandu's history needs from the shared state.
struct Ctx<'a> {
    rng: &'a mut Rng,
    today: NaiveDate,
    recorders: &'a mut HashMap<&'static str, Recorder>,
    last_sync: &'a HashMap<&'static str, u64>,
    schedule: &'static Schedule,
}

fn nik(rng: &mut Rng, birth: NaiveDate, female: bool) -> String {
    let day = birth.day() + if female { 40 } else { 0 };
    format!(
        "530405{day:02}{:02}{:02}{:04}",
        birth.month(),
        birth.year() % 100,
        rng.below(9000) + 1
    )
}

/// The posyandu day of the month `k` months before today's (`k = 0`: this month, on a day
/// not after yesterday, or today on the 1st).
fn posyandu_day(today: NaiveDate, k: u32, day: u32) -> Option<NaiveDate> {
    let first = today.with_day(1)?.checked_sub_months(Months::new(k))?;
    let day = if k == 0 {
        day.min(today.day().saturating_sub(1)).max(1)
    } else {
        day
    };
    first.with_day(day)
}

/// Generates the history of every demo tablet. `actors` gives each tablet's device and user
/// (by username); `now_ms` is the current time.
pub fn generate(
    seed: u64,
    now_ms: u64,
    actors: &HashMap<&str, Actor>,
) -> Result<Vec<TabletHistory>, DemoDataError> {
    let today = crate::readmodel::reports::today(now_ms);
    let mut rng = Rng(SampleRng::new(seed));
    let mut recorders = HashMap::new();
    let mut last_sync = HashMap::new();
    for t in &TABLETS {
        let actor = *actors
            .get(t.username)
            .ok_or_else(|| DemoDataError::NoActor(t.username.into()))?;
        // On the 1st, this month's posyandu day is today, a few hours ago: the tablets
        // that synced today have it.
        let hours = if today.day() == 1 && t.hours_since_sync < 24 {
            t.hours_since_sync.min(3)
        } else {
            t.hours_since_sync
        };
        let ls = now_ms.saturating_sub(hours * 3_600_000);
        last_sync.insert(t.username, ls);
        recorders.insert(
            t.username,
            Recorder {
                actor,
                drafts: Vec::new(),
                next: HashMap::new(),
                now_ms,
            },
        );
    }
    let mut ctx = Ctx {
        rng: &mut rng,
        today,
        recorders: &mut recorders,
        last_sync: &last_sync,
        schedule: Schedule::national_2024(),
    };
    for (i, p) in POSYANDU.iter().enumerate() {
        posyandu_history(&mut ctx, p, 16 + (i as u64 * 3) % 7)?;
    }
    let start = posyandu_day(today, MONTHS, 1).unwrap_or(today);
    let enrolled_ms = day_ms(start).saturating_sub(30 * 86_400_000);
    let mut out = Vec::new();
    for t in &TABLETS {
        let Some(rec) = recorders.remove(t.username) else {
            continue;
        };
        let actor = rec.actor;
        let ls = last_sync.get(t.username).copied().unwrap_or(now_ms);
        out.push(TabletHistory {
            username: t.username,
            actor,
            last_sync_ms: ls,
            enrolled_ms,
            changes: rec.finish(ls),
        });
    }
    Ok(out)
}

fn rec<'a>(
    recorders: &'a mut HashMap<&'static str, Recorder>,
    who: &str,
) -> Result<&'a mut Recorder, DemoDataError> {
    recorders
        .get_mut(who)
        .ok_or_else(|| DemoDataError::NoActor(who.into()))
}

/// Registers a family (household, father, mother, children born at `births`) on `date`.
/// Returns (household, mother, children ids, family name).
fn register_family(
    ctx: &mut Ctx<'_>,
    p: &PosyanduSpec,
    date: NaiveDate,
    n: u64,
    births: &[(NaiveDate, Sex)],
    mother_birth: NaiveDate,
) -> Result<(RecordId, RecordId, Vec<RecordId>, &'static str), DemoDataError> {
    let rng = &mut *ctx.rng;
    let family = rng.pick(FAMILY);
    let father_name = format!("{} {family}", rng.pick(GIVEN_M));
    let father_birth = mother_birth
        .checked_sub_months(Months::new(rng.below(96) as u32))
        .unwrap_or(mother_birth);
    let rt = format!("{:03}", n % 8 + 1);
    let hh_body = json!({
        "posyandu": p.code,
        "kk_number": format!("5304052001{:06}", rng.below(1_000_000)),
        "head_name": father_name,
        "address": format!("RT {rt} / RW 00{}", n % 3 + 1),
        "dusun": p.dusun,
        "rt": rt,
        "jkn": rng.below(4) != 0,
        "latrine": rng.below(3) != 0,
        "water_source": rng.pick(WATER),
    });
    let father_nik = nik(rng, father_birth, false);
    let mother_nik = nik(rng, mother_birth, true);
    let mother_name = format!("{} {family}", rng.pick(GIVEN_F));
    let phone = format!("0812{:08}", rng.below(100_000_000));
    let kader = rec(ctx.recorders, p.kader)?;
    let (hh, _) = kader.add(
        ctx.rng,
        date,
        EntityKind::Household,
        None,
        hh_body,
        BTreeMap::new(),
    );
    kader.add(
        ctx.rng,
        date,
        EntityKind::Person,
        None,
        json!({"posyandu": p.code, "household": hh.to_string(), "name": father_name,
               "sex": "male", "birth_date": ymd(father_birth), "nik": father_nik,
               "relation": "head", "rt": rt}),
        BTreeMap::new(),
    );
    let (mother, _) = kader.add(
        ctx.rng,
        date,
        EntityKind::Person,
        None,
        json!({"posyandu": p.code, "household": hh.to_string(), "name": mother_name,
               "sex": "female", "birth_date": ymd(mother_birth), "nik": mother_nik,
               "relation": "spouse", "phone": phone, "rt": rt}),
        BTreeMap::new(),
    );
    let mut kids = Vec::new();
    for (birth, sex) in births {
        let given = match sex {
            Sex::Female => ctx.rng.pick(GIVEN_F),
            Sex::Male => ctx.rng.pick(GIVEN_M),
        };
        let has_kms = ctx.rng.pct(90);
        let (id, _) = kader.add(
            ctx.rng,
            date,
            EntityKind::Person,
            None,
            json!({"posyandu": p.code, "household": hh.to_string(), "mother": mother.to_string(),
                   "name": format!("{given} {family}"), "sex": sex_str(*sex),
                   "birth_date": ymd(*birth), "relation": "child", "has_kms": has_kms, "rt": rt}),
            BTreeMap::new(),
        );
        kids.push(id);
    }
    Ok((hh, mother, kids, family))
}

fn sex_str(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

fn new_child(rng: &mut Rng, id: RecordId, sex: Sex, birth: NaiveDate, reg: NaiveDate) -> Child {
    let stop = if rng.pct(10) {
        3 + rng.below(8) as usize
    } else {
        usize::MAX
    };
    let base_wfl = -0.5 + 0.9 * rng.normal();
    Child {
        id,
        sex,
        birth,
        registered: reg,
        z_len: -1.5 + 1.0 * rng.normal(),
        z_wfl: base_wfl,
        base_wfl,
        attend_pct: 65 + rng.below(33),
        late_months: if rng.pct(70) {
            0
        } else {
            1 + rng.below(3) as u32
        },
        stop_after: stop,
        given: Vec::new(),
        copied_history: false,
        last_length: 0.0,
        faltering: 0,
        last_referral: None,
    }
}

fn posyandu_history(
    ctx: &mut Ctx<'_>,
    p: &PosyanduSpec,
    families: u64,
) -> Result<(), DemoDataError> {
    let today = ctx.today;
    let days: Vec<NaiveDate> = (0..=MONTHS)
        .rev()
        .filter_map(|k| posyandu_day(today, k, p.day))
        .collect();
    let Some(&first) = days.first() else {
        return Ok(());
    };
    // Families with children under five, registered on the first day.
    let mut children: Vec<Child> = Vec::new();
    let mut households = Vec::new();
    let oldest = first.checked_sub_months(Months::new(58)).unwrap_or(first);
    for n in 0..families {
        let kids = if ctx.rng.pct(40) { 2 } else { 1 };
        let mut births: Vec<(NaiveDate, Sex)> = (0..kids)
            .map(|_| {
                let b = ctx.rng.date_between(oldest, first - Days::new(20));
                let s = if ctx.rng.pct(50) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                (b, s)
            })
            .collect();
        births.sort_by_key(|b| b.0);
        let eldest = births.first().map_or(first, |b| b.0);
        let mother_birth = ctx.rng.date_between(
            eldest
                .checked_sub_months(Months::new(36 * 12))
                .unwrap_or(eldest),
            eldest
                .checked_sub_months(Months::new(18 * 12))
                .unwrap_or(eldest),
        );
        let (hh, mother, ids, family) = register_family(ctx, p, first, n, &births, mother_birth)?;
        households.push((hh, mother, family, mother_birth));
        for (id, (b, s)) in ids.into_iter().zip(births) {
            let c = new_child(ctx.rng, id, s, b, first);
            children.push(c);
        }
    }
    // Pregnancies: young couples and some mothers of older children.
    let mut mothers = Vec::new();
    let n_preg = 4 + ctx.rng.below(3);
    for n in 0..n_preg {
        let hpht = ctx.rng.date_between(
            today.checked_sub_months(Months::new(11)).unwrap_or(today),
            today.checked_sub_months(Months::new(1)).unwrap_or(today),
        );
        let (person, household, family, gravida) = if n % 2 == 0 || households.is_empty() {
            let mb = ctx.rng.date_between(
                today
                    .checked_sub_months(Months::new(32 * 12))
                    .unwrap_or(today),
                today
                    .checked_sub_months(Months::new(19 * 12))
                    .unwrap_or(today),
            );
            let (hh, mother, _, family) = register_family(ctx, p, first, families + n, &[], mb)?;
            (mother, hh, family, 1)
        } else {
            let i = ctx.rng.below(households.len() as u64) as usize;
            let (hh, m, family, _) = households.swap_remove(i);
            (m, hh, family, 2 + ctx.rng.below(3) as i64)
        };
        let start_week = if ctx.rng.pct(70) {
            6 + ctx.rng.below(6) as u32
        } else {
            14 + ctx.rng.below(10) as u32
        };
        let mut contacts = Vec::new();
        for (k, week) in [
            (1u32, start_week),
            (2, 12),
            (3, 22),
            (4, 28),
            (5, 33),
            (6, 37),
        ] {
            let week = week.max(start_week + 2 * (k - 1));
            if k == 1 || ctx.rng.pct(85) {
                contacts.push((k, week));
            }
        }
        mothers.push(Mother {
            person,
            hpht,
            kek: ctx.rng.pct(15),
            anaemic: ctx.rng.pct(25),
            contacts,
            gravida,
            household,
            family,
        });
    }
    pregnancies(ctx, p, &mut mothers, &days, &mut children)?;
    for (di, &day) in days.iter().enumerate() {
        posyandu_day_of(ctx, p, day, di, &mut children, &mothers)?;
    }
    Ok(())
}

/// ANC contacts, Hb and deliveries by the bidan; newborns registered by the kader on the
/// next posyandu day.
fn pregnancies(
    ctx: &mut Ctx<'_>,
    p: &PosyanduSpec,
    mothers: &mut [Mother],
    days: &[NaiveDate],
    children: &mut Vec<Child>,
) -> Result<(), DemoDataError> {
    let today = ctx.today;
    let yesterday = today - Days::new(1);
    for m in mothers.iter_mut() {
        let week = |w: u32| m.hpht + Days::new(u64::from(w) * 7 + 3);
        let Some(&(_, k1_week)) = m.contacts.first() else {
            continue;
        };
        let k1 = week(k1_week);
        if k1 > yesterday {
            continue;
        }
        let delivery = m.hpht + Days::new(266 + 7 + ctx.rng.below(14));
        let bidan = rec(ctx.recorders, p.bidan)?;
        let (preg, created) = bidan.add(
            ctx.rng,
            k1,
            EntityKind::Pregnancy,
            None,
            json!({"posyandu": p.code, "person": m.person.to_string(), "hpht": ymd(m.hpht),
                   "gravida": m.gravida, "para": m.gravida - 1, "status": "ongoing"}),
            BTreeMap::new(),
        );
        for &(k, w) in &m.contacts {
            let d = week(w);
            if d > yesterday || d >= delivery {
                break;
            }
            bidan.add(
                ctx.rng,
                d,
                EntityKind::AncContact,
                None,
                json!({"posyandu": p.code, "person": m.person.to_string(),
                       "pregnancy": preg.to_string(), "contact": k, "date": ymd(d),
                       "place": if k == 1 || k == 5 { "Puskesmas Halilulik".to_string() } else { format!("Posyandu {}", p.name) },
                       "by": "Bidan desa (demo)", "by_doctor": k == 1 || k == 5, "ultrasound": k == 1 || k == 5}),
                BTreeMap::new(),
            );
            if k == 1 || k == 3 || k == 5 {
                let hb = if m.anaemic {
                    9.0 + ctx.rng.below(19) as f64 / 10.0
                } else {
                    11.2 + ctx.rng.below(20) as f64 / 10.0
                };
                bidan.add(
                    ctx.rng,
                    d,
                    EntityKind::Measurement,
                    None,
                    json!({"posyandu": p.code, "person": m.person.to_string(), "type": "hb",
                           "value": r1(hb), "unit": "g/dL", "date": ymd(d), "measured_by": "Bidan desa (demo)"}),
                    BTreeMap::new(),
                );
            }
        }
        if delivery <= today - Days::new(3) {
            let mut base = BTreeMap::new();
            base.insert("status".to_string(), created);
            bidan.add(
                ctx.rng,
                delivery + Days::new(2),
                EntityKind::Pregnancy,
                Some(preg),
                json!({"status": "delivered", "delivery_date": ymd(delivery), "outcome": "live_birth"}),
                base,
            );
            // The newborn comes to the next posyandu day, with the KIA book.
            if let Some(&reg) = days.iter().find(|d| **d > delivery + Days::new(3)) {
                let sex = if ctx.rng.pct(50) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let given = match sex {
                    Sex::Female => ctx.rng.pick(GIVEN_F),
                    Sex::Male => ctx.rng.pick(GIVEN_M),
                };
                let kader = rec(ctx.recorders, p.kader)?;
                let (id, _) = kader.add(
                    ctx.rng,
                    reg,
                    EntityKind::Person,
                    None,
                    json!({"posyandu": p.code, "household": m.household.to_string(),
                           "mother": m.person.to_string(), "name": format!("{given} {}", m.family),
                           "sex": sex_str(sex), "birth_date": ymd(delivery), "relation": "child",
                           "has_kms": true}),
                    BTreeMap::new(),
                );
                let mut c = new_child(ctx.rng, id, sex, delivery, reg);
                c.attend_pct = 90;
                children.push(c);
            }
        }
    }
    // Kader's monthly visit of pregnant women (weight, LiLA) is on the posyandu days.
    for &day in days {
        let mut visits = Vec::new();
        for m in mothers.iter() {
            let weeks = (day - m.hpht).num_days() / 7;
            let delivered = (day - m.hpht).num_days() > 266 + 7;
            if !(4..=40).contains(&weeks) || delivered || !ctx.rng.pct(80) {
                continue;
            }
            let muac = if m.kek {
                21.8 + ctx.rng.below(16) as f64 / 10.0
            } else {
                24.0 + ctx.rng.below(50) as f64 / 10.0
            };
            let weight = 46.0 + weeks as f64 * 0.3 + ctx.rng.below(80) as f64 / 10.0;
            // The bidan at the posyandu checks Hb of about half of them.
            let hb = ctx.rng.pct(50).then(|| {
                if m.anaemic {
                    9.0 + ctx.rng.below(19) as f64 / 10.0
                } else {
                    11.2 + ctx.rng.below(20) as f64 / 10.0
                }
            });
            visits.push((m.person, r1(muac), r1(weight), hb));
        }
        let bidan = rec(ctx.recorders, p.bidan)?;
        for (person, _, _, hb) in &visits {
            if let Some(hb) = hb {
                bidan.add(
                    ctx.rng,
                    day,
                    EntityKind::Measurement,
                    None,
                    json!({"posyandu": p.code, "person": person.to_string(), "type": "hb",
                           "value": r1(*hb), "unit": "g/dL", "date": ymd(day),
                           "measured_by": "Bidan desa (demo)"}),
                    BTreeMap::new(),
                );
            }
        }
        let kader = rec(ctx.recorders, p.kader)?;
        for (person, muac, weight, _) in visits {
            let (visit, _) = kader.add(
                ctx.rng,
                day,
                EntityKind::Visit,
                None,
                json!({"posyandu": p.code, "person": person.to_string(), "type": "posyandu",
                       "date": ymd(day)}),
                BTreeMap::new(),
            );
            for (ty, v) in [("weight", weight), ("muac", muac)] {
                let unit = if ty == "weight" { "kg" } else { "cm" };
                kader.add(
                    ctx.rng,
                    day,
                    EntityKind::Measurement,
                    None,
                    json!({"posyandu": p.code, "person": person.to_string(), "visit": visit.to_string(),
                           "type": ty, "value": v, "unit": unit, "date": ymd(day)}),
                    BTreeMap::new(),
                );
            }
        }
    }
    Ok(())
}

/// One posyandu day: the session, and for every child brought a visit, weight, length or
/// height, LiLA from 6 months, the doses due, vitamin A in February and August, and a
/// referral for a child in trouble.
fn posyandu_day_of(
    ctx: &mut Ctx<'_>,
    p: &PosyanduSpec,
    day: NaiveDate,
    day_index: usize,
    children: &mut [Child],
    _mothers: &[Mother],
) -> Result<(), DemoDataError> {
    let kader_last = ctx.last_sync.get(p.kader).copied().unwrap_or(0);
    let perawat_last = ctx.last_sync.get(PERAWAT).copied().unwrap_or(0);
    let kader = rec(ctx.recorders, p.kader)?;
    let (session, _) = kader.add(
        ctx.rng,
        day,
        EntityKind::PosyanduSession,
        None,
        json!({"posyandu": p.code, "date": ymd(day), "service_order": "services_first"}),
        BTreeMap::new(),
    );
    let doses: Vec<_> = ctx
        .schedule
        .doses
        .iter()
        .filter(|d| !d.selected_areas_only)
        .collect();
    let mut referrals = Vec::new();
    for c in children.iter_mut() {
        if c.registered > day || c.birth >= day {
            continue;
        }
        let age_days = u32::try_from((day - c.birth).num_days()).unwrap_or(0);
        if age_days >= 1826 {
            continue;
        }
        // Weight-for-length drifts; a faltering spell pulls it down for two months.
        // Back towards the child's own level, with noise and a slight catch-up.
        c.z_wfl += 0.3 * (c.base_wfl - c.z_wfl) + 0.03 + 0.07 * ctx.rng.normal();
        if c.faltering > 0 {
            c.z_wfl -= 0.45;
            c.faltering -= 1;
        } else if ctx.rng.pct(5) {
            c.faltering = 2;
        }
        let newborn_day = c.registered == day && day_index > 0;
        if !newborn_day && !ctx.rng.pct(c.attend_pct) {
            continue;
        }
        let standing = age_days >= 731;
        let Some(lc) = sd_curve(Indicator::LengthHeightForAge, c.sex, age_days) else {
            continue;
        };
        let length = r1((at_z(lc, c.z_len) + 0.15 * ctx.rng.normal()).max(c.last_length));
        c.last_length = length;
        let wfl = if standing {
            Indicator::WeightForHeight
        } else {
            Indicator::WeightForLength
        };
        let Some(wc) = sd_curve_for_length(wfl, c.sex, length) else {
            continue;
        };
        let weight = r1((at_z(wc, c.z_wfl) + 0.05 * ctx.rng.normal()).max(1.5));
        let kader = rec(ctx.recorders, p.kader)?;
        let counselling = ctx.rng.pct(33).then(|| ctx.rng.pick(COUNSELLING));
        let mut vbody = json!({"posyandu": p.code, "person": c.id.to_string(), "type": "posyandu",
                               "date": ymd(day), "session": session.to_string()});
        if let (Some(t), Some(o)) = (counselling, vbody.as_object_mut()) {
            o.insert("counselling".into(), Value::String(t.into()));
        }
        let (visit, _) = kader.add(
            ctx.rng,
            day,
            EntityKind::Visit,
            None,
            vbody,
            BTreeMap::new(),
        );
        let base = json!({"posyandu": p.code, "person": c.id.to_string(), "visit": visit.to_string(),
                          "date": ymd(day)});
        let with = |extra: Value| {
            let mut b = base.clone();
            if let (Some(o), Value::Object(e)) = (b.as_object_mut(), extra) {
                o.extend(e);
            }
            b
        };
        kader.add(
            ctx.rng,
            day,
            EntityKind::Measurement,
            None,
            with(json!({"type": "weight", "value": weight, "unit": "kg"})),
            BTreeMap::new(),
        );
        kader.add(
            ctx.rng,
            day,
            EntityKind::Measurement,
            None,
            with(
                json!({"type": "length_height", "value": length, "unit": "cm",
                        "position": if standing { "standing" } else { "lying" }}),
            ),
            BTreeMap::new(),
        );
        if age_days >= 183
            && let Some(ac) = sd_curve(Indicator::ArmCircumferenceForAge, c.sex, age_days)
        {
            let muac = r1(at_z(ac, c.z_wfl + 0.3 * ctx.rng.normal()));
            kader.add(
                ctx.rng,
                day,
                EntityKind::Measurement,
                None,
                with(json!({"type": "muac", "value": muac, "unit": "cm"})),
                BTreeMap::new(),
            );
        }
        // Doses: the book's earlier doses copied on the first visit; then those due, by due
        // day (at most 4 at a visit), until the family stops coming for them.
        let mut due: Vec<(NaiveDate, usize)> = doses
            .iter()
            .enumerate()
            .filter(|(i, _)| !c.given.contains(i))
            .filter_map(|(i, d)| Some((d.recommended.from(c.birth)?, i)))
            .collect();
        due.sort();
        let mut given_now = 0;
        for (due_on, i) in due {
            let dose = doses[i];
            let late = due_on
                .checked_add_months(Months::new(c.late_months))
                .unwrap_or(due_on);
            if !c.copied_history && due_on < c.registered - Days::new(20) {
                // From the KIA book (given elsewhere, on its own day).
                c.given.push(i);
                if ctx.rng.pct(90) {
                    let on = (late + Days::new(ctx.rng.below(10)))
                        .min(day - Days::new(1))
                        .max(c.birth);
                    kader.add(
                        ctx.rng,
                        day,
                        EntityKind::Immunisation,
                        None,
                        json!({"posyandu": p.code, "person": c.id.to_string(), "visit": visit.to_string(),
                               "vaccine": dose.id, "date": ymd(on)}),
                        BTreeMap::new(),
                    );
                }
                continue;
            }
            if late > day || given_now >= 4 || c.given.len() >= c.stop_after {
                continue;
            }
            let batch = format!("B{}", 2400 + ctx.rng.below(90));
            kader.add(
                ctx.rng,
                day,
                EntityKind::Immunisation,
                None,
                with(json!({"vaccine": dose.id, "batch": batch})),
                BTreeMap::new(),
            );
            c.given.push(i);
            given_now += 1;
        }
        c.copied_history = true;
        if matches!(day.month(), 2 | 8) && age_days >= 183 {
            let s = if age_days < 365 {
                "vitamin_a_blue"
            } else {
                "vitamin_a_red"
            };
            kader.add(
                ctx.rng,
                day,
                EntityKind::Supplement,
                None,
                with(json!({"supplement": s, "quantity": 1})),
                BTreeMap::new(),
            );
        }
        // A child below the red line, or wasted, is referred (not again within 3 months).
        let wfa = weight_for_age_z(c.sex, age_days, weight).unwrap_or(0.0);
        let recent = c.last_referral.is_some_and(|d| (day - d).num_days() < 90);
        if (wfa < -3.0 || c.z_wfl < -2.5) && !recent && ctx.rng.pct(60) {
            c.last_referral = Some(day);
            let reason = if wfa < -3.0 {
                "Berat badan di bawah garis merah (BGM)"
            } else {
                "Gizi kurang / wasting: berat menurut panjang sangat rendah"
            };
            let (r, stamp) = kader.add(
                ctx.rng,
                day,
                EntityKind::Referral,
                None,
                json!({"posyandu": p.code, "person": c.id.to_string(), "visit": visit.to_string(),
                       "reason": reason, "destination": "puskesmas",
                       "destination_name": "Puskesmas Halilulik", "status": "made"}),
                BTreeMap::new(),
            );
            kader.add(
                ctx.rng,
                day,
                EntityKind::ReferralEvent,
                None,
                json!({"posyandu": p.code, "referral": r.to_string(), "status": "made", "date": ymd(day)}),
                BTreeMap::new(),
            );
            referrals.push((r, stamp));
        }
    }
    // The perawat receives referrals the server has (their tablet synced), and closes most.
    for (r, stamp) in referrals {
        if stamp.hlc.wall_ms > kader_last {
            continue;
        }
        let recv = day + Days::new(2 + ctx.rng.below(6));
        if day_ms(recv) > perawat_last || !ctx.rng.pct(75) {
            continue;
        }
        let perawat = rec(ctx.recorders, PERAWAT)?;
        let mut base = BTreeMap::new();
        base.insert("status".to_string(), stamp);
        let (_, received) = perawat.add(
            ctx.rng,
            recv,
            EntityKind::Referral,
            Some(r),
            json!({"status": "received"}),
            base,
        );
        perawat.add(
            ctx.rng,
            recv,
            EntityKind::ReferralEvent,
            None,
            json!({"posyandu": p.code, "referral": r.to_string(), "status": "received", "date": ymd(recv)}),
            BTreeMap::new(),
        );
        let done = recv + Days::new(7 + ctx.rng.below(14));
        if day_ms(done) > perawat_last || !ctx.rng.pct(70) {
            continue;
        }
        let outcome = "Ditangani di puskesmas: PMT pemulihan dan konseling gizi";
        let mut base = BTreeMap::new();
        base.insert("status".to_string(), received);
        perawat.add(
            ctx.rng,
            done,
            EntityKind::Referral,
            Some(r),
            json!({"status": "done", "outcome": outcome}),
            base,
        );
        perawat.add(
            ctx.rng,
            done,
            EntityKind::ReferralEvent,
            None,
            json!({"posyandu": p.code, "referral": r.to_string(), "status": "done", "date": ymd(done),
                   "note": outcome}),
            BTreeMap::new(),
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn actors() -> HashMap<&'static str, Actor> {
        let mut rng = SampleRng::new(7);
        TABLETS
            .iter()
            .map(|t| {
                (
                    t.username,
                    Actor {
                        device: DeviceId(rng.uuid7(1)),
                        user: UserId(rng.uuid7(1)),
                    },
                )
            })
            .collect()
    }

    const NOW: u64 = 1_796_000_000_000; // 2026-12-01 06:13 UTC

    #[test]
    fn every_change_is_valid_against_the_body_schema() {
        let out = generate(SEED, NOW, &actors()).unwrap();
        let today = crate::model::today_for_validation(NOW);
        let mut seen = std::collections::HashSet::new();
        for t in &out {
            for (i, c) in t.changes.iter().enumerate() {
                assert_eq!(c.seq, i as u64 + 1);
                assert!(c.hlc.wall_ms <= t.last_sync_ms);
                let creates = seen.insert(c.id);
                sync_protocol::schema::validate(c, creates, &today)
                    .unwrap_or_else(|e| panic!("{c:?}: {e:?}"));
            }
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let a = generate(SEED, NOW, &actors()).unwrap();
        let b = generate(SEED, NOW, &actors()).unwrap();
        let ja: Vec<_> = a
            .iter()
            .flat_map(|t| t.changes.iter().map(|c| c.canonical_json()))
            .collect();
        let jb: Vec<_> = b
            .iter()
            .flat_map(|t| t.changes.iter().map(|c| c.canonical_json()))
            .collect();
        assert_eq!(ja, jb);
        assert!(ja.len() > 3_000, "{} changes", ja.len());
    }
}
