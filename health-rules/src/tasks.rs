//! Due tasks: what a kader or bidan should do for one person, and by when.
//!
//! Rules (`shared/domain/ILP.md`: home visits, growth, immunisation, pregnancy; Buku KIA
//! visit windows):
//! - Under-fives: vaccine due (normal), overdue (*kejar*, high) or coming within
//!   [`UPCOMING_DAYS`] (normal); missed posyandu (not seen this month or last month:
//!   *kunjungan rumah*, normal); latest KMS result from this or last month: T, 2T, below
//!   the red line (BGM) and above the orange line each get the action of the district's
//!   [`GrowthActions`] table (default: a single T is a home visit with counselling within
//!   [`VISIT_WITHIN_DAYS`], high; 2T, BGM and above the orange line are reported to the
//!   bidan for referral within [`REFER_WITHIN_DAYS`], urgent).
//! - Newborn visits KN1 6–48 h (days 0–2), KN2 days 3–7, KN3 days 8–28; postpartum KF1
//!   6 h–2 days, KF2 days 3–7, KF3 days 8–28, KF4 days 29–42. A visit counts for the
//!   window its date falls in. Open window: KN1/KF1 urgent, others high; missed window:
//!   high for [`MISSED_VISIT_GRACE_DAYS`] after it closed; next window within
//!   [`UPCOMING_DAYS`]: normal.
//! - Pregnancy (no delivery recorded after HPHT): danger signs (refer now: urgent;
//!   other complaints: high), ANC K1–K6 due (high when its trimester ends within
//!   [`UPCOMING_DAYS`], else normal), missed (high, for [`ANC_MISSED_GRACE_DAYS`] after
//!   its trimester ended, then dropped like a missed KN/KF), next upcoming (normal); past
//!   HPL without a delivery (high, urgent from 2 weeks after the HPL). The HPL follows
//!   the ANC schedule's rule (Naegele's calendar rule by default).
//! - TB treatment: missed doses (high, visit today), medicine pickup missed (high) or
//!   within 3 days (normal).
//!
//! Every rule runs on its own. A bad record (a dose dated more than
//! [`crate::immunisation::CLOCK_SKEW_DAYS`] days ahead, an unknown dose id, an ANC contact
//! before the HPHT, a date outside the calendar) is set aside and reported as a
//! [`DataProblem`] plus one high-priority [`TaskKind::CheckData`] task ("periksa data");
//! the other records and rules still give their tasks, urgent ones included.
//!
//! Tasks are sorted by priority (urgent first), then due date, then kind (stable).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::{Label, Sex};
use crate::immunisation::{self, AreaOptions, DoseState, GivenDose, ImmunisationError, Schedule};
use crate::kms::{GrowthAction, GrowthActions, KmsResult, MonthResult, YearMonth};
use crate::pregnancy::{
    self, AncSchedule, AncState, DangerAdvice, DangerSign, PregnancyError, TrimesterState,
};

/// Upcoming items are listed this many days ahead.
pub const UPCOMING_DAYS: u64 = 14;
/// A T result: home visit within this many days of the weighing.
pub const VISIT_WITHIN_DAYS: u64 = 7;
/// 2T or BGM: report to the bidan for referral within this many days of the weighing.
pub const REFER_WITHIN_DAYS: u64 = 2;
/// A missed KN/KF window stays on the list this many days after it closed.
pub const MISSED_VISIT_GRACE_DAYS: u64 = 7;
/// A missed ANC contact stays on the list (high) this many days after its trimester ended.
pub const ANC_MISSED_GRACE_DAYS: u64 = 14;

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

    /// The values of [`Self::key`]'s text.
    pub fn params(&self) -> crate::Params {
        match self {
            Self::Immunisation(e) => e.params(),
            Self::Pregnancy(e) => e.params(),
            Self::DateOutOfRange => crate::Params::new(),
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
    /// The day the person was registered (first written on a device), when known: a person
    /// registered this month or last month could not have missed a whole posyandu month.
    #[serde(default)]
    pub registered_on: Option<NaiveDate>,
}

/// The rule tables and the day to plan for.
#[derive(Debug, Clone, Copy)]
pub struct TaskContext<'a> {
    pub today: NaiveDate,
    pub schedule: &'a Schedule,
    pub anc: &'a AncSchedule,
    pub area: AreaOptions,
    /// What to do about T, 2T, BGM and above the orange line (district data).
    pub growth_actions: &'a GrowthActions,
}

