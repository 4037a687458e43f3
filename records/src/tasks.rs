//! Due tasks typed to the screen: health-rules' [`Task`] with the form that does it, the kind
//! of work it belongs to ([`DueGroup`]), and the plan of one person's tasks from their
//! facts ([`person_due`]).

use crate::facts::Fact;
use crate::history::history;
use crate::rules::{RuleOptions, RulesError};
use chrono::NaiveDate;
use health_rules::Label;
use health_rules::Sex;
use health_rules::immunisation::Schedule;
use health_rules::tasks::{self, DataProblem, DueTasks, Priority, Task, TaskContext, TaskKind};
use serde::{Deserialize, Serialize};
use sync_protocol::Body;

/// A kind of work, for the filter chips of the due list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueGroup {
    /// Vaccines due, overdue or coming.
    Vaccines,
    /// ANC contacts, past the HPL.
    Anc,
    /// Growth follow-ups: T, 2T, BGM, above the orange line.
    Growth,
    /// Newborn (KN) and postpartum (KF) visits.
    NewbornPostpartum,
    MissedPosyandu,
    Tb,
    /// Pregnant women with danger signs or complaints.
    DangerSigns,
    /// Records to check and correct.
    CheckData,
}

impl DueGroup {
    pub const ALL: [DueGroup; 8] = [
        Self::Vaccines,
        Self::Anc,
        Self::Growth,
        Self::NewbornPostpartum,
        Self::MissedPosyandu,
        Self::Tb,
        Self::DangerSigns,
        Self::CheckData,
    ];

    /// The group of a task kind.
    pub fn of(kind: TaskKind) -> Self {
        use TaskKind::*;
        match kind {
            VaccineOverdue | VaccineDue | VaccineUpcoming => Self::Vaccines,
            AncDue | AncMissed | AncUpcoming | PastHpl => Self::Anc,
            GrowthBgmRefer
            | Growth2tRefer
            | GrowthAboveOrangeRefer
            | GrowthTRefer
            | GrowthTVisit
            | GrowthVisit => Self::Growth,
            NewbornVisit | NewbornVisitMissed | PostpartumVisit | PostpartumVisitMissed => {
                Self::NewbornPostpartum
            }
            MissedPosyandu => Self::MissedPosyandu,
            TbMissedDoses | TbPickupMissed | TbPickup => Self::Tb,
            DangerSignRefer | DangerSignSeeBidan => Self::DangerSigns,
            CheckData => Self::CheckData,
        }
    }

    pub fn label(self) -> Label {
        let (key, id, en) = match self {
            Self::Vaccines => ("due.group.vaccines", "Imunisasi", "Vaccines"),
            Self::Anc => ("due.group.anc", "Pemeriksaan kehamilan", "Antenatal care"),
            Self::Growth => (
                "due.group.growth",
                "Tindak lanjut pertumbuhan",
                "Growth follow-up",
            ),
            Self::NewbornPostpartum => (
                "due.group.newborn_postpartum",
                "Kunjungan neonatal dan nifas",
                "Newborn and postpartum visits",
            ),
            Self::MissedPosyandu => (
                "due.group.missed_posyandu",
                "Tidak datang ke posyandu",
                "Missed the posyandu",
            ),
            Self::Tb => ("due.group.tb", "Pengobatan TB", "TB treatment"),
            Self::DangerSigns => (
                "due.group.danger_signs",
                "Tanda bahaya kehamilan",
                "Pregnancy danger signs",
            ),
            Self::CheckData => ("due.group.check_data", "Periksa data", "Check the data"),
        };
        Label { key, id, en }
    }
}

/// The form a due entry opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueForm {
    /// Weighing and measuring at the posyandu (step 2).
    PosyanduMeasurement,
    Immunisation,
    HomeVisit,
    Anc,
    /// Report to the bidan / referral.
    Referral,
    /// The person's record, to check and correct a fact.
    CorrectRecord,
}

