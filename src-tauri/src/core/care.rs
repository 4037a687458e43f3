//! The field work: posyandu days (open, roster, check and record one person, the closing
//! summary), home visits, and referrals. Every rule is field-core's or health-rules'; this
//! module only shapes what the screens ask for.

use super::{AppCore, iso_day, require_in_area};
use crate::error::{AppError, record_id};
use crate::views::{PlaceRef, PosyanduDay, PosyanduOptions, RosterRow};
use field_core::{
    Attendance, AttendanceInput, DueFilter, DueForm, HomeVisit, HomeVisitInput, MeasurementInput,
    PregnancyInput, PregnancyView, ReferralRow, ReferralView, SessionRef, SessionSummary, Store,
};
use health_rules::Label;
use health_rules::age::UNDER_FIVE_MONTHS;
use health_rules::checks::MeasurementCheck;
use health_rules::tasks::Priority;
use std::collections::HashMap;
use sync_protocol::PlaceLevel;
use sync_protocol::RecordId;

/// How far back the posyandu start screen lists sessions to resume.
const RECENT_SESSION_DAYS: i64 = 60;

/// A posyandu day's expected balita without a due task: weighed every month (SKDN's D).
const MONTHLY_WEIGHING: Label = Label {
    key: "posyandu.reason.monthly_weighing",
    id: "Penimbangan bulanan",
    en: "Monthly weighing",
};

const PREGNANCY_CHECK: Label = Label {
    key: "posyandu.reason.pregnancy_check",
    id: "Ibu hamil: timbang, LiLA, tekanan darah",
    en: "Pregnant: weight, LiLA, blood pressure",
};