impl<'a> TaskContext<'a> {
    /// A context with the built-in growth follow-up table ([`GrowthActions::buku_kia`]).
    pub fn new(
        today: NaiveDate,
        schedule: &'a Schedule,
        anc: &'a AncSchedule,
        area: AreaOptions,
    ) -> Self {
        Self {
            today,
            schedule,
            anc,
            area,
            growth_actions: GrowthActions::buku_kia(),
        }
    }
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
    /// A record could not be used: check and correct it (*periksa data*).
    CheckData,
    GrowthBgmRefer,
    Growth2tRefer,
    GrowthAboveOrangeRefer,
    /// A single T when the district refers every T.
    GrowthTRefer,
    GrowthTVisit,
    /// Home visit for 2T, BGM or above the orange line when the district's table says
    /// home visit rather than referral (`finding` param).
    GrowthVisit,
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
            Self::CheckData => (
                "tasks.check_data",
                "Periksa data: ada catatan yang tidak bisa dipakai, perbaiki",
                "Check the data: a record could not be used, correct it",
            ),
            Self::GrowthAboveOrangeRefer => (
                "tasks.growth_above_orange_refer",
                "Berat badan di atas garis oranye: kunjungan rumah dan lapor bidan untuk rujukan",
                "Weight above the orange line: home visit and report to the bidan for referral",
            ),
            Self::GrowthTRefer => (
                "tasks.growth_t_refer",
                "Berat badan tidak naik (T): kunjungan rumah dan lapor bidan untuk rujukan",
                "Weight did not go up (T): home visit and report to the bidan for referral",
            ),
            Self::GrowthVisit => (
                "tasks.growth_visit",
                "Masalah pertumbuhan: kunjungan rumah, konseling makan, lapor bidan",
                "Growth problem: home visit, feeding counselling, tell the bidan",
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

/// A record that could not be used, and why. The rest of the person's tasks were built
/// without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataProblem {
    /// Message key of the error, e.g. `immunisation.given_in_future`.
    pub key: &'static str,
    /// Which record to check, for the kader (e.g. `tasks.problem.immunisation`).
    pub label: Label,
    /// The values of the key's text (`dose`, `date`, `hpht` …).
    pub params: crate::Params,
}

/// [`due_tasks_and_problems`]: the tasks, and the records that had to be set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueTasks {
    /// Sorted; includes one [`TaskKind::CheckData`] task per problem.
    pub tasks: Vec<Task>,
    pub problems: Vec<DataProblem>,
}

/// Which part of the history a problem is in.
#[derive(Debug, Clone, Copy)]
enum Area {
    Immunisation,
    Pregnancy,
    Visits,
    Growth,
    Tb,
}

impl Area {
    fn label(self) -> Label {
        let (key, id, en) = match self {
            Area::Immunisation => (
                "tasks.problem.immunisation",
                "Periksa catatan imunisasi",
                "Check the immunisation record",
            ),
            Area::Pregnancy => (
                "tasks.problem.pregnancy",
                "Periksa catatan kehamilan (HPHT, ANC)",
                "Check the pregnancy record (HPHT, ANC)",
            ),
            Area::Visits => (
                "tasks.problem.visits",
                "Periksa tanggal lahir/persalinan dan kunjungan KN/KF",
                "Check the birth/delivery date and the KN/KF visits",
            ),
            Area::Growth => (
                "tasks.problem.growth",
                "Periksa catatan penimbangan",
                "Check the weighing record",
            ),
            Area::Tb => (
                "tasks.problem.tb",
                "Periksa catatan pengobatan TB",
                "Check the TB treatment record",
            ),
        };
        Label { key, id, en }
    }
}

struct Out {
    tasks: Vec<Task>,
    problems: Vec<DataProblem>,
}