impl DueForm {
    /// The form for a task kind; on a posyandu day the person is at the table, so a missed
    /// posyandu or a growth home visit becomes a measurement there.
    pub fn of(kind: TaskKind, on_posyandu_day: bool) -> Self {
        use TaskKind::*;
        match kind {
            VaccineOverdue | VaccineDue | VaccineUpcoming => Self::Immunisation,
            AncDue | AncMissed | AncUpcoming => Self::Anc,
            DangerSignRefer
            | GrowthBgmRefer
            | Growth2tRefer
            | GrowthAboveOrangeRefer
            | GrowthTRefer => Self::Referral,
            MissedPosyandu | GrowthTVisit | GrowthVisit if on_posyandu_day => {
                Self::PosyanduMeasurement
            }
            MissedPosyandu
            | GrowthTVisit
            | GrowthVisit
            | DangerSignSeeBidan
            | PastHpl
            | NewbornVisit
            | NewbornVisitMissed
            | PostpartumVisit
            | PostpartumVisitMissed
            | TbMissedDoses
            | TbPickupMissed
            | TbPickup => Self::HomeVisit,
            CheckData => Self::CorrectRecord,
        }
    }
}

/// One task for one person with the form that does it (serialised flat: `kind`,
/// `priority`, `due`, `reason`, `params`, `form`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueTask {
    #[serde(flatten)]
    pub task: Task,
    /// The form that does it.
    pub form: DueForm,
}

impl DueTask {
    pub fn new(task: Task, on_posyandu_day: bool) -> Self {
        let form = DueForm::of(task.kind, on_posyandu_day);
        Self { task, form }
    }

    pub fn priority(&self) -> Priority {
        self.task.priority
    }
}

/// A person's tasks and the records set aside, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypedDue {
    pub tasks: Vec<DueTask>,
    /// Records health-rules could not use; each also has a "check the data" task.
    pub problems: Vec<DataProblem>,
}

impl TypedDue {
    /// health-rules' answer with the forms chosen (`on_posyandu_day`: see [`DueForm::of`]).
    pub fn of(due: DueTasks, on_posyandu_day: bool) -> Self {
        Self {
            tasks: due
                .tasks
                .into_iter()
                .map(|t| DueTask::new(t, on_posyandu_day))
                .collect(),
            problems: due.problems,
        }
    }

    /// The most pressing priority among the tasks (`None` without tasks).
    pub fn top_priority(&self) -> Option<Priority> {
        self.tasks.iter().map(DueTask::priority).min()
    }
}

/// The rules of a day: the national immunisation schedule, the settings' ANC schedule and
/// area, Buku KIA growth actions.
pub fn task_context(
    today: NaiveDate,
    opts: &RuleOptions,
) -> Result<TaskContext<'static>, RulesError> {
    Ok(TaskContext::new(
        today,
        Schedule::national_2024(),
        opts.anc()?,
        opts.area(),
    ))
}

/// One person's due tasks and data problems on `ctx.today`, from their facts (with those of
/// merged records) and pregnancies; `registered_on`: the day the person was first written
/// (a person registered today has not "missed the posyandu"). The KMS results come from
/// the settings' KBM table (none when it is unknown).
pub fn person_due(
    sex: Sex,
    birth: NaiveDate,
    entries: &[Fact],
    pregnancies: &[Body],
    registered_on: Option<NaiveDate>,
    opts: &RuleOptions,
    ctx: &TaskContext<'_>,
) -> DueTasks {
    let kms = match opts.kbm() {
        Ok(table) => crate::growth::growth_kms(sex, birth, entries, table),
        Err(_) => Vec::new(),
    };
    let mut h = history(birth, sex, kms, entries, pregnancies, ctx.schedule);
    h.registered_on = registered_on;
    tasks::due_tasks_and_problems(&h, ctx)
}

