//! Posyandu days, home visits, referrals, pregnancies: the facts a kader records.

use crate::error::{Result, StoreError};
use crate::messages::{Key, invalid};
use crate::store::{Draft, Store, Writer};
use crate::validate::{self, PersonFacts};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_protocol::{Body, EntityKind, RecordId};

/// One measurement. `type` and `unit` as in the schema (`weight` in `kg`, `length_height` in
/// `cm` with a `position`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeasurementInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: f64,
    pub unit: String,
    /// `lying` or `standing` (length or height).
    #[serde(default)]
    pub position: Option<String>,
    /// Who measured (name), when not the logged-in user.
    #[serde(default)]
    pub measured_by: Option<String>,
    /// Bilateral pitting oedema seen at this weighing (a `weight` only; body schema 2).
    #[serde(default)]
    pub oedema: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImmunisationInput {
    pub vaccine: String,
    /// The vial's lot number.
    #[serde(default)]
    pub batch: Option<String>,
    /// The vaccine's KFA product code (digits; body schema 2).
    #[serde(default)]
    pub kfa_code: Option<String>,
    /// The vial's expiry date, `YYYY-MM-DD` (body schema 2): not before the dose's day.
    #[serde(default)]
    pub expiry: Option<String>,
    #[serde(default)]
    pub catch_up: Option<bool>,
    /// The day written in the Buku KIA for a dose copied from it (`YYYY-MM-DD`); not after
    /// the visit's day nor before the birth date. Without it the dose is dated the visit.
    #[serde(default)]
    pub date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplementInput {
    pub supplement: String,
    #[serde(default)]
    pub quantity: Option<i64>,
}

/// A screening (TB, PTM, lansia AKS/SKILAS, mental health, ...) as structured answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningInput {
    pub instrument: String,
    pub answers: serde_json::Map<String, Value>,
    #[serde(default)]
    pub result: Option<String>,
}

/// A referral the health worker makes (status starts at `made`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralInput {
    pub reason: String,
    /// `pustu`, `puskesmas` or `hospital`.
    pub destination: String,
    #[serde(default)]
    pub destination_name: Option<String>,
}

/// Services given to one person in one visit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Services {
    #[serde(default)]
    pub measurements: Vec<MeasurementInput>,
    #[serde(default)]
    pub immunisations: Vec<ImmunisationInput>,
    #[serde(default)]
    pub supplements: Vec<SupplementInput>,
    #[serde(default)]
    pub screenings: Vec<ScreeningInput>,
}

/// The ids of what was saved for [`Services`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServicesSaved {
    pub measurements: Vec<RecordId>,
    pub immunisations: Vec<RecordId>,
    pub supplements: Vec<RecordId>,
    pub screenings: Vec<RecordId>,
    pub referral: Option<RecordId>,
}

/// One person at a posyandu day: attendance (the visit), measurements, services, counselling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceInput {
    pub session: RecordId,
    pub person: RecordId,
    #[serde(default, flatten)]
    pub services: Services,
    #[serde(default)]
    pub counselling: Option<String>,
    #[serde(default)]
    pub findings: Option<String>,
    #[serde(default)]
    pub follow_up_date: Option<String>,
    #[serde(default)]
    pub referral: Option<ReferralInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attendance {
    pub visit: RecordId,
    pub saved: ServicesSaved,
}

/// The panel of one household member in a home visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberPanel {
    pub person: RecordId,
    #[serde(default, flatten)]
    pub services: Services,
    #[serde(default)]
    pub findings: Option<String>,
    #[serde(default)]
    pub education: Option<String>,
    #[serde(default)]
    pub follow_up_date: Option<String>,
    #[serde(default)]
    pub reminded_to_facility: Option<bool>,
    /// The date the kader reported to the health worker.
    #[serde(default)]
    pub reported_to_health_worker: Option<String>,
    #[serde(default)]
    pub referral: Option<ReferralInput>,
}

