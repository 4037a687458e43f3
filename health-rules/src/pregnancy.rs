//! Pregnancy: HPL, gestational age, trimester, ANC K1–K6, KEK, anaemia, danger signs.
//!
//! Rules (`shared/domain/ILP.md`, "Pregnancy"; Buku KIA; Permenkes 21/2021):
//! - HPL (*hari perkiraan lahir*) by Naegele's calendar rule as the Buku KIA and bidan
//!   use it: HPHT (first day of the last period) + 7 days, − 3 months, + 1 year
//!   (HPHT 2023-03-01 → HPL 2023-12-08). When the target month is shorter, the day is
//!   clamped to its last day (HPHT 2023-05-24 → 2023-05-31 → 2024-02-29). HPHT + 280 days
//!   is kept as an option ([`HplRule::Plus280Days`]); the ANC schedule names the rule.
//!   Gestational age = days since HPHT, shown as weeks + days.
//! - Trimester bounds and the ANC split are data (`data/anc/*.json`): at least 6
//!   contacts; Permenkes 21/2021 splits them 1-2-3 (default,
//!   `anc-1-2-3-permenkes-21-2021-v1`); the 2-1-3 split (`anc-2-1-3-buku-kia-v1`) is
//!   kept as data a dinas may choose. Trimester 1 is 0–12 weeks, trimester 2 > 12–24
//!   weeks, trimester 3 > 24 weeks to birth.
//! - K1 is the first contact whenever it happens; K2… are ordinal. Whether each
//!   trimester had its minimum is a separate check ([`anc_trimester_checks`]).
//! - KEK risk: LiLA < 23.5 cm. Anaemia: Hb < 11 g/dL in every trimester (national
//!   programme; the schedule's `anaemia` table names its source).
//! - Danger signs (Buku KIA, *tanda bahaya kehamilan*): any of them means go to the
//!   health facility now ("refer now"); the "other problems" listed beside them mean see
//!   the bidan soon.

use std::sync::OnceLock;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::Label;

/// 40 weeks: days from HPHT to HPL under [`HplRule::Plus280Days`] (the calendar rule
/// gives 280–283 days).
pub const NAEGELE_DAYS: u64 = 280;
/// KEK risk below this LiLA (cm).
pub const KEK_LILA_CM: f64 = 23.5;
/// Id of the default ANC schedule (Permenkes 21/2021, 1-2-3).
pub const DEFAULT_ANC_ID: &str = "anc-1-2-3-permenkes-21-2021-v1";

const BUILTIN_ANC: [&str; 2] = [
    include_str!("../data/anc/anc-1-2-3-permenkes-21-2021.json"),
    include_str!("../data/anc/anc-2-1-3-buku-kia.json"),
];

/// Errors from the pregnancy rules. `key()` gives the translation key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PregnancyError {
    #[error("date {date} is before the HPHT {hpht}")]
    DateBeforeHpht { date: NaiveDate, hpht: NaiveDate },
    #[error("a date computed from HPHT {0} is outside the supported calendar")]
    DateOutOfRange(NaiveDate),
    #[error("LiLA {0} cm is not plausible (10–50 cm)")]
    ImplausibleLila(f64),
    #[error("Hb {0} g/dL is not plausible (3–20 g/dL)")]
    ImplausibleHb(f64),
    #[error("ANC schedule could not be read: {0}")]
    TableParse(String),
    #[error("ANC schedule is invalid: {0}")]
    TableInvalid(String),
}

impl PregnancyError {
    /// Stable message key for the app's translation files.
    pub fn key(&self) -> &'static str {
        match self {
            Self::DateBeforeHpht { .. } => "pregnancy.date_before_hpht",
            Self::DateOutOfRange(_) => "pregnancy.date_out_of_range",
            Self::ImplausibleLila(_) => "pregnancy.implausible_lila",
            Self::ImplausibleHb(_) => "pregnancy.implausible_hb",
            Self::TableParse(_) => "pregnancy.table_parse",
            Self::TableInvalid(_) => "pregnancy.table_invalid",
        }
    }

    /// The values of [`Self::key`]'s text (`date`, `hpht`, `value`).
    pub fn params(&self) -> crate::Params {
        use crate::common::params;
        match self {
            Self::DateBeforeHpht { date, hpht } => {
                params([("date", date.to_string()), ("hpht", hpht.to_string())])
            }
            Self::DateOutOfRange(hpht) => params([("hpht", hpht.to_string())]),
            Self::ImplausibleLila(v) | Self::ImplausibleHb(v) => params([("value", v.to_string())]),
            Self::TableParse(_) | Self::TableInvalid(_) => crate::Params::new(),
        }
    }
}

