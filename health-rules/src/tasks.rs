//! Due tasks: what a kader or bidan should do for one person, and by when.
//!
//! Rules (`shared/domain/ILP.md`: home visits, growth, immunisation, pregnancy; Buku KIA
//! visit windows):
//! - Under-fives: vaccine due (normal), overdue (*kejar*, high) or coming within
//!   [`UPCOMING_DAYS`] (normal); missed posyandu (not seen this month or last month:
//!   *kunjungan rumah*, normal); latest KMS result from this or last month: T means a
//!   home visit within [`VISIT_WITHIN_DAYS`] (high), 2T or BGM means report to the bidan
//!   for referral within [`REFER_WITHIN_DAYS`] (urgent).
//! - Newborn visits KN1 6–48 h (days 0–2), KN2 days 3–7, KN3 days 8–28; postpartum KF1
//!   6 h–2 days, KF2 days 3–7, KF3 days 8–28, KF4 days 29–42. A visit counts for the
//!   window its date falls in. Open window: KN1/KF1 urgent, others high; missed window:
//!   high for [`MISSED_VISIT_GRACE_DAYS`] after it closed; next window within
//!   [`UPCOMING_DAYS`]: normal.
//! - Pregnancy (no delivery recorded after HPHT): danger signs (refer now: urgent;
//!   other complaints: high), ANC K1–K6 due (high when its trimester ends within
//!   [`UPCOMING_DAYS`], else normal), missed (high), next upcoming (normal); past HPL
//!   without a delivery (high, urgent from 42 weeks).
//! - TB treatment: missed doses (high, visit today), medicine pickup missed (high) or
//!   within 3 days (normal).
//!
//! Tasks are sorted by priority (urgent first), then due date, then kind (stable).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::{Label, Sex};
use crate::immunisation::{self, AreaOptions, DoseState, GivenDose, ImmunisationError, Schedule};
use crate::kms::{self, KmsResult, MonthResult, YearMonth};
use crate::pregnancy::{self, AncSchedule, AncState, DangerAdvice, DangerSign, PregnancyError};

/// Upcoming items are listed this many days ahead.
pub const UPCOMING_DAYS: u64 = 14;
/// A T result: home visit within this many days of the weighing.
pub const VISIT_WITHIN_DAYS: u64 = 7;
/// 2T or BGM: report to the bidan for referral within this many days of the weighing.
pub const REFER_WITHIN_DAYS: u64 = 2;
/// A missed KN/KF window stays on the list this many days after it closed.
pub const MISSED_VISIT_GRACE_DAYS: u64 = 7;
/// Under-five: younger than this many months.
const UNDER_FIVE_MONTHS: u32 = 60;

/// Errors while building tasks (from the rules they use). `key()` gives the translation key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Immunisation(#[from] ImmunisationError),
    #[error(transparent)]
    Pregnancy(#[from] PregnancyError),
    #[error("a task date is outside the supported calendar")]
    DateOutOfRange,
}

impl TaskError {
    /// Stable message key for the app's translation files.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Immunisation(e) => e.key(),
            Self::Pregnancy(e) => e.key(),
            Self::DateOutOfRange => "tasks.date_out_of_range",
        }
    }
}

/// A current pregnancy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PregnancyEpisode {
    pub hpht: NaiveDate,
    /// Dates of ANC contacts done.
    #[serde(default)]
    pub anc_contacts: Vec<NaiveDate>,
    /// Danger signs seen at the last visit and not yet handled by the bidan.
    #[serde(default)]
    pub open_danger_signs: Vec<DangerSign>,
}

/// TB treatment state as recorded by the PMO (treatment supporter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TbTreatment {
    pub started: NaiveDate,
    /// Doses missed since the last check.
    #[serde(default)]
    pub missed_doses: u32,
    /// Next medicine pickup at the puskesmas/pustu.
    #[serde(default)]
    pub next_pickup: Option<NaiveDate>,
    #[serde(default)]
    pub completed: bool,
}

