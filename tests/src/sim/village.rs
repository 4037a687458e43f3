//! One posyandu's people and its posyandu days, recorded through field-core's domain API
//! exactly as the app does (validation, change capture, outbox, one transaction each).
//!
//! The mix: families of a father, a mother and one or two children under five (household +
//! persons with NIK and KK numbers); on a posyandu day, for each child who comes: a visit
//! (the attendance, with counselling for one in three), a weight, a length or height, a
//! mid-upper arm circumference from six months, the doses of the national schedule that are
//! due (up to four at a visit), vitamin A in February and August, a referral (and its event)
//! for one child in a hundred, and for one child in two a small edit of the person (KMS,
//! RT). The values are deterministic for a seed (record ids and stamps are the store's own).

use super::Result;
use chrono::{Datelike, Months, NaiveDate};
use district_server::demodata::{COUNSELLING, FAMILY, WATER};
use field_core::{
    AttendanceInput, HouseholdInput, ImmunisationInput, MeasurementInput, PersonInput,
    ReferralInput, Services, Store, SupplementInput,
};
use serde_json::json;
use sync_protocol::RecordId;
use sync_protocol::sample::SampleRng;

/// The national schedule, simplified: (youngest age in months, vaccine).
const SCHEDULE: &[(i64, &str)] = &[
    (1, "BCG"),
    (1, "OPV1"),
    (2, "DPT-HB-Hib 1"),
    (2, "OPV2"),
    (2, "PCV1"),
    (2, "RV1"),
    (3, "DPT-HB-Hib 2"),
    (3, "OPV3"),
    (3, "PCV2"),
    (3, "RV2"),
    (4, "DPT-HB-Hib 3"),
    (4, "OPV4"),
    (4, "IPV1"),
    (4, "RV3"),
    (9, "MR1"),
    (9, "IPV2"),
    (12, "PCV3"),
    (18, "DPT-HB-Hib 4"),
    (18, "MR2"),
];

const GIVEN: &[&str] = &[
    "Maria",
    "Yohanes",
    "Agnes",
    "Fransiskus",
    "Theresia",
    "Kristoforus",
    "Yosefina",
    "Petrus",
    "Angela",
    "Mikael",
    "Emilia",
    "Aloysius",
    "Veronika",
    "Dominikus",
    "Margaretha",
    "Gabriel",
    "Yuliana",
    "Benediktus",
    "Florentina",
    "Stefanus",
];

/// A child under five of the posyandu.
#[derive(Debug, Clone)]
pub struct Child {
    pub id: RecordId,
    pub household: RecordId,
    pub birth: NaiveDate,
    /// Index of the next dose of [`SCHEDULE`].
    next_dose: usize,
    seen: bool,
}

/// What one posyandu day recorded.
#[derive(Debug, Clone, Copy, Default)]
pub struct DayStats {
    pub children: usize,
    /// Changes it put in the outbox.
    pub changes: u64,
}

/// One posyandu: its families and children, and a deterministic random source.
pub struct Village {
    pub posyandu: String,
    pub households: Vec<RecordId>,
    pub children: Vec<Child>,
    rng: SampleRng,
    families: u64,
}

fn day_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A rough WHO median weight (kg) for an age in months.
fn median_weight(m: f64) -> f64 {
    match m {
        m if m <= 6.0 => 3.3 + 0.7 * m,
        m if m <= 12.0 => 7.5 + 0.25 * (m - 6.0),
        m if m <= 24.0 => 9.0 + 0.2 * (m - 12.0),
        m => 11.4 + 0.17 * (m - 24.0),
    }
}

/// A rough WHO median length or height (cm) for an age in months.
fn median_length(m: f64) -> f64 {
    match m {
        m if m <= 6.0 => 50.0 + 2.5 * m,
        m if m <= 12.0 => 65.0 + 1.2 * (m - 6.0),
        m if m <= 24.0 => 72.2 + 1.0 * (m - 12.0),
        m => 84.2 + 0.7 * (m - 24.0),
    }
}

