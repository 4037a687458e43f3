//! # records
//!
//! The domain's typed views of merged records, pure like `sync-protocol` and `health-rules`:
//! no IO, no SQL, no reading of the clock (the day is passed in). Both sides that hold
//! merged records build this crate's inputs from their own rows and get the same answers:
//! - the tablet (`field-core`) from its read tables (`persons`, `facts` with `body_json`
//!   and supersession, `pregnancies` with `values_json`);
//! - the district server from its read model, which mirrors those tables.
//!
//! What lives here:
//! - [`age`]: the one "age in completed months" and the under-five limit (defined in
//!   `health-rules`, the lowest pure crate, and re-exported), and [`LifeStage`];
//! - [`facts`]: a stored fact ([`Fact`]) read as health-rules inputs (live measurements,
//!   measurement days, KMS weighings), [`HealthProblem`];
//! - [`history`]: what the due tasks are planned from (doses, pregnancy, visits), the
//!   facts of a posyandu handed out per person with merged records ([`PersonFacts`]);
//! - [`growth`]: growth results per measurement day ([`GrowthPoint`]) and KMS results;
//! - [`chart`]: the growth chart ([`chart::GrowthChart`]: WHO curves, the child's points,
//!   KMS results, the latest result in words with the next action);
//! - [`card`]: the immunisation card ([`card::ImmunisationCard`]: every dose's state);
//! - [`pregnancy`]: the bidan's view of an ongoing pregnancy ([`PregnancyView`]: HPL,
//!   gestational age, ANC done and due, KEK, anaemia);
//! - [`tasks`]: due tasks with the form that does them ([`DueTask`], [`DueGroup`],
//!   [`DueForm`]), one person's plan ([`tasks::person_due`]);
//! - [`report`]: the body-reading half of SKDN / the monthly posyandu report (F1), the
//!   month's activity, a posyandu day's attendance;
//! - [`rules`]: which rule tables the district uses ([`RuleOptions`]);
//! - [`names`]: spelling-tolerant name keys (Yohanes/Johanes, Soekarno/Sukarno);
//! - [`duplicates`]: likely duplicate persons (same NIK; same name, birth date and mother)
//!   found by blocking keys, as the district server proposes them.
#![forbid(unsafe_code)]

pub mod age;
pub mod card;
pub mod chart;
pub mod duplicates;
pub mod facts;
pub mod growth;
pub mod history;
pub mod merges;
pub mod names;
pub mod pregnancy;
pub mod report;
pub mod rules;
pub mod tasks;

pub use age::{LifeStage, UNDER_FIVE_MONTHS, age_in_months, is_under_five};
pub use facts::{Fact, HealthProblem, RowError};
pub use growth::GrowthPoint;
pub use history::PersonFacts;
pub use pregnancy::{Dated, PregnancyView};
pub use report::{
    AttendanceCounts, ChildRecords, MonthActivity, PosyanduReport, ReportChildProblem, Skdn,
};
pub use rules::{RuleOptions, RulesError};
pub use tasks::{DueForm, DueGroup, DueTask, TypedDue};