impl Out {
    fn push(
        &mut self,
        kind: TaskKind,
        priority: Priority,
        due: NaiveDate,
        params: &[(&'static str, String)],
    ) {
        self.push_owned(kind, priority, due, params.to_vec());
    }

    /// [`Out::push`] taking the parameters' values without copying them.
    fn push_owned(
        &mut self,
        kind: TaskKind,
        priority: Priority,
        due: NaiveDate,
        params: Vec<(&'static str, String)>,
    ) {
        self.tasks.push(Task {
            kind,
            priority,
            due,
            reason: kind.label(),
            params: params.into_iter().collect(),
        });
    }

    fn problem(&mut self, area: Area, key: &'static str, params: crate::Params) {
        self.problems.push(DataProblem {
            key,
            label: area.label(),
            params,
        });
    }

    /// Record the error of a whole rule (its other tasks are kept).
    fn rule(&mut self, area: Area, outcome: Result<(), TaskError>) {
        if let Err(e) = outcome {
            self.problem(area, e.key(), e.params());
        }
    }
}

/// A date as chrono's `Display` writes it (`YYYY-MM-DD` for years 0 to 9999), without its
/// formatting machinery: a due list writes one for most of its tasks.
fn ymd(d: NaiveDate) -> String {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    let Ok(y @ 0..=9999) = u32::try_from(y) else {
        return d.to_string();
    };
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    let mut out = String::with_capacity(10);
    for n in [y / 1000, y / 100, y / 10, y] {
        out.push(digit(n));
    }
    out.push('-');
    out.push(digit(m / 10));
    out.push(digit(m));
    out.push('-');
    out.push(digit(day / 10));
    out.push(digit(day));
    out
}

fn plus(d: NaiveDate, days: u64) -> Result<NaiveDate, TaskError> {
    d.checked_add_days(Days::new(days))
        .ok_or(TaskError::DateOutOfRange)
}

/// Every task for one person on `ctx.today`, sorted by priority, then due date.
///
/// Never fails on bad records any more: they become [`TaskKind::CheckData`] tasks (see
/// [`due_tasks_and_problems`] for the details). The `Result` is kept for compatibility.
pub fn due_tasks(person: &PersonHistory, ctx: &TaskContext<'_>) -> Result<Vec<Task>, TaskError> {
    Ok(due_tasks_and_problems(person, ctx).tasks)
}

/// Every task for one person on `ctx.today`, and the records that had to be set aside.
/// Each rule is evaluated on its own; a bad record never hides the other tasks.
pub fn due_tasks_and_problems(person: &PersonHistory, ctx: &TaskContext<'_>) -> DueTasks {
    let mut out = Out {
        tasks: Vec::new(),
        problems: Vec::new(),
    };
    let today = ctx.today;
    let under_five = crate::age::is_under_five(person.birth_date, today);
    if under_five {
        let r = vaccine_tasks(person, ctx, &mut out);
        out.rule(Area::Immunisation, r);
        let r = growth_tasks(person, ctx, &mut out);
        out.rule(Area::Growth, r);
        let r = posyandu_task(person, today, &mut out);
        out.rule(Area::Growth, r);
        const KN: [(&str, u64, u64, bool); 3] = [
            ("KN1", 0, 2, true),
            ("KN2", 3, 7, false),
            ("KN3", 8, 28, false),
        ];
        let r = visit_tasks(
            person.birth_date,
            &KN,
            &person.newborn_visits,
            today,
            (TaskKind::NewbornVisit, TaskKind::NewbornVisitMissed),
            &mut out,
        );
        out.rule(Area::Visits, r);
    }
    if let Some(delivery) = person.delivery_date {
        const KF: [(&str, u64, u64, bool); 4] = [
            ("KF1", 0, 2, true),
            ("KF2", 3, 7, false),
            ("KF3", 8, 28, false),
            ("KF4", 29, 42, false),
        ];
        let r = visit_tasks(
            delivery,
            &KF,
            &person.postpartum_visits,
            today,
            (TaskKind::PostpartumVisit, TaskKind::PostpartumVisitMissed),
            &mut out,
        );
        out.rule(Area::Visits, r);
    }
    if let Some(p) = &person.pregnancy
        && person.delivery_date.is_none_or(|d| d < p.hpht)
    {
        let r = pregnancy_tasks(p, ctx, &mut out);
        out.rule(Area::Pregnancy, r);
    }
    if let Some(tb) = &person.tb
        && !tb.completed
    {
        let r = tb_tasks(tb, today, &mut out);
        out.rule(Area::Tb, r);
    }
    let problems = std::mem::take(&mut out.problems);
    for p in &problems {
        out.push(
            TaskKind::CheckData,
            Priority::High,
            today,
            &[
                ("problem", p.key.to_string()),
                ("record", p.label.key.to_string()),
            ],
        );
    }
    let mut tasks = out.tasks;
    // Stable: equal keys keep the order the rules made them in (K4 before K5).
    tasks.sort_by_key(|t| (t.priority, t.due, t.kind));
    DueTasks { tasks, problems }
}

fn vaccine_tasks(
    person: &PersonHistory,
    ctx: &TaskContext<'_>,
    out: &mut Out,
) -> Result<(), TaskError> {
    let (usable, bad) = immunisation::check_given(
        ctx.schedule,
        person.birth_date,
        &person.immunisations,
        ctx.today,
    );
    for e in bad {
        out.problem(Area::Immunisation, e.key(), e.params());
    }
    let list = immunisation::dose_states(
        ctx.schedule,
        person.birth_date,
        &usable,
        ctx.today,
        ctx.area,
    )?;
    let horizon = plus(ctx.today, UPCOMING_DAYS)?;
    for (dose, state) in list {
        let p = |extra: Option<(&'static str, NaiveDate)>| {
            let mut v = Vec::with_capacity(3);
            v.push(("vaccine", dose.name.clone()));
            v.push(("dose_id", dose.id.clone()));
            v.extend(extra.map(|(k, date)| (k, ymd(date))));
            v
        };
        match state {
            DoseState::Due {
                due_date,
                on_time_until,
            } => {
                out.push_owned(
                    TaskKind::VaccineDue,
                    Priority::Normal,
                    on_time_until,
                    p(Some(("due_date", due_date))),
                );
            }
            DoseState::Overdue {
                due_date,
                allowed_until,
            } => {
                out.push_owned(
                    TaskKind::VaccineOverdue,
                    Priority::High,
                    due_date,
                    p(allowed_until.map(|a| ("allowed_until", a))),
                );
            }
            DoseState::NotYetDue { due_date } if due_date <= horizon => {
                out.push_owned(
                    TaskKind::VaccineUpcoming,
                    Priority::Normal,
                    due_date,
                    p(None),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn growth_tasks(
    person: &PersonHistory,
    ctx: &TaskContext<'_>,
    out: &mut Out,
) -> Result<(), TaskError> {
    let today = ctx.today;
    let Some(latest) = person.kms.iter().max_by_key(|r| r.month) else {
        return Ok(());
    };
    if latest.month < YearMonth::of(today).prev() {
        return Ok(());
    }
    let actions = ctx.growth_actions;
    let refer_by = plus(latest.date, REFER_WITHIN_DAYS)?;
    let visit_by = plus(latest.date, VISIT_WITHIN_DAYS)?;
    let params = |finding: &str| {
        [
            ("weighed_on", ymd(latest.date)),
            ("weight_g", latest.weight_g.to_string()),
            ("finding", finding.to_string()),
        ]
    };
    // (finding, present, action, kind when referred)
    let findings = [
        (
            "bgm",
            latest.bgm == Some(true),
            actions.below_red_line,
            TaskKind::GrowthBgmRefer,
        ),
        (
            "above_orange",
            latest.above_orange == Some(true),
            actions.above_orange_line,
            TaskKind::GrowthAboveOrangeRefer,
        ),
        ("2t", latest.two_t, actions.two_t, TaskKind::Growth2tRefer),
        (
            "t",
            latest.result == KmsResult::T && !latest.two_t,
            actions.t,
            TaskKind::GrowthTRefer,
        ),
    ];
    for (finding, present, action, refer_kind) in findings {
        if !present {
            continue;
        }
        match action {
            GrowthAction::Refer => {
                out.push(refer_kind, Priority::Urgent, refer_by, &params(finding))
            }
            GrowthAction::HomeVisit => {
                let kind = if finding == "t" {
                    TaskKind::GrowthTVisit
                } else {
                    TaskKind::GrowthVisit
                };
                out.push(kind, Priority::High, visit_by, &params(finding));
            }
        }
    }
    Ok(())
}

fn posyandu_task(person: &PersonHistory, today: NaiveDate, out: &mut Out) -> Result<(), TaskError> {
    let last_month = YearMonth::of(today).prev();
    // A child born this month or last month could not have missed a whole posyandu month.
    if YearMonth::of(person.birth_date) >= last_month {
        return Ok(());
    }
    // Nor a person registered this month or last month (issue 16: a child registered today
    // was shown at that day's posyandu as "Tidak datang ke posyandu: kunjungan rumah").
    if person
        .registered_on
        .is_some_and(|d| YearMonth::of(d) >= last_month)
    {
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
        .map(|d| ("last_attended", ymd(d)))
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
        // Built only for a window that gives a task: most windows of a child past its
        // first weeks give none, and a due list plans every child of a desa.
        let params = || {
            vec![
                ("visit", name.to_string()),
                ("from", ymd(start)),
                ("until", ymd(end)),
            ]
        };
        if today > end {
            if today <= plus(end, MISSED_VISIT_GRACE_DAYS)? {
                out.push_owned(missed_kind, Priority::High, end, params());
            }
        } else if today >= start {
            let priority = if urgent {
                Priority::Urgent
            } else {
                Priority::High
            };
            out.push_owned(due_kind, priority, end, params());
        } else if !upcoming_listed && start <= plus(today, UPCOMING_DAYS)? {
            upcoming_listed = true;
            out.push_owned(due_kind, Priority::Normal, start, params());
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
    // Danger signs first: they need no date arithmetic and must never be lost.
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
    let hpl = ctx.anc.hpl(p.hpht)?;
    let hpl_param = ("hpl", ymd(hpl));
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
    // A contact dated before the HPHT is a typing error in one of the two dates: set it
    // aside and plan with the others.
    let mut contacts = Vec::with_capacity(p.anc_contacts.len());
    for &c in &p.anc_contacts {
        if c < p.hpht {
            let e = PregnancyError::DateBeforeHpht {
                date: c,
                hpht: p.hpht,
            };
            out.problem(Area::Pregnancy, e.key(), e.params());
        } else {
            contacts.push(c);
        }
    }
    let horizon = plus(today, UPCOMING_DAYS)?;
    // A trimester that ended short of its minimum: high for a grace period, then dropped.
    for t in pregnancy::anc_trimester_checks(ctx.anc, p.hpht, &contacts, today)? {
        if let TrimesterState::Short { missing } = t.state
            && today <= plus(t.by, ANC_MISSED_GRACE_DAYS)?
        {
            out.push(
                TaskKind::AncMissed,
                Priority::High,
                t.by,
                &[
                    ("contact", format!("Trimester {}", t.trimester.number())),
                    ("trimester", t.trimester.number().to_string()),
                    ("missing", missing.to_string()),
                ],
            );
        }
    }
    let mut upcoming_listed = false;
    for c in pregnancy::anc_status(ctx.anc, p.hpht, &contacts, today)? {
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
            AncState::NotYetDue { from, .. } if !upcoming_listed && from <= horizon => {
                upcoming_listed = true;
                out.push(TaskKind::AncUpcoming, Priority::Normal, from, &[k, doctor]);
            }
            AncState::NotYetDue { .. } | AncState::Done { .. } | AncState::Missed { .. } => {}
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
        let params = [("pickup", ymd(pickup))];
        if pickup < today {
            out.push(TaskKind::TbPickupMissed, Priority::High, pickup, &params);
        } else if pickup <= plus(today, 3)? {
            out.push(TaskKind::TbPickup, Priority::Normal, pickup, &params);
        }
    }
    Ok(())
}

#[cfg(test)]
mod ymd_tests {
    use super::*;

    #[test]
    fn ymd_writes_a_date_as_chronos_display() {
        let mut d = NaiveDate::from_ymd_opt(1899, 12, 25).expect("date");
        let end = NaiveDate::from_ymd_opt(2101, 1, 10).expect("date");
        while d <= end {
            assert_eq!(ymd(d), d.to_string());
            d = d.succ_opt().expect("next day");
        }
        for (y, m, day) in [
            (0, 1, 1),
            (9, 2, 3),
            (99, 10, 31),
            (999, 7, 4),
            (9999, 12, 31),
        ] {
            let d = NaiveDate::from_ymd_opt(y, m, day).expect("date");
            assert_eq!(ymd(d), d.to_string());
        }
        for y in [-1, -2024, 10000, 262_000] {
            let d = NaiveDate::from_ymd_opt(y, 6, 15).expect("date");
            assert_eq!(ymd(d), d.to_string());
        }
    }
}