/// How the HPL is computed from the HPHT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HplRule {
    /// Naegele's calendar rule (Buku KIA, default): + 7 days, − 3 months, + 1 year.
    #[default]
    Naegele,
    /// HPHT + 280 days.
    Plus280Days,
}

/// HPL by Naegele's calendar rule (the default): HPHT + 7 days, then − 3 months + 1
/// year (= + 9 months), the day clamped to the end of a shorter month.
pub fn hpl(hpht: NaiveDate) -> Result<NaiveDate, PregnancyError> {
    hpl_with(hpht, HplRule::Naegele)
}

/// HPL under a chosen rule.
pub fn hpl_with(hpht: NaiveDate, rule: HplRule) -> Result<NaiveDate, PregnancyError> {
    let out = match rule {
        HplRule::Naegele => hpht
            .checked_add_days(Days::new(7))
            .and_then(|d| d.checked_add_months(Months::new(9))),
        HplRule::Plus280Days => hpht.checked_add_days(Days::new(NAEGELE_DAYS)),
    };
    out.ok_or(PregnancyError::DateOutOfRange(hpht))
}

/// Gestational age (*usia kehamilan*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GestationalAge {
    /// Days since HPHT.
    pub total_days: u32,
    pub weeks: u32,
    pub days: u32,
}

/// Gestational age on `on`.
pub fn gestational_age(hpht: NaiveDate, on: NaiveDate) -> Result<GestationalAge, PregnancyError> {
    let total = u32::try_from((on - hpht).num_days())
        .map_err(|_| PregnancyError::DateBeforeHpht { date: on, hpht })?;
    Ok(GestationalAge {
        total_days: total,
        weeks: total / 7,
        days: total % 7,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Trimester {
    First = 1,
    Second = 2,
    Third = 3,
}

impl Trimester {
    pub fn number(self) -> u8 {
        self as u8
    }

    fn from_number(n: u8) -> Option<Self> {
        match n {
            1 => Some(Self::First),
            2 => Some(Self::Second),
            3 => Some(Self::Third),
            _ => None,
        }
    }
}

/// One ANC contact of the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AncContactRule {
    /// 1 for K1, … 6 for K6.
    pub k: u8,
    /// 1, 2 or 3.
    pub trimester: u8,
    /// Must be by a doctor (with ultrasound).
    pub doctor: bool,
}

/// A versioned ANC schedule: trimester bounds and the contacts per trimester.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AncSchedule {
    pub id: String,
    pub name: String,
    pub source: String,
    /// Trimester 2 starts this many days after HPHT (85 = 12 weeks + 1 day).
    pub trimester2_from_days: u32,
    /// Trimester 3 starts this many days after HPHT (169 = 24 weeks + 1 day).
    pub trimester3_from_days: u32,
    /// In K order; trimesters never decrease.
    pub contacts: Vec<AncContactRule>,
    /// How the HPL is computed (default: Naegele's calendar rule).
    #[serde(default)]
    pub hpl_rule: HplRule,
    /// Anaemia in pregnancy: Hb cut-offs by trimester, with their source.
    #[serde(default)]
    pub anaemia: AnaemiaTable,
}

/// Hb below which a pregnant woman is anaemic, by trimester (g/dL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnaemiaTable {
    pub trimester1_below: f64,
    pub trimester2_below: f64,
    pub trimester3_below: f64,
    pub source: String,
}

/// The national programme's cut-off: Hb < 11 g/dL in every trimester.
pub const ANAEMIA_HB_BELOW: f64 = 11.0;
/// Where [`ANAEMIA_HB_BELOW`] comes from.
pub const ANAEMIA_SOURCE: &str = "Kemenkes, Pedoman Pencegahan dan Penanggulangan Anemia pada Remaja Putri dan Wanita Usia Subur (2018) and Buku KIA: anaemia in pregnancy is Hb < 11 g/dL, in every trimester";