/// What the device or server knows about one person, built from its store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonHistory {
    pub birth_date: NaiveDate,
    pub sex: Sex,
    /// KMS results (from [`kms::assess`]), any order.
    #[serde(default)]
    pub kms: Vec<MonthResult>,
    #[serde(default)]
    pub immunisations: Vec<GivenDose>,
    #[serde(default)]
    pub pregnancy: Option<PregnancyEpisode>,
    /// This woman's latest delivery (for KF and to close the pregnancy).
    #[serde(default)]
    pub delivery_date: Option<NaiveDate>,
    /// Dates of newborn visits (KN) done for this baby.
    #[serde(default)]
    pub newborn_visits: Vec<NaiveDate>,
    /// Dates of postpartum visits (KF) done for this woman.
    #[serde(default)]
    pub postpartum_visits: Vec<NaiveDate>,
    #[serde(default)]
    pub tb: Option<TbTreatment>,
    #[serde(default)]
    pub last_posyandu: Option<NaiveDate>,
}

/// The rule tables and the day to plan for.
#[derive(Debug, Clone, Copy)]
pub struct TaskContext<'a> {
    pub today: NaiveDate,
    pub schedule: &'a Schedule,
    pub anc: &'a AncSchedule,
    pub area: AreaOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    DangerSignRefer,
    DangerSignSeeBidan,
    GrowthBgmRefer,
    Growth2tRefer,
    GrowthTVisit,
    NewbornVisit,
    NewbornVisitMissed,
    PostpartumVisit,
    PostpartumVisitMissed,
    PastHpl,
    AncDue,
    AncMissed,
    AncUpcoming,
    VaccineOverdue,
    VaccineDue,
    VaccineUpcoming,
    MissedPosyandu,
    TbMissedDoses,
    TbPickupMissed,
    TbPickup,
}

impl TaskKind {
    /// The reason shown to the kader (parameters are in [`Task::params`]).
    pub fn label(self) -> Label {
        let (key, id, en) = match self {
            Self::DangerSignRefer => (
                "tasks.danger_sign_refer",
                "Ibu hamil dengan tanda bahaya: antar segera ke fasilitas kesehatan, lapor bidan",
                "Pregnant woman with a danger sign: take her to the health facility now, tell the bidan",
            ),
            Self::DangerSignSeeBidan => (
                "tasks.danger_sign_see_bidan",
                "Ibu hamil ada keluhan: ingatkan periksa ke bidan",
                "Pregnant woman with a complaint: remind her to see the bidan",
            ),
            Self::GrowthBgmRefer => (
                "tasks.growth_bgm_refer",
                "Balita BGM (bawah garis merah): kunjungan rumah dan lapor bidan untuk rujukan",
                "Child below the red line (BGM): home visit and report to the bidan for referral",
            ),
            Self::Growth2tRefer => (
                "tasks.growth_2t_refer",
                "Balita 2T (dua kali tidak naik): kunjungan rumah dan lapor bidan untuk rujukan",
                "Child with 2T (no gain twice): home visit and report to the bidan for referral",
            ),
            Self::GrowthTVisit => (
                "tasks.growth_t_visit",
                "Berat badan tidak naik (T): kunjungan rumah dan konseling makan",
                "Weight did not go up (T): home visit and feeding counselling",
            ),
            Self::NewbornVisit => (
                "tasks.newborn_visit",
                "Kunjungan neonatal (KN) bayi baru lahir",
                "Newborn visit (KN) due",
            ),
            Self::NewbornVisitMissed => (
                "tasks.newborn_visit_missed",
                "Kunjungan neonatal (KN) terlewat: kunjungan rumah",
                "Newborn visit (KN) missed: home visit",
            ),
            Self::PostpartumVisit => (
                "tasks.postpartum_visit",
                "Kunjungan nifas (KF) ibu",
                "Postpartum visit (KF) due",
            ),
            Self::PostpartumVisitMissed => (
                "tasks.postpartum_visit_missed",
                "Kunjungan nifas (KF) terlewat: kunjungan rumah",
                "Postpartum visit (KF) missed: home visit",
            ),
            Self::PastHpl => (
                "tasks.past_hpl",
                "Sudah lewat HPL dan belum ada catatan persalinan: kunjungan rumah, lapor bidan",
                "Past the due date (HPL) with no delivery recorded: home visit, tell the bidan",
            ),
            Self::AncDue => (
                "tasks.anc_due",
                "Pemeriksaan kehamilan (ANC) sudah waktunya",
                "Antenatal contact (ANC) due",
            ),
            Self::AncMissed => (
                "tasks.anc_missed",
                "Pemeriksaan kehamilan (ANC) terlewat: kunjungan rumah",
                "Antenatal contact (ANC) missed: home visit",
            ),
            Self::AncUpcoming => (
                "tasks.anc_upcoming",
                "Pemeriksaan kehamilan (ANC) berikutnya",
                "Next antenatal contact (ANC)",
            ),
            Self::VaccineOverdue => (
                "tasks.vaccine_overdue",
                "Imunisasi terlambat: berikan imunisasi kejar",
                "Vaccine overdue: give as catch-up",
            ),
            Self::VaccineDue => (
                "tasks.vaccine_due",
                "Imunisasi sudah waktunya",
                "Vaccine due",
            ),
            Self::VaccineUpcoming => (
                "tasks.vaccine_upcoming",
                "Imunisasi berikutnya",
                "Next vaccine",
            ),
            Self::MissedPosyandu => (
                "tasks.missed_posyandu",
                "Tidak datang ke posyandu: kunjungan rumah",
                "Missed the posyandu: home visit",
            ),
            Self::TbMissedDoses => (
                "tasks.tb_missed_doses",
                "Obat TB tidak diminum: kunjungan rumah dan lapor petugas",
                "TB doses missed: home visit and tell the health worker",
            ),
            Self::TbPickupMissed => (
                "tasks.tb_pickup_missed",
                "Belum ambil obat TB: ingatkan ke puskesmas/pustu",
                "TB medicine not collected: remind to go to the puskesmas/pustu",
            ),
            Self::TbPickup => (
                "tasks.tb_pickup",
                "Jadwal ambil obat TB",
                "TB medicine pickup",
            ),
        };
        Label { key, id, en }
    }
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub kind: TaskKind,
    pub priority: Priority,
    /// By when (for missed or overdue items: when it was due).
    pub due: NaiveDate,
    pub reason: Label,
    /// Values for the reason, e.g. `vaccine` → `Rotavirus 2`, `visit` → `KN2`.
    pub params: BTreeMap<&'static str, String>,
}