/// The posyandu of the user's area with their names (the scope's own place when the
/// tablet has not received the place names at a login yet).
fn area_posyandu(store: &Store) -> Result<Vec<PlaceRef>, AppError> {
    let codes = store.posyandu_in_scope()?;
    let known = store.places(PlaceLevel::Posyandu, None)?;
    let mut out: Vec<PlaceRef> = codes
        .into_iter()
        .map(|code| {
            let name = known
                .iter()
                .find(|p| p.code == code)
                .map_or_else(|| code.clone(), |p| p.name.clone());
            PlaceRef { code, name }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn order_arg(order: Option<&str>) -> Result<Option<&'static str>, AppError> {
    match order.map(str::trim).filter(|o| !o.is_empty()) {
        None => Ok(None),
        Some("services_first") => Ok(Some("services_first")),
        Some("counselling_first") => Ok(Some("counselling_first")),
        Some(_) => Err(AppError::choice("order")),
    }
}

/// The roster in the order a kader calls people: those expected today (most urgent first,
/// then by name), then everyone else youngest first (walk-ins).
fn build_roster(store: &Store, session: &SessionRef) -> Result<Vec<RosterRow>, AppError> {
    let roster = store.roster(&session.posyandu, &session.date)?;
    let due = store.due_list(&DueFilter {
        posyandu: Some(session.posyandu.clone()),
        on_posyandu_day: true,
        ..DueFilter::default()
    })?;
    // Per person: the reasons (in Rust's order: most urgent first) and the best priority.
    let mut reasons: HashMap<RecordId, (Vec<Label>, Option<Priority>)> = HashMap::new();
    for e in due.iter().filter(|e| {
        matches!(
            e.form,
            DueForm::PosyanduMeasurement | DueForm::Immunisation | DueForm::Anc
        )
    }) {
        let (why, best) = reasons.entry(e.person.id).or_default();
        if !why.contains(&e.reason) {
            why.push(e.reason.clone());
        }
        *best = Some(best.map_or(e.priority, |b| b.min(e.priority)));
    }
    let mut rows: Vec<(Option<Priority>, RosterRow)> = roster
        .into_iter()
        .map(|r| {
            let (mut why, best) = reasons.remove(&r.person.id).unwrap_or_default();
            if why.is_empty()
                && r.person
                    .age_months
                    .is_some_and(|m| m < i64::from(UNDER_FIVE_MONTHS))
            {
                why.push(MONTHLY_WEIGHING);
            }
            if why.is_empty() && r.pregnant {
                why.push(PREGNANCY_CHECK);
            }
            let row = RosterRow {
                expected: !why.is_empty(),
                person: r.person,
                household_head: r.household_head,
                pregnant: r.pregnant,
                visit: r.visit,
                reasons: why,
            };
            (best, row)
        })
        .collect();
    // Expected first: with a due task by priority (urgent, high, normal), then the monthly
    // weighings and pregnancy checks, by name. The walk-ins keep the roster's youngest-first
    // order (the sort is stable).
    rows.sort_by(|(pa, a), (pb, b)| {
        let key = |p: &Option<Priority>, r: &RosterRow| (!r.expected, p.is_none(), *p);
        key(pa, a).cmp(&key(pb, b)).then_with(|| {
            if a.expected && b.expected {
                a.person.name.cmp(&b.person.name)
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

impl AppCore {
    /// The posyandu start screen: today, the posyandu of the user's area, recent sessions.
    pub fn posyandu_options(&self) -> Result<PosyanduOptions, AppError> {
        self.with_store(|s| {
            let today = s.today()?;
            let since = today - chrono::Duration::days(RECENT_SESSION_DAYS);
            Ok(PosyanduOptions {
                today: iso_day(today),
                posyandu: area_posyandu(s)?,
                sessions: s.posyandu_sessions(&iso_day(since))?,
            })
        })
    }

    /// Opens the posyandu day of `posyandu` on `date`, or returns the one already open.
    pub fn open_posyandu_session(
        &self,
        posyandu: &str,
        date: &str,
        order: Option<&str>,
    ) -> Result<SessionRef, AppError> {
        let order = order_arg(order)?;
        let (posyandu, date) = (posyandu.trim().to_string(), date.trim().to_string());
        self.with_store(|s| {
            // An empty posyandu is field-core's to refuse (required).
            if !posyandu.is_empty() {
                require_in_area(s, &posyandu)?;
            }
            Ok(s.open_or_resume_session(&posyandu, &date, order)?)
        })
    }

    pub fn posyandu_day(&self, session: &str) -> Result<PosyanduDay, AppError> {
        let id = record_id("session", session)?;
        self.with_store(|s| {
            let session = s.posyandu_session(id)?;
            let roster = build_roster(s, &session)?;
            Ok(PosyanduDay {
                today: iso_day(s.today()?),
                session,
                roster,
            })
        })
    }

    /// Judges measurements before they are saved (nothing is written).
    pub fn assess_measurement(
        &self,
        person: &str,
        date: &str,
        measurements: Vec<MeasurementInput>,
    ) -> Result<MeasurementCheck, AppError> {
        let person = record_id("person", person)?;
        self.with_store(|s| Ok(s.assess_measurement(person, &measurements, date.trim())?))
    }

    /// One person's attendance with everything done for them, in one transaction.
    pub fn record_attendance(&self, input: AttendanceInput) -> Result<Attendance, AppError> {
        self.with_store(|s| Ok(s.record_attendance(&input)?))
    }

    /// The summary that closes a posyandu day: its SKDN and what was given.
    pub fn session_summary(&self, session: &str) -> Result<SessionSummary, AppError> {
        let id = record_id("session", session)?;
        self.with_store(|s| Ok(s.session_summary(id)?))
    }

    /// Starts a pregnancy of a woman (HPHT, gravida, para); the ANC schedule, HPL and the
    /// pregnancy checks of the posyandu follow from it.
    pub fn start_pregnancy(
        &self,
        person: &str,
        input: PregnancyInput,
    ) -> Result<RecordId, AppError> {
        let person = record_id("person", person)?;
        let input = PregnancyInput {
            hpht: input
                .hpht
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty()),
            ..input
        };
        self.with_store(|s| Ok(s.start_pregnancy(person, &input)?))
    }

    /// The ongoing pregnancy as the bidan reads it (gestational age, HPL, trimester, ANC
    /// contacts done and due, KEK, anaemia); `None` without one.
    pub fn pregnancy_view(&self, person: &str) -> Result<Option<PregnancyView>, AppError> {
        let person = record_id("person", person)?;
        self.with_store(|s| Ok(s.pregnancy_view(person)?))
    }

    pub fn record_home_visit(&self, input: HomeVisitInput) -> Result<HomeVisit, AppError> {
        self.with_store(|s| Ok(s.record_home_visit(&input)?))
    }

    /// Referrals of the user's area, newest first (`status`: made, received, done).
    pub fn referrals(&self, status: Option<&str>) -> Result<Vec<ReferralRow>, AppError> {
        let status = status.map(str::trim).filter(|s| !s.is_empty());
        if let Some(st) = status
            && !sync_protocol::entity::REFERRAL_STATUSES.contains(&st)
        {
            return Err(AppError::choice("status"));
        }
        self.with_store(|s| Ok(s.referrals(status)?))
    }

    pub fn referral(&self, id: &str) -> Result<ReferralView, AppError> {
        let id = record_id("id", id)?;
        self.with_store(|s| Ok(s.referral(id)?))
    }

    /// Moves a referral forward (received, done), with the date and an outcome.
    pub fn advance_referral(
        &self,
        id: &str,
        status: &str,
        date: &str,
        outcome: Option<&str>,
    ) -> Result<ReferralRow, AppError> {
        let id = record_id("id", id)?;
        let status = status.trim();
        if !["received", "done"].contains(&status) {
            return Err(AppError::choice("status"));
        }
        let outcome = outcome.map(str::trim).filter(|o| !o.is_empty());
        self.with_store(|s| {
            s.advance_referral(id, status, date.trim(), outcome)?;
            Ok(s.referral(id)?.referral)
        })
    }
}