impl Default for AnaemiaTable {
    fn default() -> Self {
        Self {
            trimester1_below: ANAEMIA_HB_BELOW,
            trimester2_below: ANAEMIA_HB_BELOW,
            trimester3_below: ANAEMIA_HB_BELOW,
            source: ANAEMIA_SOURCE.to_string(),
        }
    }
}

impl AncSchedule {
    /// Parse and check a schedule.
    pub fn from_json(json: &str) -> Result<Self, PregnancyError> {
        let s: Self =
            serde_json::from_str(json).map_err(|e| PregnancyError::TableParse(e.to_string()))?;
        let bad = |m: &str| Err(PregnancyError::TableInvalid(format!("{}: {m}", s.id)));
        if !(0 < s.trimester2_from_days && s.trimester2_from_days < s.trimester3_from_days)
            || s.trimester3_from_days >= NAEGELE_DAYS as u32
        {
            return bad("trimester bounds out of order");
        }
        let ks_ok = s
            .contacts
            .iter()
            .enumerate()
            .all(|(i, c)| usize::from(c.k) == i + 1);
        let tri_ok = s
            .contacts
            .windows(2)
            .all(|w| w[0].trimester <= w[1].trimester);
        let tri_valid = s
            .contacts
            .iter()
            .all(|c| Trimester::from_number(c.trimester).is_some());
        if s.contacts.is_empty() || !ks_ok || !tri_ok || !tri_valid {
            return bad("contacts must be K1, K2, … with trimesters 1–3 in order");
        }
        Ok(s)
    }

    /// Trimester of a gestational age under this schedule's bounds.
    pub fn trimester(&self, ga: GestationalAge) -> Trimester {
        if ga.total_days >= self.trimester3_from_days {
            Trimester::Third
        } else if ga.total_days >= self.trimester2_from_days {
            Trimester::Second
        } else {
            Trimester::First
        }
    }

    /// First and last day of a trimester (the third ends on the HPL).
    pub fn window(
        &self,
        hpht: NaiveDate,
        t: Trimester,
    ) -> Result<(NaiveDate, NaiveDate), PregnancyError> {
        let day = |n: u32| {
            hpht.checked_add_days(Days::new(u64::from(n)))
                .ok_or(PregnancyError::DateOutOfRange(hpht))
        };
        Ok(match t {
            Trimester::First => (hpht, day(self.trimester2_from_days - 1)?),
            Trimester::Second => (
                day(self.trimester2_from_days)?,
                day(self.trimester3_from_days - 1)?,
            ),
            Trimester::Third => (day(self.trimester3_from_days)?, self.hpl(hpht)?),
        })
    }

    /// HPL under this schedule's rule.
    pub fn hpl(&self, hpht: NaiveDate) -> Result<NaiveDate, PregnancyError> {
        hpl_with(hpht, self.hpl_rule)
    }

    /// The minimum number of contacts in trimester `t`.
    pub fn required_in(&self, t: Trimester) -> u8 {
        u8::try_from(
            self.contacts
                .iter()
                .filter(|c| c.trimester == t.number())
                .count(),
        )
        .unwrap_or(u8::MAX)
    }

    /// Anaemia in pregnancy under this schedule's Hb table (`anaemia`).
    pub fn anaemia(&self, hb_g_dl: f64, trimester: Trimester) -> Result<bool, PregnancyError> {
        if !(3.0..=20.0).contains(&hb_g_dl) {
            return Err(PregnancyError::ImplausibleHb(hb_g_dl));
        }
        let below = match trimester {
            Trimester::First => self.anaemia.trimester1_below,
            Trimester::Second => self.anaemia.trimester2_below,
            Trimester::Third => self.anaemia.trimester3_below,
        };
        Ok(hb_g_dl < below)
    }
}

/// Built-in ANC schedules (the default, Permenkes 21/2021 1-2-3, first).
pub fn builtin_anc_schedules() -> &'static [AncSchedule] {
    static S: OnceLock<Vec<AncSchedule>> = OnceLock::new();
    S.get_or_init(|| {
        BUILTIN_ANC
            .iter()
            .map(|j| AncSchedule::from_json(j))
            .collect::<Result<_, _>>()
            .expect("embedded ANC schedules parse (checked by test builtin_anc_parses)")
    })
}