struct Out(Vec<Task>);

impl Out {
    fn push(
        &mut self,
        kind: TaskKind,
        priority: Priority,
        due: NaiveDate,
        params: &[(&'static str, String)],
    ) {
        self.0.push(Task {
            kind,
            priority,
            due,
            reason: kind.label(),
            params: params.iter().cloned().collect(),
        });
    }
}

fn plus(d: NaiveDate, days: u64) -> Result<NaiveDate, TaskError> {
    d.checked_add_days(Days::new(days))
        .ok_or(TaskError::DateOutOfRange)
}

/// Every task for one person on `ctx.today`, sorted by priority, then due date.
pub fn due_tasks(person: &PersonHistory, ctx: &TaskContext<'_>) -> Result<Vec<Task>, TaskError> {
    let mut out = Out(Vec::new());
    let today = ctx.today;
    let under_five =
        kms::age_in_months(person.birth_date, today).is_some_and(|m| m < UNDER_FIVE_MONTHS);
    if under_five {
        vaccine_tasks(person, ctx, &mut out)?;
        growth_tasks(person, today, &mut out)?;
        posyandu_task(person, today, &mut out)?;
        const KN: [(&str, u64, u64, bool); 3] = [
            ("KN1", 0, 2, true),
            ("KN2", 3, 7, false),
            ("KN3", 8, 28, false),
        ];
        visit_tasks(
            person.birth_date,
            &KN,
            &person.newborn_visits,
            today,
            (TaskKind::NewbornVisit, TaskKind::NewbornVisitMissed),
            &mut out,
        )?;
    }
    if let Some(delivery) = person.delivery_date {
        const KF: [(&str, u64, u64, bool); 4] = [
            ("KF1", 0, 2, true),
            ("KF2", 3, 7, false),
            ("KF3", 8, 28, false),
            ("KF4", 29, 42, false),
        ];
        visit_tasks(
            delivery,
            &KF,
            &person.postpartum_visits,
            today,
            (TaskKind::PostpartumVisit, TaskKind::PostpartumVisitMissed),
            &mut out,
        )?;
    }
    if let Some(p) = &person.pregnancy
        && person.delivery_date.is_none_or(|d| d < p.hpht)
    {
        pregnancy_tasks(p, ctx, &mut out)?;
    }
    if let Some(tb) = &person.tb
        && !tb.completed
    {
        tb_tasks(tb, today, &mut out)?;
    }
    let mut tasks = out.0;
    // Stable: equal keys keep the order the rules made them in (K4 before K5).
    tasks.sort_by_key(|t| (t.priority, t.due, t.kind));
    Ok(tasks)
}

fn vaccine_tasks(
    person: &PersonHistory,
    ctx: &TaskContext<'_>,
    out: &mut Out,
) -> Result<(), TaskError> {
    let list = immunisation::due_list(
        ctx.schedule,
        person.birth_date,
        &person.immunisations,
        ctx.today,
        ctx.area,
    )?;
    let horizon = plus(ctx.today, UPCOMING_DAYS)?;
    for d in list {
        let p = |extra: Option<(&'static str, NaiveDate)>| {
            let mut v = vec![("vaccine", d.name.clone()), ("dose_id", d.dose_id.clone())];
            v.extend(extra.map(|(k, date)| (k, date.to_string())));
            v
        };
        match d.state {
            DoseState::Due {
                due_date,
                on_time_until,
            } => {
                out.push(
                    TaskKind::VaccineDue,
                    Priority::Normal,
                    on_time_until,
                    &p(Some(("due_date", due_date))),
                );
            }
            DoseState::Overdue {
                due_date,
                allowed_until,
            } => {
                out.push(
                    TaskKind::VaccineOverdue,
                    Priority::High,
                    due_date,
                    &p(allowed_until.map(|a| ("allowed_until", a))),
                );
            }
            DoseState::NotYetDue { due_date } if due_date <= horizon => {
                out.push(
                    TaskKind::VaccineUpcoming,
                    Priority::Normal,
                    due_date,
                    &p(None),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn growth_tasks(person: &PersonHistory, today: NaiveDate, out: &mut Out) -> Result<(), TaskError> {
    let Some(latest) = person.kms.iter().max_by_key(|r| r.month) else {
        return Ok(());
    };
    if latest.month < YearMonth::of(today).prev() {
        return Ok(());
    }
    let params = [
        ("weighed_on", latest.date.to_string()),
        ("weight_g", latest.weight_g.to_string()),
    ];
    if latest.bgm == Some(true) {
        out.push(
            TaskKind::GrowthBgmRefer,
            Priority::Urgent,
            plus(latest.date, REFER_WITHIN_DAYS)?,
            &params,
        );
    }
    if latest.two_t {
        out.push(
            TaskKind::Growth2tRefer,
            Priority::Urgent,
            plus(latest.date, REFER_WITHIN_DAYS)?,
            &params,
        );
    } else if latest.result == KmsResult::T {
        out.push(
            TaskKind::GrowthTVisit,
            Priority::High,
            plus(latest.date, VISIT_WITHIN_DAYS)?,
            &params,
        );
    }
    Ok(())
}

fn posyandu_task(person: &PersonHistory, today: NaiveDate, out: &mut Out) -> Result<(), TaskError> {
    let last_month = YearMonth::of(today).prev();
    // A child born this month or last month could not have missed a whole posyandu month.
    if YearMonth::of(person.birth_date) >= last_month {
        return Ok(());
    }
    let last_seen = person
        .kms
        .iter()
        .map(|r| r.date)
        .chain(person.last_posyandu)
        .max();
    if last_seen.is_some_and(|d| YearMonth::of(d) >= last_month) {
        return Ok(());
    }
    let params: Vec<_> = last_seen
        .map(|d| ("last_attended", d.to_string()))
        .into_iter()
        .collect();
    out.push(
        TaskKind::MissedPosyandu,
        Priority::Normal,
        plus(today, VISIT_WITHIN_DAYS)?,
        &params,
    );
    Ok(())
}

/// KN or KF windows: (name, first day, last day, first-visit-is-urgent) after `base`.
fn visit_tasks(
    base: NaiveDate,
    windows: &[(&'static str, u64, u64, bool)],
    visits: &[NaiveDate],
    today: NaiveDate,
    (due_kind, missed_kind): (TaskKind, TaskKind),
    out: &mut Out,
) -> Result<(), TaskError> {
    let mut upcoming_listed = false;
    for &(name, first, last, urgent) in windows {
        let (start, end) = (plus(base, first)?, plus(base, last)?);
        if visits.iter().any(|v| (start..=end).contains(v)) {
            continue;
        }
        let params = [
            ("visit", name.to_string()),
            ("from", start.to_string()),
            ("until", end.to_string()),
        ];
        if today > end {
            if today <= plus(end, MISSED_VISIT_GRACE_DAYS)? {
                out.push(missed_kind, Priority::High, end, &params);
            }
        } else if today >= start {
            let priority = if urgent {
                Priority::Urgent
            } else {
                Priority::High
            };
            out.push(due_kind, priority, end, &params);
        } else if !upcoming_listed && start <= plus(today, UPCOMING_DAYS)? {
            upcoming_listed = true;
            out.push(due_kind, Priority::Normal, start, &params);
        }
    }
    Ok(())
}

fn pregnancy_tasks(
    p: &PregnancyEpisode,
    ctx: &TaskContext<'_>,
    out: &mut Out,
) -> Result<(), TaskError> {
    let today = ctx.today;
    let hpl = pregnancy::hpl(p.hpht)?;
    let hpl_param = ("hpl", hpl.to_string());
    match pregnancy::danger_advice(&p.open_danger_signs) {
        DangerAdvice::ReferNow => out.push(
            TaskKind::DangerSignRefer,
            Priority::Urgent,
            today,
            &signs_param(&p.open_danger_signs),
        ),
        DangerAdvice::SeeBidanSoon => out.push(
            TaskKind::DangerSignSeeBidan,
            Priority::High,
            plus(today, 3)?,
            &signs_param(&p.open_danger_signs),
        ),
        DangerAdvice::NoSigns => {}
    }
    if today > hpl {
        let priority = if today >= plus(hpl, 14)? {
            Priority::Urgent
        } else {
            Priority::High
        };
        out.push(
            TaskKind::PastHpl,
            priority,
            hpl,
            std::slice::from_ref(&hpl_param),
        );
        return Ok(());
    }
    let horizon = plus(today, UPCOMING_DAYS)?;
    let mut upcoming_listed = false;
    for c in pregnancy::anc_status(ctx.anc, p.hpht, &p.anc_contacts, today)? {
        let k = ("contact", format!("K{}", c.k));
        let doctor = ("by_doctor", c.doctor.to_string());
        match c.state {
            AncState::Due { by } => {
                let priority = if by <= horizon {
                    Priority::High
                } else {
                    Priority::Normal
                };
                out.push(
                    TaskKind::AncDue,
                    priority,
                    by,
                    &[k, doctor, hpl_param.clone()],
                );
            }
            AncState::Missed { trimester_ended } => {
                out.push(
                    TaskKind::AncMissed,
                    Priority::High,
                    trimester_ended,
                    &[k, doctor],
                );
            }
            AncState::NotYetDue { from, .. } if !upcoming_listed && from <= horizon => {
                upcoming_listed = true;
                out.push(TaskKind::AncUpcoming, Priority::Normal, from, &[k, doctor]);
            }
            AncState::NotYetDue { .. } | AncState::Done { .. } => {}
        }
    }
    Ok(())
}

fn signs_param(signs: &[DangerSign]) -> [(&'static str, String); 1] {
    let keys: Vec<&str> = signs.iter().map(|s| s.label().key).collect();
    [("signs", keys.join(","))]
}

fn tb_tasks(tb: &TbTreatment, today: NaiveDate, out: &mut Out) -> Result<(), TaskError> {
    if tb.missed_doses > 0 {
        out.push(
            TaskKind::TbMissedDoses,
            Priority::High,
            today,
            &[("missed_doses", tb.missed_doses.to_string())],
        );
    }
    if let Some(pickup) = tb.next_pickup {
        let params = [("pickup", pickup.to_string())];
        if pickup < today {
            out.push(TaskKind::TbPickupMissed, Priority::High, pickup, &params);
        } else if pickup <= plus(today, 3)? {
            out.push(TaskKind::TbPickup, Priority::Normal, pickup, &params);
        }
    }
    Ok(())
}