/// Whether [`person_due`] can give the person anything on `today`: health-rules plans
/// only for under-fives (vaccines, growth, posyandu, KN visits) and for pregnancies and
/// deliveries (ANC, KF visits), which come from `pregnancies`; TB treatment is not read
/// from the records yet. For anyone else the plan is empty whatever their facts, so a due
/// list need not read them. (A rule for adults from their facts must change this.)
pub fn may_have_tasks(birth: NaiveDate, pregnancies: &[Body], today: NaiveDate) -> bool {
    crate::age::is_under_five(birth, today) || !pregnancies.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::parse_date;

    #[test]
    fn without_may_have_tasks_the_plan_is_empty_whatever_the_facts() {
        use crate::facts::tests::fact;
        use serde_json::json;
        use sync_protocol::EntityKind;
        let opts = RuleOptions::default();
        let today = parse_date("2025-03-01").expect("date");
        let ctx = task_context(today, &opts).expect("rules");
        // Every kind of fact health-rules reads, some of them bad (a dose before birth).
        let facts = vec![
            fact(
                1,
                EntityKind::Measurement,
                "2025-01-10",
                json!({"type": "weight", "value": 3.1}),
            ),
            fact(
                2,
                EntityKind::Immunisation,
                "2019-01-10",
                json!({"vaccine": "MR1"}),
            ),
            fact(
                3,
                EntityKind::Immunisation,
                "2025-01-10",
                json!({"vaccine": "BCG"}),
            ),
            fact(
                4,
                EntityKind::Visit,
                "2025-02-10",
                json!({"type": "posyandu"}),
            ),
            fact(
                5,
                EntityKind::Screening,
                "2025-02-10",
                json!({"instrument": "danger_signs", "answers": {"bleeding": true}}),
            ),
            fact(
                6,
                EntityKind::AncContact,
                "2025-02-11",
                json!({"pregnancy": "x"}),
            ),
        ];
        for (birth, under_five) in [
            ("2020-03-01", false),
            ("2020-03-02", true),
            ("1990-05-05", false),
            ("2026-01-01", false),
        ] {
            let birth = parse_date(birth).expect("date");
            assert_eq!(may_have_tasks(birth, &[], today), under_five, "{birth}");
            if !under_five {
                for sex in [Sex::Female, Sex::Male] {
                    let due = person_due(sex, birth, &facts, &[], None, &opts, &ctx);
                    assert!(
                        due.tasks.is_empty() && due.problems.is_empty(),
                        "{birth}: {due:?}"
                    );
                }
            }
        }
        let preg = json!({"id": "x", "status": "ongoing", "hpht": "2024-10-01"});
        let pregs = vec![preg.as_object().cloned().expect("object")];
        let adult = parse_date("1990-05-05").expect("date");
        assert!(may_have_tasks(adult, &pregs, today));
        let due = person_due(Sex::Female, adult, &facts, &pregs, None, &opts, &ctx);
        assert!(!due.tasks.is_empty());
    }

    #[test]
    fn every_task_kind_has_a_group_and_a_form() {
        // Exhaustive matches make this a compile-time check; spot-check the mapping.
        assert_eq!(DueGroup::of(TaskKind::VaccineOverdue), DueGroup::Vaccines);
        assert_eq!(
            DueForm::of(TaskKind::Growth2tRefer, false),
            DueForm::Referral
        );
        assert_eq!(
            DueForm::of(TaskKind::GrowthTVisit, false),
            DueForm::HomeVisit
        );
        assert_eq!(
            DueForm::of(TaskKind::MissedPosyandu, true),
            DueForm::PosyanduMeasurement
        );
        assert_eq!(
            DueForm::of(TaskKind::CheckData, false),
            DueForm::CorrectRecord
        );
        assert!(
            DueGroup::ALL
                .iter()
                .all(|g| g.label().key.starts_with("due.group."))
        );
    }

    #[test]
    fn typed_tasks_rank_by_priority_and_serialise_flat() {
        let opts = RuleOptions::default();
        let today = parse_date("2025-03-01").expect("date");
        let ctx = task_context(today, &opts).expect("rules");
        // A baby born two months ago with nothing recorded: vaccines overdue, no weighing.
        let birth = parse_date("2025-01-01").expect("date");
        let due = TypedDue::of(
            person_due(Sex::Female, birth, &[], &[], None, &opts, &ctx),
            false,
        );
        assert!(!due.tasks.is_empty());
        assert_eq!(
            due.top_priority(),
            due.tasks.iter().map(|t| t.task.priority).min()
        );
        assert!(due.tasks.iter().any(|t| t.form == DueForm::Immunisation));
        let v = serde_json::to_value(&due.tasks[0]).expect("json");
        for field in ["kind", "priority", "due", "reason", "params", "form"] {
            assert!(v.get(field).is_some(), "{field} in {v}");
        }
        assert!(Priority::Urgent < Priority::High && Priority::High < Priority::Normal);
    }
}