/// A built-in ANC schedule by version id.
pub fn anc_schedule(id: &str) -> Option<&'static AncSchedule> {
    builtin_anc_schedules().iter().find(|s| s.id == id)
}

/// State of one ANC contact (K1–K6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AncState {
    Done {
        date: NaiveDate,
    },
    /// Its window has not started.
    NotYetDue {
        from: NaiveDate,
        by: NaiveDate,
    },
    /// Its window is running: do it by `by`.
    Due {
        by: NaiveDate,
    },
    /// The pregnancy passed its HPL without it.
    Missed {
        trimester_ended: NaiveDate,
    },
}

/// One row of the ANC list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AncContactStatus {
    pub k: u8,
    /// The trimester the contact happened in (done) or is planned for (not done).
    pub trimester: Trimester,
    pub doctor: bool,
    pub state: AncState,
}

/// How one trimester stands against the schedule's minimum for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TrimesterState {
    /// It has not started.
    Upcoming,
    /// It is running and its contacts are not all done yet.
    Running,
    /// Its contacts are all done.
    Met,
    /// It ended with `missing` contacts fewer than the minimum.
    Short { missing: u8 },
}

/// The per-trimester check, separate from the numbering of the contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AncTrimesterCheck {
    pub trimester: Trimester,
    /// The schedule's minimum number of contacts in this trimester.
    pub required: u8,
    /// Contacts that happened in it.
    pub done: u8,
    pub from: NaiveDate,
    pub by: NaiveDate,
    pub state: TrimesterState,
}

/// The contacts with their trimesters, in date order.
fn dated_contacts(
    schedule: &AncSchedule,
    hpht: NaiveDate,
    contacts: &[NaiveDate],
) -> Result<Vec<(NaiveDate, Trimester)>, PregnancyError> {
    let mut out = contacts
        .iter()
        .map(|&c| Ok((c, schedule.trimester(gestational_age(hpht, c)?))))
        .collect::<Result<Vec<_>, PregnancyError>>()?;
    out.sort_unstable();
    Ok(out)
}

const TRIMESTERS: [Trimester; 3] = [Trimester::First, Trimester::Second, Trimester::Third];

/// The per-trimester check: each trimester's minimum (from the schedule), the contacts
/// that happened in it, and whether it is upcoming, running, met or ended short.
pub fn anc_trimester_checks(
    schedule: &AncSchedule,
    hpht: NaiveDate,
    contacts: &[NaiveDate],
    today: NaiveDate,
) -> Result<Vec<AncTrimesterCheck>, PregnancyError> {
    let dated = dated_contacts(schedule, hpht, contacts)?;
    let mut out = Vec::with_capacity(3);
    for t in TRIMESTERS {
        let required = schedule.required_in(t);
        let done = u8::try_from(dated.iter().filter(|(_, ct)| *ct == t).count()).unwrap_or(u8::MAX);
        let (from, by) = schedule.window(hpht, t)?;
        let state = if done >= required {
            TrimesterState::Met
        } else if today > by {
            TrimesterState::Short {
                missing: required - done,
            }
        } else if today >= from {
            TrimesterState::Running
        } else {
            TrimesterState::Upcoming
        };
        out.push(AncTrimesterCheck {
            trimester: t,
            required,
            done,
            from,
            by,
            state,
        });
    }
    Ok(out)
}

