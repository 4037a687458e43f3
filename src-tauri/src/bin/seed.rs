//! `jangkau-seed`: prepares a data directory holding many persons, for the cold-start figure
//! (launch to an unlocked Beranda). Not part of the app: built only with `--features seed`.
//!
//! ```text
//! cargo run -p jangkau-app --release --features seed --bin jangkau-seed -- \
//!     --data /tmp/jangkau-50k [--persons 50000] [--per-posyandu 250] \
//!     [--username kader.mawar] [--pin 147258]
//! ```
//!
//! The tablet is made as an enrolled one would look after pulling its area: one kader of
//! Posyandu Mawar (`53.04.05.2001.P01`), real Argon2id parameters, the places of 20 desa
//! with 10 posyandu each, and households of four (two adults, two children under five) with
//! visits, weighings, heights and immunisations, applied as pulled pages from another device.
//! The kader's posyandu holds `--per-posyandu` of the persons (a posyandu's real size), the
//! rest are spread over the others. It is not enrolled with a server: the first sync after
//! unlock fails with "not enrolled", which the Beranda shows.
#![forbid(unsafe_code)]

use field_core::{KdfParams, LocalUser, OpenOptions, Place, Store};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use sync_protocol::sample::SampleRng;
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, PlaceLevel, RecordId, Scope, UserId};

const DESA: u64 = 20;
const POSYANDU_PER_DESA: u64 = 10;
const KADER_POSYANDU: &str = "53.04.05.2001.P01";
const PAGE: usize = 2_000;
const DAY_MS: u64 = 86_400_000;

const FIRST: &[&str] = &[
    "Yohanes",
    "Maria",
    "Fransiskus",
    "Agustina",
    "Petrus",
    "Kristina",
    "Yosef",
    "Theresia",
    "Paulus",
    "Elisabeth",
    "Antonius",
    "Margaretha",
    "Dominikus",
    "Veronika",
    "Aloysius",
    "Yuliana",
    "Benediktus",
    "Florentina",
    "Siti",
    "Ahmad",
];
const LAST: &[&str] = &[
    "Bria", "Mau", "Bere", "Luruk", "Hale", "Seran", "Tae", "Klau", "Asa", "Nahak", "Atok", "Bau",
    "Leki", "Fahik", "Manek", "Taek", "Loe", "Kehi", "Besin", "Mali",
];

struct Args {
    data: PathBuf,
    persons: u64,
    per_posyandu: u64,
    username: String,
    pin: String,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: jangkau-seed --data DIR [--persons N] [--per-posyandu N] [--username U] [--pin PIN]"
    );
    ExitCode::from(2)
}