/// A home visit (kunjungan rumah): a panel per member visited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeVisitInput {
    pub household: RecordId,
    pub date: String,
    pub panels: Vec<MemberPanel>,
    /// Household facts checked during the visit (latrine, water source, JKN, ...).
    #[serde(default)]
    pub household_update: Option<Body>,
    #[serde(default)]
    pub family_acknowledged: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberPanelSaved {
    pub person: RecordId,
    pub visit: RecordId,
    pub saved: ServicesSaved,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HomeVisit {
    pub panels: Vec<MemberPanelSaved>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PregnancyInput {
    pub hpht: Option<String>,
    pub gravida: Option<i64>,
    pub para: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AncContactInput {
    /// K1..K6 as 1..6.
    pub contact: i64,
    pub date: String,
    pub place: Option<String>,
    pub by: Option<String>,
    pub by_doctor: Option<bool>,
    pub ultrasound: Option<bool>,
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn base(posyandu: &str, person: &RecordId, visit: Option<&RecordId>, date: &str) -> Body {
    let mut b = Body::new();
    b.insert("posyandu".into(), s(posyandu));
    b.insert("person".into(), s(&person.to_string()));
    if let Some(v) = visit {
        b.insert("visit".into(), s(&v.to_string()));
    }
    b.insert("date".into(), s(date));
    b
}

fn merge_into(mut b: Body, extra: Body) -> Body {
    for (k, v) in extra {
        if !v.is_null() {
            b.insert(k, v);
        }
    }
    b
}

/// Puts a refused field under its place in the input (`measurements.1.value`), so that a
/// form with many rows can mark the right one.
fn at(prefix: String) -> impl FnOnce(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Invalid(mut v) => {
            v.field = format!("{prefix}.{}", v.field);
            StoreError::Invalid(v)
        }
        other => other,
    }
}

/// Saves the services for one person within a visit. A refused field is named by its row
/// (`measurements.<j>.<field>`, `immunisations.<j>.<field>`, ...).
fn save_services(
    w: &mut Writer<'_>,
    p: &PersonFacts,
    person: &RecordId,
    visit: &RecordId,
    date: &str,
    sv: &Services,
) -> Result<ServicesSaved> {
    let posyandu = p.posyandu.clone();
    let mut out = ServicesSaved::default();
    for (j, m) in sv.measurements.iter().enumerate() {
        let id = (|| {
            let body = merge_into(
                base(&posyandu, person, Some(visit), date),
                super::body_of(m)?,
            );
            validate::measurement_for_age(&body, p)?;
            w.push(Draft::new(EntityKind::Measurement, body))
        })()
        .map_err(at(format!("measurements.{j}")))?;
        out.measurements.push(id);
    }
    let mut facts = |list: &str, kind: EntityKind, bodies: Vec<Result<Body>>| {
        let mut ids = Vec::new();
        for (j, b) in bodies.into_iter().enumerate() {
            let id = b
                .and_then(|b| {
                    w.push(Draft::new(
                        kind,
                        merge_into(base(&posyandu, person, Some(visit), date), b),
                    ))
                })
                .map_err(at(format!("{list}.{j}")))?;
            ids.push(id);
        }
        Ok::<_, StoreError>(ids)
    };
    for (j, im) in sv.immunisations.iter().enumerate() {
        copied_dose_date(p, date, im).map_err(at(format!("immunisations.{j}")))?;
    }
    out.immunisations = facts(
        "immunisations",
        EntityKind::Immunisation,
        sv.immunisations.iter().map(immunisation_body).collect(),
    )?;
    out.supplements = facts(
        "supplements",
        EntityKind::Supplement,
        sv.supplements.iter().map(super::body_of).collect(),
    )?;
    out.screenings = facts(
        "screenings",
        EntityKind::Screening,
        sv.screenings.iter().map(super::body_of).collect(),
    )?;
    Ok(out)
}

/// A dose's body; its KFA product code, when the form gave none, chosen from the vaccine
/// (`health_rules::immunisation::KFA_PRODUCTS`: only codes known to be real are listed).
fn immunisation_body(im: &ImmunisationInput) -> Result<Body> {
    let mut b = super::body_of(im)?;
    if !b.contains_key("kfa_code")
        && let Some(code) = health_rules::immunisation::kfa_code_for(&im.vaccine)
    {
        b.insert("kfa_code".into(), s(code));
    }
    Ok(b)
}

/// A copied dose's own day: not after the visit's day, not before the birth date.
fn copied_dose_date(p: &PersonFacts, visit_date: &str, im: &ImmunisationInput) -> Result<()> {
    let Some(d) = im.date.as_deref() else {
        return Ok(());
    };
    match (validate::parse_date(d), validate::parse_date(visit_date)) {
        (None, _) => Err(invalid("date", Key::DateFormat, &[]).into()),
        (Some(d), Some(v)) if d > v => Err(invalid("date", Key::DateInFuture, &[]).into()),
        _ => validate::not_before_birth("date", Some(d), p),
    }
}

fn referral(
    w: &mut Writer<'_>,
    p: &PersonFacts,
    person: &RecordId,
    visit: &RecordId,
    date: &str,
    r: &ReferralInput,
) -> Result<RecordId> {
    let mut body = merge_into(Body::new(), super::body_of(r)?);
    body.insert("posyandu".into(), s(&p.posyandu));
    body.insert("person".into(), s(&person.to_string()));
    body.insert("visit".into(), s(&visit.to_string()));
    body.insert("status".into(), s("made"));
    let id = w.push(Draft::new(EntityKind::Referral, body))?;
    let ev =
        json!({"posyandu": p.posyandu, "referral": id.to_string(), "status": "made", "date": date});
    w.push(Draft::new(EntityKind::ReferralEvent, as_body(ev)))?;
    Ok(id)
}

pub(crate) fn as_body(v: Value) -> Body {
    match v {
        Value::Object(m) => m,
        _ => Body::new(),
    }
}

fn live_person(w: &Writer<'_>, field: &str, id: &RecordId) -> Result<PersonFacts> {
    let p = validate::person(&w.tx, field, id)?;
    if p.status != "active" {
        return Err(invalid(field, Key::PersonInactive, &[]).into());
    }
    Ok(p)
}

impl Store {
    /// Opens a posyandu day.
    pub fn open_posyandu_session(
        &mut self,
        posyandu: &str,
        date: &str,
        service_order: Option<&str>,
    ) -> Result<RecordId> {
        let mut body = Body::new();
        body.insert("posyandu".into(), s(posyandu));
        body.insert("date".into(), s(date));
        if let Some(o) = service_order {
            body.insert("service_order".into(), s(o));
        }
        self.write(|w| w.push(Draft::new(EntityKind::PosyanduSession, body)))
    }

    /// Records one person's attendance at a posyandu day with everything done for them,
    /// in one transaction.
    pub fn record_attendance(&mut self, a: &AttendanceInput) -> Result<Attendance> {
        self.write(|w| {
            validate::require_live(&w.tx, "session", &a.session, "posyandu_session")?;
            let (posyandu, date): (String, String) = w.tx.query_row(
                "SELECT posyandu, date FROM facts WHERE id = ?1",
                [a.session.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let p = live_person(w, "person", &a.person)?;
            validate::not_before_birth("date", Some(&date), &p)?;
            let mut v = base(&posyandu, &a.person, None, &date);
            v.insert("type".into(), s("posyandu"));
            v.insert("session".into(), s(&a.session.to_string()));
            for (k, x) in [
                ("counselling", &a.counselling),
                ("findings", &a.findings),
                ("follow_up_date", &a.follow_up_date),
            ] {
                if let Some(x) = x {
                    v.insert(k.into(), s(x));
                }
            }
            let visit = w.push(Draft::new(EntityKind::Visit, v))?;
            let mut pp = p.clone();
            pp.posyandu = posyandu;
            let mut saved = save_services(w, &pp, &a.person, &visit, &date, &a.services)?;
            if let Some(r) = &a.referral {
                let id =
                    referral(w, &pp, &a.person, &visit, &date, r).map_err(at("referral".into()))?;
                saved.referral = Some(id);
            }
            Ok(Attendance { visit, saved })
        })
    }

    /// Saves one measurement with its outbox entry (the single fastest write).
    pub fn save_measurement(
        &mut self,
        person: RecordId,
        visit: Option<RecordId>,
        date: &str,
        m: &MeasurementInput,
    ) -> Result<RecordId> {
        self.write(|w| {
            let p = live_person(w, "person", &person)?;
            if let Some(v) = &visit {
                validate::require_live(&w.tx, "visit", v, "visit")?;
            }
            let body = merge_into(
                base(&p.posyandu, &person, visit.as_ref(), date),
                super::body_of(m)?,
            );
            validate::measurement_for_age(&body, &p)?;
            w.push(Draft::new(EntityKind::Measurement, body))
        })
    }

    /// Records a home visit: one visit fact per member visited, with their services,
    /// findings, education, follow-up and referral; and the household facts checked.
    pub fn record_home_visit(&mut self, hv: &HomeVisitInput) -> Result<HomeVisit> {
        self.write(|w| {
            validate::require_live(&w.tx, "household", &hv.household, "household")?;
            if hv.panels.is_empty() {
                return Err(invalid("panels", Key::Required, &[]).into());
            }
            if let Some(patch) = &hv.household_update
                && !patch.is_empty()
            {
                w.push(Draft::edit(
                    hv.household,
                    EntityKind::Household,
                    patch.clone(),
                ))?;
            }
            let mut panels = Vec::new();
            for (i, panel) in hv.panels.iter().enumerate() {
                let p =
                    live_person(w, "person", &panel.person).map_err(at(format!("panels.{i}")))?;
                validate::not_before_birth("date", Some(&hv.date), &p)?;
                let mut v = base(&p.posyandu, &panel.person, None, &hv.date);
                v.insert("type".into(), s("home"));
                v.insert("household".into(), s(&hv.household.to_string()));
                for (k, x) in [
                    ("findings", &panel.findings),
                    ("education", &panel.education),
                    ("follow_up_date", &panel.follow_up_date),
                    (
                        "reported_to_health_worker",
                        &panel.reported_to_health_worker,
                    ),
                ] {
                    if let Some(x) = x {
                        v.insert(k.into(), s(x));
                    }
                }
                if let Some(b) = panel.reminded_to_facility {
                    v.insert("reminded_to_facility".into(), Value::Bool(b));
                }
                if let Some(b) = hv.family_acknowledged {
                    v.insert("family_acknowledged".into(), Value::Bool(b));
                }
                let panel_at = || at(format!("panels.{i}"));
                let visit = w
                    .push(Draft::new(EntityKind::Visit, v))
                    .map_err(panel_at())?;
                let mut saved =
                    save_services(w, &p, &panel.person, &visit, &hv.date, &panel.services)
                        .map_err(panel_at())?;
                if let Some(r) = &panel.referral {
                    let id = referral(w, &p, &panel.person, &visit, &hv.date, r)
                        .map_err(at(format!("panels.{i}.referral")))?;
                    saved.referral = Some(id);
                }
                panels.push(MemberPanelSaved {
                    person: panel.person,
                    visit,
                    saved,
                });
            }
            Ok(HomeVisit { panels })
        })
    }

    /// Moves a referral forward (`received`, `done`) with an event; an outcome may be given.
    pub fn advance_referral(
        &mut self,
        referral: RecordId,
        status: &str,
        date: &str,
        outcome: Option<&str>,
    ) -> Result<RecordId> {
        // The server takes a status change only from a health worker (role × kind rules):
        // say so now, before it would sit on the tablet as a refused change.
        if !matches!(self.user().role.as_str(), "bidan" | "perawat") && status != "made" {
            return Err(invalid("status", Key::ReferralHealthWorkerOnly, &[]).into());
        }
        self.write(|w| {
            validate::require_live(&w.tx, "referral", &referral, "referral")?;
            let (posyandu, current): (String, Option<String>) = w.tx.query_row(
                "SELECT posyandu, status FROM referrals WHERE id = ?1",
                [referral.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            // `made < received < done`: a status moved back would lose anyway (forward-only
            // merge); refuse it here instead of recording an event that never takes effect.
            if let Some(rank) = EntityKind::Referral.forward_only_rank("status") {
                let now = current.as_deref().map(s).as_ref().and_then(rank);
                let new = rank(&s(status));
                if let (Some(now), Some(new)) = (now, new)
                    && new == now
                {
                    return Err(invalid(
                        "status",
                        Key::ReferralSameStatus,
                        &[("current", current.clone().unwrap_or_default())],
                    )
                    .into());
                }
                if let (Some(now), Some(new)) = (now, new)
                    && new < now
                {
                    return Err(invalid(
                        "status",
                        Key::ReferralBackwards,
                        &[("current", current.clone().unwrap_or_default())],
                    )
                    .into());
                }
            }
            let mut patch = Body::new();
            patch.insert("status".into(), s(status));
            if let Some(o) = outcome {
                patch.insert("outcome".into(), s(o));
            }
            w.push(Draft::edit(referral, EntityKind::Referral, patch))?;
            let mut ev = Body::new();
            ev.insert("posyandu".into(), s(&posyandu));
            ev.insert("referral".into(), s(&referral.to_string()));
            ev.insert("status".into(), s(status));
            ev.insert("date".into(), s(date));
            if let Some(o) = outcome {
                ev.insert("note".into(), s(o));
            }
            w.push(Draft::new(EntityKind::ReferralEvent, ev))
        })
    }

    /// Starts a pregnancy episode for a woman aged 10–55.
    pub fn start_pregnancy(
        &mut self,
        person: RecordId,
        input: &PregnancyInput,
    ) -> Result<RecordId> {
        self.write(|w| {
            let p = live_person(w, "person", &person)?;
            let age = p.birth_date.map(|b| validate::age_months(b, w.today) / 12);
            if p.sex != "female" || age.is_some_and(|a| !(10..=55).contains(&a)) {
                return Err(invalid("person", Key::NotPregnantAge, &[]).into());
            }
            validate::not_before_birth("hpht", input.hpht.as_deref(), &p)?;
            let ongoing: bool = w.tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM pregnancies
                                WHERE person = ?1 AND deleted = 0 AND status = 'ongoing')",
                [person.to_string()],
                |r| r.get(0),
            )?;
            if ongoing {
                return Err(invalid("person", Key::PregnancyOngoing, &[]).into());
            }
            let mut body = super::body_of(input)?;
            body.insert("posyandu".into(), s(&p.posyandu));
            body.insert("person".into(), s(&person.to_string()));
            body.insert("status".into(), s("ongoing"));
            w.push(Draft::new(EntityKind::Pregnancy, body))
        })
    }

    /// Changes a pregnancy (delivery date, outcome, status).
    pub fn update_pregnancy(&mut self, id: RecordId, patch: Body) -> Result<()> {
        self.write(|w| {
            validate::require_live(&w.tx, "id", &id, "pregnancy")?;
            w.push(Draft::edit(id, EntityKind::Pregnancy, patch))?;
            Ok(())
        })
    }

    /// Records an ANC contact (K1..K6) of a pregnancy.
    pub fn record_anc_contact(
        &mut self,
        pregnancy: RecordId,
        c: &AncContactInput,
    ) -> Result<RecordId> {
        self.write(|w| {
            validate::require_live(&w.tx, "pregnancy", &pregnancy, "pregnancy")?;
            let (posyandu, person): (String, String) = w.tx.query_row(
                "SELECT posyandu, person FROM pregnancies WHERE id = ?1",
                [pregnancy.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let mut body = super::body_of(c)?;
            body.insert("posyandu".into(), s(&posyandu));
            body.insert("person".into(), s(&person));
            body.insert("pregnancy".into(), s(&pregnancy.to_string()));
            w.push(Draft::new(EntityKind::AncContact, body))
        })
    }

    /// A free-text note about a person or a household.
    pub fn add_note(
        &mut self,
        person: Option<RecordId>,
        household: Option<RecordId>,
        text: &str,
    ) -> Result<RecordId> {
        self.write(|w| {
            let posyandu: String = match (&person, &household) {
                (Some(p), _) => validate::person(&w.tx, "person", p)?.posyandu,
                (None, Some(h)) => {
                    validate::require_live(&w.tx, "household", h, "household")?;
                    w.tx.query_row(
                        "SELECT posyandu FROM households WHERE id = ?1",
                        [h.to_string()],
                        |r| r.get(0),
                    )?
                }
                (None, None) => return Err(invalid("person", Key::Required, &[]).into()),
            };
            let mut body = Body::new();
            body.insert("posyandu".into(), s(&posyandu));
            if let Some(p) = person {
                body.insert("person".into(), s(&p.to_string()));
            }
            if let Some(h) = household {
                body.insert("household".into(), s(&h.to_string()));
            }
            body.insert("text".into(), s(text));
            w.push(Draft::new(EntityKind::Note, body))
        })
    }
}