/// K1–K6 for a pregnancy. The numbering is ordinal (Permenkes 21/2021): K1 is the first
/// contact whenever it happens, K2 the second, and so on. The contacts not done yet are
/// planned into the trimesters that still need them (the running one first, then the
/// later ones; a contact a past trimester lacked is planned in trimester 3). Whether each
/// trimester had its minimum is [`anc_trimester_checks`].
pub fn anc_status(
    schedule: &AncSchedule,
    hpht: NaiveDate,
    contacts: &[NaiveDate],
    today: NaiveDate,
) -> Result<Vec<AncContactStatus>, PregnancyError> {
    let dated = dated_contacts(schedule, hpht, contacts)?;
    let doctor = |k: usize| schedule.contacts.get(k).is_some_and(|c| c.doctor);
    let mut out = Vec::with_capacity(schedule.contacts.len().max(dated.len()));
    for (i, &(date, trimester)) in dated.iter().enumerate() {
        out.push(AncContactStatus {
            k: u8::try_from(i + 1).unwrap_or(u8::MAX),
            trimester,
            doctor: doctor(i),
            state: AncState::Done { date },
        });
    }
    // What the running and later trimesters still need, in order.
    let mut plan: Vec<(Trimester, NaiveDate, NaiveDate)> = Vec::new();
    for c in anc_trimester_checks(schedule, hpht, contacts, today)? {
        if today <= c.by {
            for _ in c.done..c.required {
                plan.push((c.trimester, c.from, c.by));
            }
        }
    }
    let (t3_from, t3_by) = schedule.window(hpht, Trimester::Third)?;
    let mut plan = plan.into_iter();
    for i in dated.len()..schedule.contacts.len() {
        let (trimester, from, by) = plan.next().unwrap_or((Trimester::Third, t3_from, t3_by));
        let state = if today > by {
            AncState::Missed {
                trimester_ended: by,
            }
        } else if today >= from {
            AncState::Due { by }
        } else {
            AncState::NotYetDue { from, by }
        };
        out.push(AncContactStatus {
            k: u8::try_from(i + 1).unwrap_or(u8::MAX),
            trimester,
            doctor: doctor(i),
            state,
        });
    }
    Ok(out)
}

/// KEK (chronic energy deficiency) risk: LiLA < 23.5 cm.
pub fn kek_risk(lila_cm: f64) -> Result<bool, PregnancyError> {
    if !(10.0..=50.0).contains(&lila_cm) {
        return Err(PregnancyError::ImplausibleLila(lila_cm));
    }
    Ok(lila_cm < KEK_LILA_CM)
}

/// Anaemia in pregnancy under the default table: Hb < 11 g/dL in every trimester
/// ([`ANAEMIA_SOURCE`]). A schedule may carry another table ([`AncSchedule::anaemia`]).
pub fn anaemia(hb_g_dl: f64, trimester: Trimester) -> Result<bool, PregnancyError> {
    builtin_anc_schedules()[0].anaemia(hb_g_dl, trimester)
}

/// Danger signs in pregnancy as listed in the Buku KIA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerSign {
    /// Muntah terus dan tidak mau makan.
    PersistentVomiting,
    /// Demam tinggi.
    HighFever,
    /// Bengkak kaki, tangan dan wajah, atau sakit kepala disertai kejang.
    SwellingOrHeadacheWithSeizures,
    /// Janin dirasakan kurang bergerak dibandingkan sebelumnya.
    ReducedFetalMovement,
    /// Perdarahan pada hamil muda atau hamil tua.
    Bleeding,
    /// Air ketuban keluar sebelum waktunya.
    WaterBreaksEarly,
    /// Jantung berdebar-debar atau nyeri dada (other problem).
    PalpitationsOrChestPain,
    /// Batuk lama (lebih dari 2 minggu) (other problem).
    LongCough,
    /// Diare berulang (other problem).
    RecurrentDiarrhoea,
    /// Sakit saat kencing, keputihan atau gatal di kemaluan (other problem).
    UrinaryOrVaginalComplaint,
    /// Sulit tidur dan cemas berlebihan (other problem).
    SleeplessAnxious,
}

impl DangerSign {
    /// Every sign, for pick lists.
    pub const ALL: [DangerSign; 11] = [
        Self::PersistentVomiting,
        Self::HighFever,
        Self::SwellingOrHeadacheWithSeizures,
        Self::ReducedFetalMovement,
        Self::Bleeding,
        Self::WaterBreaksEarly,
        Self::PalpitationsOrChestPain,
        Self::LongCough,
        Self::RecurrentDiarrhoea,
        Self::UrinaryOrVaginalComplaint,
        Self::SleeplessAnxious,
    ];

    /// The Buku KIA's "go to the health facility now" signs.
    pub fn refer_now(self) -> bool {
        matches!(
            self,
            Self::PersistentVomiting
                | Self::HighFever
                | Self::SwellingOrHeadacheWithSeizures
                | Self::ReducedFetalMovement
                | Self::Bleeding
                | Self::WaterBreaksEarly
        )
    }