fn parse() -> Option<Args> {
    let mut a = Args {
        data: PathBuf::new(),
        persons: 50_000,
        per_posyandu: 250,
        username: "kader.mawar".into(),
        pin: "147258".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next()?;
        match flag.as_str() {
            "--data" => a.data = PathBuf::from(v),
            "--persons" => a.persons = v.parse().ok()?,
            "--per-posyandu" => a.per_posyandu = v.parse().ok()?,
            "--username" => a.username = v,
            "--pin" => a.pin = v,
            _ => return None,
        }
    }
    (!a.data.as_os_str().is_empty() && a.persons >= 4).then_some(a)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn date(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn posyandu_code(i: u64) -> String {
    format!(
        "53.04.05.{:04}.P{:02}",
        2001 + i / POSYANDU_PER_DESA,
        1 + i % POSYANDU_PER_DESA
    )
}

fn places() -> Vec<Place> {
    let mut out = vec![
        Place {
            code: "53.04".into(),
            level: PlaceLevel::Kabupaten,
            name: "Belu".into(),
            parent: None,
        },
        Place {
            code: "53.04.05".into(),
            level: PlaceLevel::Kecamatan,
            name: "Tasifeto Barat".into(),
            parent: Some("53.04".into()),
        },
    ];
    for d in 0..DESA {
        let desa = format!("53.04.05.{:04}", 2001 + d);
        out.push(Place {
            code: desa.clone(),
            level: PlaceLevel::Desa,
            name: format!("Desa {}", d + 1),
            parent: Some("53.04.05".into()),
        });
    }
    for i in 0..DESA * POSYANDU_PER_DESA {
        let code = posyandu_code(i);
        out.push(Place {
            name: if code == KADER_POSYANDU {
                "Posyandu Mawar".into()
            } else {
                format!("Posyandu {}", i + 1)
            },
            parent: Some(code[..13].to_string()),
            code,
            level: PlaceLevel::Posyandu,
        });
    }
    out
}

/// Pulled changes from one other tablet of the district.
struct Gen {
    rng: SampleRng,
    device: DeviceId,
    author: UserId,
    seq: u64,
    ms: u64,
    now: u64,
}

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[usize::try_from(self.rng.below(from.len() as u64)).unwrap_or(0)]
    }

    fn change(&mut self, id: RecordId, kind: EntityKind, body: serde_json::Value) -> Change {
        self.seq += 1;
        self.ms += 1 + self.rng.below(3);
        Change {
            id,
            kind,
            device: self.device,
            seq: self.seq,
            hlc: Hlc {
                wall_ms: self.ms,
                counter: 0,
            },
            author: self.author,
            schema: 1,
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().unwrap_or_default(),
        }
    }

    fn id(&mut self) -> RecordId {
        let ms = self.ms;
        RecordId(self.rng.uuid7(ms))
    }

    /// A household of four in `posyandu`: two adults and two children under five, each child
    /// with monthly visits and weighings over the last months and an immunisation.
    fn household(&mut self, n: u64, posyandu: &str, out: &mut Vec<Change>) {
        let hh = self.id();
        let last = self.pick(LAST);
        let head = format!("{} {last}", self.pick(FIRST));
        out.push(self.change(
            hh,
            EntityKind::Household,
            json!({"posyandu": posyandu, "head_name": head, "dusun": format!("Dusun {}", 1 + n % 6),
                   "rt": format!("{:03}", 1 + n % 12), "rw": format!("{:03}", 1 + n % 4)}),
        ));
        let mut mother = None;
        for k in 0..4u64 {
            let p = self.id();
            let child = k >= 2;
            let name = if k == 0 {
                head.clone()
            } else {
                format!("{} {} {last}", self.pick(FIRST), self.pick(FIRST))
            };
            let birth_ms = if child {
                self.now - (180 + self.rng.below(4 * 365 - 180)) * DAY_MS
            } else {
                self.now - (20 * 365 + self.rng.below(30 * 365)) * DAY_MS
            };
            let sex = if k == 1 || (child && self.rng.below(2) == 0) {
                "female"
            } else {
                "male"
            };
            let relation = match k {
                0 => "head",
                1 => "spouse",
                _ => "child",
            };
            let mut body = json!({"posyandu": posyandu, "household": hh.to_string(), "name": name,
                "sex": sex, "birth_date": date(birth_ms), "status": "active", "relation": relation});
            if child && let Some(m) = mother {
                body["mother"] = json!(RecordId::to_string(&m));
            }
            if k == 1 {
                mother = Some(p);
            }
            out.push(self.change(p, EntityKind::Person, body));
            if !child {
                continue;
            }
            let age_days = (self.now - birth_ms) / DAY_MS;
            for month in 1..=5u64 {
                let back = month * 30;
                if back + 10 > age_days {
                    break;
                }
                let day = date(self.now - back * DAY_MS);
                let age_m = (age_days - back) as f64 / 30.4;
                let visit = self.id();
                out.push(self.change(
                    visit,
                    EntityKind::Visit,
                    json!({"posyandu": posyandu, "person": p.to_string(), "type": "posyandu", "date": day}),
                ));
                let kg = 3.3
                    + 0.45 * age_m.min(12.0)
                    + 0.18 * (age_m - 12.0).max(0.0)
                    + self.rng.below(10) as f64 / 10.0;
                let f = self.id();
                out.push(self.change(
                    f,
                    EntityKind::Measurement,
                    json!({"posyandu": posyandu, "person": p.to_string(), "type": "weight",
                           "value": (kg * 10.0).round() / 10.0, "unit": "kg", "date": day}),
                ));
                if month == 1 {
                    let cm = 50.0 + 2.0 * age_m.min(12.0) + 0.8 * (age_m - 12.0).max(0.0);
                    let f = self.id();
                    out.push(self.change(
                        f,
                        EntityKind::Measurement,
                        json!({"posyandu": posyandu, "person": p.to_string(), "type": "length_height",
                               "value": (cm * 10.0).round() / 10.0, "unit": "cm",
                               "position": if age_m < 24.0 { "lying" } else { "standing" }, "date": day}),
                    ));
                }
            }
            let f = self.id();
            out.push(self.change(
                f,
                EntityKind::Immunisation,
                json!({"posyandu": posyandu, "person": p.to_string(), "vaccine": "HB0",
                       "date": date(birth_ms)}),
            ));
        }
    }
}

fn main() -> ExitCode {
    let Some(args) = parse() else {
        return usage();
    };
    match seed(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jangkau-seed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn seed(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    std::fs::create_dir_all(&args.data)?;
    let db = args.data.join(jangkau_app_lib::settings::DB_FILE);
    let user = LocalUser {
        user_id: UserId::new_v7(),
        username: args.username.clone(),
        display_name: "Kader Contoh Mawar (seed)".into(),
        role: "kader".into(),
    };
    let opts = OpenOptions::default().with_kdf(KdfParams::TABLET);
    let mut store = Store::create(&db, DeviceId::new_v7(), &user, &args.pin, opts)?;
    store.replace_places(&places())?;
    store.set_scope(&Scope {
        level: PlaceLevel::Posyandu,
        place: KADER_POSYANDU.into(),
    })?;
    let now = now_ms();
    let mut g = Gen {
        rng: SampleRng::new(7),
        device: DeviceId::new_v7(),
        author: UserId::new_v7(),
        seq: 0,
        ms: now - 30 * DAY_MS,
        now,
    };
    let households = args.persons / 4;
    let own = (args.per_posyandu / 4).min(households);
    let others = DESA * POSYANDU_PER_DESA - 1;
    let mut page = Vec::with_capacity(PAGE + 64);
    for n in 0..households {
        let posyandu = if n < own {
            KADER_POSYANDU.to_string()
        } else {
            posyandu_code(1 + (n - own) % others)
        };
        g.household(n, &posyandu, &mut page);
        if page.len() >= PAGE {
            store.apply_pulled(&page, Some(&format!("seed-{n}")), None)?;
            page.clear();
        }
    }
    if !page.is_empty() {
        store.apply_pulled(&page, Some("seed-end"), None)?;
    }
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
    let count = |sql: &str| -> Result<i64, Box<dyn std::error::Error>> {
        Ok(store.connection().query_row(sql, [], |r| r.get(0))?)
    };
    println!(
        "Seeded {} with {} persons ({} in {KADER_POSYANDU}), {} facts, in {:.1} s.",
        args.data.display(),
        count("SELECT count(*) FROM persons")?,
        count(&format!(
            "SELECT count(*) FROM persons WHERE posyandu = '{KADER_POSYANDU}'"
        ))?,
        count("SELECT count(*) FROM facts")?,
        t.elapsed().as_secs_f64()
    );
    println!("Unlock as {} with PIN {}.", args.username, args.pin);
    Ok(())
}
