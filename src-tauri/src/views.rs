//! What commands return, shaped as `ui/src/lib/api.ts` declares. Where field-core's own
//! types already have the shape (`LocalUser`, `PersonSummary`, `HouseholdView`,
//! `TimelineEntry`, `DuplicateWarning`, `PersonTasks`, `Place`), they are returned as they are.

use crate::error::AppError;
use crate::settings::Settings;
use field_core::sync::Revoked;
use field_core::{DueTask, GrowthPoint, LocalUser, PersonSummary, PersonTasks, TimelineEntry};
use serde::Serialize;
use sync_protocol::RecordId;

#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub enrolled: bool,
    pub users: Vec<LocalUser>,
    pub unlocked: Option<LocalUser>,
    pub settings: Settings,
    pub server_url: Option<String>,
    pub device_name: Option<String>,
    pub app_version: String,
    pub suggested_server: Option<String>,
}

/// `SyncStatus`: what the Beranda shows about syncing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    pub running: bool,
    pub waiting: u64,
    pub rejected: u64,
    pub open_conflicts: u64,
    pub last_success_ms: Option<u64>,
    pub last_attempt_ms: Option<u64>,
    pub last_error: Option<AppError>,
    pub revoked: Option<Revoked>,
    pub login_required: bool,
    pub online: bool,
    /// The zone of the dates and times the kader sees (the store's setting, WITA by
    /// default), as minutes east of UTC: the UI shows times in it, not the machine's zone.
    pub utc_offset_minutes: i32,
    /// Titip: bundles of other tablets this one carries until its next sync, and for how
    /// many tablets.
    pub titip_carrying: u64,
    pub titip_tablets: u64,
}

/// `RevocationNotice`: what the revoked-tablet screen says before the keys are erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationNotice {
    pub at_ms: u64,
    pub message: String,
    /// Changes that never reached the server (lost with the keys).
    pub unsent: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedChange {
    pub record: RecordId,
    pub kind: sync_protocol::EntityKind,
    pub reason: AppError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Home {
    pub user: LocalUser,
    /// The user's posyandu (a kader's area); none for a wider area (bidan, admins).
    pub posyandu: Option<PlaceRef>,
    /// `YYYY-MM-DD` in the device's zone.
    pub today: String,
    pub sync: SyncStatus,
    /// The first page of the persons with something due, the most urgent first (the rest:
    /// `home_tasks`).
    pub tasks: Vec<PersonTasks>,
    /// The whole list's counts.
    pub due: HomeCounts,
    /// What waits in Tinjauan (the badge on Beranda's button).
    pub review: field_core::ReviewCounts,
}

/// What Beranda counts of its whole due list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HomeCounts {
    /// Persons with something due.
    pub persons: u64,
    /// Their tasks and data problems together.
    pub tasks: u64,
}

/// A later page of Beranda's due list.
#[derive(Debug, Clone, Serialize)]
pub struct HomeTasks {
    /// The page's persons with their tasks, in the list's order.
    pub tasks: Vec<PersonTasks>,
    /// Where the next page starts (`persons` when there is none).
    pub next: u64,
    /// Persons in the whole list.
    pub persons: u64,
}

/// `Registered`: field-core's, with the warnings as `AppError`s.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub household: RecordId,
    pub persons: Vec<RecordId>,
    pub duplicates: Vec<field_core::DuplicateWarning>,
    pub warnings: Vec<AppError>,
}

impl From<field_core::Registered> for Registered {
    fn from(r: field_core::Registered) -> Self {
        Self {
            household: r.household,
            persons: r.persons,
            duplicates: r.duplicates,
            warnings: r.warnings.iter().map(AppError::validation).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdRef {
    pub id: RecordId,
    pub head_name: String,
}

/// `Profile`: a person, their household, their timeline (oldest first) and what is due.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub person: PersonSummary,
    pub household: Option<HouseholdRef>,
    pub entries: Vec<TimelineEntry>,
    /// The person's due tasks (health-rules' `Task` with the form that does it).
    pub tasks: Vec<DueTask>,
    /// Growth results per weighing (under-fives), from health-rules.
    pub growth: Vec<GrowthPoint>,
    /// Pregnancy episodes (current values: hpht, status, ...), oldest first.
    pub pregnancies: Vec<sync_protocol::Body>,
    /// Referrals of the person (current values: reason, destination, status, ...).
    pub referrals: Vec<sync_protocol::Body>,
}

/// The posyandu start screen.
#[derive(Debug, Clone, Serialize)]
pub struct PosyanduOptions {
    /// `YYYY-MM-DD` in the device's zone.
    pub today: String,
    /// The posyandu of the user's area, by name.
    pub posyandu: Vec<PlaceRef>,
    /// Sessions of the last 60 days, newest first.
    pub sessions: Vec<field_core::SessionRef>,
}

/// One person on a posyandu day's roster.
#[derive(Debug, Clone, Serialize)]
pub struct RosterRow {
    pub person: PersonSummary,
    pub household_head: Option<String>,
    pub pregnant: bool,
    /// The visit recorded at this session, when they were seen.
    pub visit: Option<RecordId>,
    /// Expected today: a due task for the posyandu, a balita's monthly weighing, or a
    /// pregnancy check.
    pub expected: bool,
    pub reasons: Vec<health_rules::Label>,
}

/// A posyandu day: the session and its roster.
#[derive(Debug, Clone, Serialize)]
pub struct PosyanduDay {
    pub session: field_core::SessionRef,
    pub today: String,
    pub roster: Vec<RosterRow>,
}

/// A report written to the app's exports folder.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedCsv {
    pub path: String,
    pub file_name: String,
    pub csv: String,
}

/// A printable report written to the app's exports folder.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    pub path: String,
    pub file_name: String,
    /// Its size in bytes.
    pub bytes: usize,
}