    pub fn label(self) -> Label {
        let (key, id, en) = match self {
            Self::PersistentVomiting => (
                "pregnancy.danger.persistent_vomiting",
                "Muntah terus dan tidak mau makan",
                "Vomiting all the time and not eating",
            ),
            Self::HighFever => ("pregnancy.danger.high_fever", "Demam tinggi", "High fever"),
            Self::SwellingOrHeadacheWithSeizures => (
                "pregnancy.danger.swelling_headache_seizures",
                "Bengkak kaki, tangan dan wajah, atau sakit kepala disertai kejang",
                "Swollen feet, hands and face, or headache with seizures",
            ),
            Self::ReducedFetalMovement => (
                "pregnancy.danger.reduced_fetal_movement",
                "Janin dirasakan kurang bergerak dibandingkan sebelumnya",
                "The baby moves less than before",
            ),
            Self::Bleeding => (
                "pregnancy.danger.bleeding",
                "Perdarahan pada hamil muda atau hamil tua",
                "Bleeding, early or late in pregnancy",
            ),
            Self::WaterBreaksEarly => (
                "pregnancy.danger.water_breaks_early",
                "Air ketuban keluar sebelum waktunya",
                "Waters break before their time",
            ),
            Self::PalpitationsOrChestPain => (
                "pregnancy.danger.palpitations_chest_pain",
                "Jantung berdebar-debar atau nyeri dada",
                "Racing heart or chest pain",
            ),
            Self::LongCough => (
                "pregnancy.danger.long_cough",
                "Batuk lama (lebih dari 2 minggu)",
                "Cough for more than 2 weeks",
            ),
            Self::RecurrentDiarrhoea => (
                "pregnancy.danger.recurrent_diarrhoea",
                "Diare berulang",
                "Repeated diarrhoea",
            ),
            Self::UrinaryOrVaginalComplaint => (
                "pregnancy.danger.urinary_vaginal",
                "Sakit saat kencing, keputihan atau gatal di kemaluan",
                "Pain when passing urine, discharge or itching",
            ),
            Self::SleeplessAnxious => (
                "pregnancy.danger.sleepless_anxious",
                "Sulit tidur dan cemas berlebihan",
                "Cannot sleep, very anxious",
            ),
        };
        Label { key, id, en }
    }
}

/// What to do about the observed signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerAdvice {
    /// Go to the health facility now; the kader reports to the bidan.
    ReferNow,
    /// See the bidan soon (at the pustu or the next visit).
    SeeBidanSoon,
    NoSigns,
}

impl DangerAdvice {
    pub fn label(self) -> Label {
        match self {
            Self::ReferNow => Label {
                key: "pregnancy.advice.refer_now",
                id: "Ada tanda bahaya: segera ke fasilitas kesehatan dan lapor bidan",
                en: "Danger sign: go to the health facility now and tell the bidan",
            },
            Self::SeeBidanSoon => Label {
                key: "pregnancy.advice.see_bidan_soon",
                id: "Ada keluhan: periksakan ke bidan",
                en: "A complaint: see the bidan",
            },
            Self::NoSigns => Label {
                key: "pregnancy.advice.no_signs",
                id: "Tidak ada tanda bahaya",
                en: "No danger signs",
            },
        }
    }
}

/// Turn the signs observed at a visit into advice.
pub fn danger_advice(signs: &[DangerSign]) -> DangerAdvice {
    if signs.iter().any(|s| s.refer_now()) {
        DangerAdvice::ReferNow
    } else if signs.is_empty() {
        DangerAdvice::NoSigns
    } else {
        DangerAdvice::SeeBidanSoon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_anc_parses() {
        assert_eq!(builtin_anc_schedules().len(), BUILTIN_ANC.len());
        assert_eq!(builtin_anc_schedules()[0].id, DEFAULT_ANC_ID);
        assert!(anc_schedule("anc-1-2-3-permenkes-21-2021-v1").is_some());
    }

    #[test]
    fn labels_have_keys_and_both_languages() {
        for s in DangerSign::ALL {
            let l = s.label();
            assert!(l.key.starts_with("pregnancy.danger."));
            assert!(!l.id.is_empty() && !l.en.is_empty());
        }
    }
}