impl Village {
    pub fn new(posyandu: &str, seed: u64) -> Self {
        Self {
            posyandu: posyandu.to_string(),
            households: Vec::new(),
            children: Vec::new(),
            rng: SampleRng::new(seed),
            families: 0,
        }
    }

    /// The same posyandu and people seen from another tablet (after it pulled them), with
    /// its own random source.
    pub fn for_another_tablet(&self, seed: u64) -> Village {
        Village {
            posyandu: self.posyandu.clone(),
            households: self.households.clone(),
            children: self.children.clone(),
            rng: SampleRng::new(seed),
            families: self.families,
        }
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.below(from.len() as u64) as usize]
    }

    /// A date uniformly between `from` and `to` (inclusive).
    fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let days = (to - from).num_days().max(0) as u64;
        from + chrono::Days::new(self.rng.below(days + 1))
    }

    fn nik(&mut self, birth: NaiveDate, female: bool) -> String {
        let day = birth.day() + if female { 40 } else { 0 };
        format!(
            "530405{day:02}{:02}{:02}{:04}",
            birth.month(),
            birth.year() % 100,
            self.rng.below(9000) + 1
        )
    }

    /// Registers `n` families (household, father, mother, one or two children born between
    /// `born_from` and `born_to`) in one transaction each. Returns the changes made.
    pub fn register_families(
        &mut self,
        store: &mut Store,
        n: usize,
        born_from: NaiveDate,
        born_to: NaiveDate,
    ) -> Result<u64> {
        let before = store.sync_counts()?.pending;
        for _ in 0..n {
            self.families += 1;
            let family = self.pick(FAMILY);
            let father_birth = self.date_between(
                NaiveDate::from_ymd_opt(1980, 1, 1).unwrap_or_default(),
                NaiveDate::from_ymd_opt(1998, 12, 31).unwrap_or_default(),
            );
            // At least 16 years older than her first child (field-core refuses a mother
            // less than 10 years older; histories of many years start early).
            let youngest_mother = NaiveDate::from_ymd_opt(2004, 12, 31)
                .unwrap_or_default()
                .min(
                    born_from
                        .checked_sub_months(Months::new(16 * 12))
                        .unwrap_or(born_from),
                );
            let mother_birth = self.date_between(
                NaiveDate::from_ymd_opt(1970, 1, 1)
                    .unwrap_or_default()
                    .max(youngest_mother - chrono::Duration::days(20 * 365))
                    .min(youngest_mother),
                youngest_mother,
            );
            let father = format!("{} {family}", self.pick(GIVEN));
            let rt = format!("{:03}", self.families % 8 + 1);
            let hh = HouseholdInput {
                posyandu: self.posyandu.clone(),
                kk_number: Some(format!("5304052001{:06}", self.rng.below(1_000_000))),
                head_name: father.clone(),
                address: Some(format!("RT {rt} / RW 00{}", self.families % 3 + 1)),
                dusun: Some(format!("Dusun {}", self.families % 2 + 1)),
                rt: Some(rt.clone()),
                rw: None,
                phone: None,
                jkn: Some(self.rng.below(4) != 0),
                latrine: Some(self.rng.below(3) != 0),
                water_source: Some(self.pick(WATER).to_string()),
            };
            let mut members = vec![
                PersonInput {
                    name: father,
                    sex: "male".into(),
                    birth_date: day_str(father_birth),
                    nik: Some(self.nik(father_birth, false)),
                    relation: Some("head".into()),
                    rt: Some(rt.clone()),
                    ..Default::default()
                },
                PersonInput {
                    name: format!("{} {family}", self.pick(GIVEN)),
                    sex: "female".into(),
                    birth_date: day_str(mother_birth),
                    nik: Some(self.nik(mother_birth, true)),
                    relation: Some("spouse".into()),
                    phone: Some(format!("0812{:08}", self.rng.below(100_000_000))),
                    rt: Some(rt.clone()),
                    ..Default::default()
                },
            ];
            let kids = if self.rng.below(2) == 0 { 1 } else { 2 };
            let mut births = Vec::new();
            for _ in 0..kids {
                let birth = self.date_between(born_from, born_to);
                births.push(birth);
                members.push(PersonInput {
                    name: format!("{} {family}", self.pick(GIVEN)),
                    sex: if self.rng.below(2) == 0 {
                        "female".into()
                    } else {
                        "male".into()
                    },
                    birth_date: day_str(birth),
                    relation: Some("child".into()),
                    has_kms: Some(true),
                    rt: Some(rt.clone()),
                    ..Default::default()
                });
            }
            let mothers: Vec<(usize, usize)> = (2..members.len()).map(|c| (c, 1)).collect();
            let reg = store.register_household(&hh, &members, &mothers)?;
            self.households.push(reg.household);
            for (id, birth) in reg.persons.iter().skip(2).zip(births) {
                self.children.push(Child {
                    id: *id,
                    household: reg.household,
                    birth,
                    next_dose: 0,
                    seen: false,
                });
            }
        }
        Ok(store.sync_counts()?.pending - before)
    }

    /// Registers families with children born between `born_from` and `born_to` until the
    /// posyandu has at least `children` children. Returns the changes made.
    pub fn register_children(
        &mut self,
        store: &mut Store,
        children: usize,
        born_from: NaiveDate,
        born_to: NaiveDate,
    ) -> Result<u64> {
        let mut made = 0;
        while self.children.len() < children {
            made += self.register_families(store, 1, born_from, born_to)?;
        }
        Ok(made)
    }

    /// Registers a newborn into a household of the posyandu.
    pub fn newborn(&mut self, store: &mut Store, birth: NaiveDate) -> Result<()> {
        let Some(&household) = self
            .households
            .get(self.rng.below(self.households.len() as u64) as usize)
        else {
            return Ok(());
        };
        let family = self.pick(FAMILY);
        let p = PersonInput {
            name: format!("Bayi {} {family}", self.pick(GIVEN)),
            sex: if self.rng.below(2) == 0 {
                "female".into()
            } else {
                "male".into()
            },
            birth_date: day_str(birth),
            relation: Some("child".into()),
            has_kms: Some(true),
            ..Default::default()
        };
        let reg = store.add_member(household, &p)?;
        if let Some(id) = reg.persons.first() {
            self.children.push(Child {
                id: *id,
                household,
                birth,
                next_dose: 0,
                seen: false,
            });
        }
        Ok(())
    }

    /// Indices of the children under five on `date`.
    pub fn under_five(&self, date: NaiveDate) -> Vec<usize> {
        self.children
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.birth <= date && field_core::validate::age_months(c.birth, date) < 60
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// A posyandu day on `date` for the children at `which` (indices into
    /// [`Self::children`]), each coming with probability `attend_pct` %. Stops taking
    /// children once the day has made `max_changes` changes.
    pub fn posyandu_day(
        &mut self,
        store: &mut Store,
        date: NaiveDate,
        which: &[usize],
        attend_pct: u64,
        max_changes: u64,
    ) -> Result<DayStats> {
        let before = store.sync_counts()?.pending;
        let d = day_str(date);
        let session = store.open_posyandu_session(&self.posyandu, &d, Some("services_first"))?;
        let mut stats = DayStats::default();
        let mut made = 1u64;
        for &i in which {
            if made >= max_changes {
                break;
            }
            if self.rng.below(100) >= attend_pct {
                continue;
            }
            let Some(child) = self.children.get(i).cloned() else {
                continue;
            };
            let months = field_core::validate::age_months(child.birth, date);
            if child.birth > date || months >= 60 {
                continue;
            }
            let age = (date - child.birth).num_days() as f64 / 30.4375;
            let mut services = Services::default();
            let w = median_weight(age) * (0.85 + self.rng.below(27) as f64 / 100.0);
            services.measurements.push(MeasurementInput {
                kind: "weight".into(),
                value: (w * 10.0).round() / 10.0,
                unit: "kg".into(),
                position: None,
                measured_by: None,
                ..Default::default()
            });
            let l = median_length(age) * (0.96 + self.rng.below(9) as f64 / 100.0);
            services.measurements.push(MeasurementInput {
                kind: "length_height".into(),
                value: (l * 10.0).round() / 10.0,
                unit: "cm".into(),
                position: Some(if months < 24 { "lying" } else { "standing" }.into()),
                measured_by: None,
                ..Default::default()
            });
            if months >= 6 {
                services.measurements.push(MeasurementInput {
                    kind: "muac".into(),
                    value: 12.5 + self.rng.below(40) as f64 / 10.0,
                    unit: "cm".into(),
                    position: None,
                    measured_by: None,
                    ..Default::default()
                });
            }
            // Doses due; a child first seen older skips what was given elsewhere.
            let mut next = child.next_dose;
            if !child.seen {
                while SCHEDULE.get(next).is_some_and(|(m, _)| *m < months - 2) {
                    next += 1;
                }
            }
            let mut doses = 0;
            while let Some((m, vaccine)) = SCHEDULE.get(next)
                && *m <= months
                && doses < 4
            {
                services.immunisations.push(ImmunisationInput {
                    vaccine: (*vaccine).to_string(),
                    batch: Some(format!("B{}", 2400 + self.rng.below(90))),
                    catch_up: None,
                    date: None,
                    ..Default::default()
                });
                next += 1;
                doses += 1;
            }
            if matches!(date.month(), 2 | 8) && months >= 6 {
                services.supplements.push(SupplementInput {
                    supplement: if months < 12 {
                        "vitamin_a_blue"
                    } else {
                        "vitamin_a_red"
                    }
                    .into(),
                    quantity: Some(1),
                });
            }
            let counselling = (self.rng.below(3) == 0).then(|| self.pick(COUNSELLING).to_string());
            let referral = (self.rng.below(100) == 0).then(|| ReferralInput {
                reason: "Berat badan tidak naik dua kali (2T)".into(),
                destination: "puskesmas".into(),
                destination_name: Some("Puskesmas Halilulik".into()),
            });
            let a = store.record_attendance(&AttendanceInput {
                session,
                person: child.id,
                services,
                counselling,
                findings: None,
                follow_up_date: None,
                referral,
            })?;
            let saved = &a.saved;
            made += 1
                + (saved.measurements.len()
                    + saved.immunisations.len()
                    + saved.supplements.len()
                    + saved.screenings.len()) as u64
                + if saved.referral.is_some() { 2 } else { 0 };
            if self.rng.below(2) == 0 {
                made += 1;
                let patch = if self.rng.below(2) == 0 {
                    json!({"has_kms": true})
                } else {
                    json!({"rt": format!("{:03}", self.rng.below(8) + 1)})
                };
                if let serde_json::Value::Object(patch) = patch {
                    store.update_person(child.id, patch)?;
                }
            }
            if let Some(c) = self.children.get_mut(i) {
                c.next_dose = next;
                c.seen = true;
            }
            stats.children += 1;
        }
        stats.changes = store.sync_counts()?.pending - before;
        Ok(stats)
    }

    /// Monthly posyandu days from `months` months before `until` up to `until`'s month, all
    /// children under five invited (85 % come), until the outbox holds `budget` changes (a
    /// few more: a child's services are saved together).
    /// Returns the changes made.
    pub fn history(
        &mut self,
        store: &mut Store,
        months: u32,
        until: NaiveDate,
        budget: u64,
    ) -> Result<u64> {
        let start = store.sync_counts()?.pending;
        for k in (0..=months).rev() {
            let Some(date) = until.checked_sub_months(Months::new(k)) else {
                continue;
            };
            let pending = store.sync_counts()?.pending;
            if pending >= budget {
                break;
            }
            let which = self.under_five(date);
            self.posyandu_day(store, date, &which, 85, budget - pending)?;
        }
        Ok(store.sync_counts()?.pending - start)
    }
}
