//! FHIR R4 for SATUSEHAT: the records of a place and a period as `Patient`, `Encounter`,
//! `Observation`, `Immunization` (and the puskesmas as `Organization`), in one transaction
//! `Bundle` (`urn:uuid` full URLs) or as NDJSON per resource type. The mapping is
//! documented table by table in `docs/fhir.md`; the tests check it against those tables.
//!
//! The mapping functions ([`patient`], [`encounter`], [`observation`],
//! [`blood_pressure`], [`immunization`], [`organization`]) are pure; [`load`] reads their
//! inputs from the read model, [`bundle`] and [`ndjson`] put the resources together.

use super::ExportError;
use crate::Storage;
use crate::readmodel::{Cell as DbCell, Param};
use chrono::NaiveDate;
use health_rules::immunisation::Schedule;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use sync_protocol::Hlc;

pub const PROFILE_BASE: &str = "https://fhir.kemkes.go.id/r4/StructureDefinition/";
pub const NIK: &str = "https://fhir.kemkes.go.id/id/nik";
pub const NIK_IBU: &str = "https://fhir.kemkes.go.id/id/nik-ibu";
/// The core extension that carries a patient's time of birth on `birthDate`.
pub const BIRTH_TIME_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/patient-birthTime";
pub const KFA: &str = "http://sys-ids.kemkes.go.id/kfa";
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const LOINC: &str = "http://loinc.org";
pub const UCUM: &str = "http://unitsofmeasure.org";
/// Jangkau's own record ids, as URIs (`urn:uuid:<id>`): what makes a resource findable again
/// (conditional create) and the submission idempotent.
pub const RECORD_ID: &str = "urn:ietf:rfc:3986";
/// The place code of a puskesmas (until the platform's organisation id replaces it).
pub const PLACE_CODE: &str = "urn:jangkau:place";
/// Whether a dose was given on time or as catch-up (*kejar*), by the national schedule.
pub const TIMING_EXTENSION: &str = "urn:jangkau:fhir:immunization-timing";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// One measurement type: LOINC code and display, UCUM code and unit shown, category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObservationCode {
    pub loinc: &'static str,
    pub display: &'static str,
    pub ucum: &'static str,
    pub unit: &'static str,
    pub category: &'static str,
}

const fn oc(
    loinc: &'static str,
    display: &'static str,
    ucum: &'static str,
    unit: &'static str,
    category: &'static str,
) -> ObservationCode {
    ObservationCode {
        loinc,
        display,
        ucum,
        unit,
        category,
    }
}

/// The code of a measurement (`type` and, for a length or height, `position`).
pub fn observation_code(kind: &str, position: Option<&str>) -> Option<ObservationCode> {
    Some(match (kind, position) {
        ("weight", _) => oc("29463-7", "Body weight", "kg", "kg", "vital-signs"),
        ("length_height", Some("lying")) => {
            oc("8306-3", "Body height --lying", "cm", "cm", "vital-signs")
        }
        ("length_height", _) => oc("8302-2", "Body height", "cm", "cm", "vital-signs"),
        ("head", _) => oc(
            "9843-4",
            "Head Occipital-frontal circumference",
            "cm",
            "cm",
            "vital-signs",
        ),
        ("muac", _) => oc(
            "56072-2",
            "Circumference Mid upper arm - right",
            "cm",
            "cm",
            "vital-signs",
        ),
        ("bp_systolic", _) => oc(
            "8480-6",
            "Systolic blood pressure",
            "mm[Hg]",
            "mmHg",
            "vital-signs",
        ),
        ("bp_diastolic", _) => oc(
            "8462-4",
            "Diastolic blood pressure",
            "mm[Hg]",
            "mmHg",
            "vital-signs",
        ),
        ("hb", _) => oc(
            "718-7",
            "Hemoglobin [Mass/volume] in Blood",
            "g/dL",
            "g/dL",
            "laboratory",
        ),
        ("blood_sugar", _) => oc(
            "2339-0",
            "Glucose [Mass/volume] in Blood",
            "mg/dL",
            "mg/dL",
            "laboratory",
        ),
        ("temperature", _) => oc("8310-5", "Body temperature", "Cel", "Cel", "vital-signs"),
        ("waist", _) => oc(
            "8280-0",
            "Waist Circumference at umbilicus by Tape measure",
            "cm",
            "cm",
            "vital-signs",
        ),
        _ => return None,
    })
}

/// The blood pressure panel.
pub const BP_PANEL: (&str, &str) = ("85354-9", "Blood pressure panel with all children optional");

/// The CVX code of a series of the national schedule.
pub fn cvx(series: &str) -> Option<(&'static str, &'static str)> {
    Some(match series {
        "HB0" => ("08", "Hep B, adolescent or pediatric"),
        "BCG" => ("19", "BCG"),
        "OPV" => ("178", "Non-US bivalent oral polio vaccine (types 1 and 3)"),
        "DPT-HB-Hib" => ("198", "DTP-hepB-Hib Pentavalent Non-US"),
        "PCV" => ("133", "Pneumococcal conjugate PCV 13"),
        "RV" => ("122", "rotavirus, unspecified formulation"),
        "IPV" => ("10", "IPV"),
        "MR" => ("04", "M/R"),
        "JE" => (
            "129",
            "Japanese Encephalitis vaccine, unspecified formulation",
        ),
        _ => return None,
    })
}

/// A person as the mapping needs them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonIn {
    pub id: String,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub nik: Option<String>,
    pub mother_name: Option<String>,
    pub mother_nik: Option<String>,
    /// Order among the mother's children born the same day (1 for a single birth).
    pub birth_order: u32,
    pub address: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    pub phone: Option<String>,
    /// A newborn's time of birth, `HH:MM` local (WITA): body schema 2.
    pub birth_time: Option<String>,
}

/// A fact (visit, measurement or immunisation) as the mapping needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactIn {
    pub id: String,
    pub kind: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub body: Map<String, Value>,
    pub person: String,
    pub visit: Option<String>,
    pub posyandu: String,
    /// When the tablet saved it.
    pub made: Option<Hlc>,
    /// The display name of the user who recorded it.
    pub author: Option<String>,
    /// The id of the user who recorded it.
    pub author_id: Option<String>,
    /// The recording health worker's NIK (`users.nik`), when known.
    pub author_nik: Option<String>,
    /// The recording health worker as a `Practitioner/<IHS id>` reference: set by the
    /// submission worker once the platform knows them (by NIK); the file export leaves it
    /// out (names only).
    pub practitioner: Option<String>,
    /// The fact this one corrects.
    pub supersedes: Option<String>,
}

impl FactIn {
    fn text(&self, k: &str) -> Option<&str> {
        self.body.get(k).and_then(Value::as_str)
    }

    /// The author as a FHIR `Reference`: the Practitioner when known, with the name shown.
    fn performer(&self) -> Option<Value> {
        let mut r = Map::new();
        if let Some(p) = &self.practitioner {
            r.insert("reference".into(), json!(p));
        }
        if let Some(a) = &self.author {
            r.insert("display".into(), json!(a));
        }
        (!r.is_empty()).then_some(Value::Object(r))
    }
}

pub fn urn(id: &str) -> String {
    format!("urn:uuid:{id}")
}

fn meta(resource: &str) -> Value {
    json!({"profile": [format!("{PROFILE_BASE}{resource}")]})
}

fn record_identifier(id: &str) -> Value {
    json!({"system": RECORD_ID, "value": urn(id)})
}

/// A fact's time: its day, with the time the tablet saved it (+08:00, WITA) when that was
/// on the same day, else the day alone (a record copied later has no known hour).
pub fn fact_time(date: &str, made: Option<Hlc>) -> String {
    if let Some(h) = made {
        let ms = i64::try_from(h.wall_ms).unwrap_or(i64::MAX);
        let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
            + chrono::Duration::hours(8);
        if t.format("%Y-%m-%d").to_string() == date {
            return format!("{}+08:00", t.format("%Y-%m-%dT%H:%M:%S"));
        }
    }
    date.to_string()
}

/// `Patient`.
pub fn patient(p: &PersonIn) -> Value {
    let mut identifier = Vec::new();
    let mut names = Vec::new();
    let newborn = p.nik.is_none() && p.mother_nik.is_some();
    if let Some(nik) = &p.nik {
        identifier.push(json!({"use": "official", "system": NIK, "value": nik}));
    } else if let Some(mnik) = &p.mother_nik {
        identifier.push(json!({"use": "official", "system": NIK_IBU, "value": mnik}));
        let mother = p.mother_name.clone().unwrap_or_default();
        names.push(json!({"use": "official", "text": format!("Bayi Ny. {mother}")}));
    }
    identifier.push(record_identifier(&p.id));
    let placeholder = newborn && p.name.starts_with("Bayi");
    if !p.name.is_empty() && !placeholder {
        names.push(json!({"use": if newborn { "usual" } else { "official" }, "text": p.name}));
    }
    let mut r = json!({
        "resourceType": "Patient",
        "meta": meta("Patient"),
        "identifier": identifier,
        "active": true,
        "name": names,
    });
    let o = r.as_object_mut().expect("an object");
    if let Some(g) = p.sex.as_deref().filter(|s| *s == "male" || *s == "female") {
        o.insert("gender".into(), json!(g));
    }
    if let Some(b) = &p.birth_date {
        o.insert("birthDate".into(), json!(b));
        // The time of birth (schema 2), as the core extension on birthDate, in WITA.
        if let Some(t) = p
            .birth_time
            .as_deref()
            .filter(|t| sync_protocol::schema::is_valid_time(t))
        {
            o.insert(
                "_birthDate".into(),
                json!({"extension": [{"url": BIRTH_TIME_EXTENSION,
                                      "valueDateTime": format!("{b}T{t}:00+08:00")}]}),
            );
        }
    }
    if newborn {
        o.insert("multipleBirthInteger".into(), json!(p.birth_order.max(1)));
    }
    if let Some(ph) = &p.phone {
        o.insert(
            "telecom".into(),
            json!([{"system": "phone", "value": ph, "use": "mobile"}]),
        );
    }
    if p.address.is_some() || p.rt.is_some() || p.rw.is_some() {
        let mut a = json!({"use": "home", "country": "ID"});
        let ao = a.as_object_mut().expect("an object");
        if let Some(line) = &p.address {
            ao.insert("line".into(), json!([line]));
        }
        let sub: Vec<Value> = [("rt", &p.rt), ("rw", &p.rw)]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| json!({"url": k, "valueCode": v})))
            .collect();
        if !sub.is_empty() {
            ao.insert(
                "extension".into(),
                json!([{"url": format!("{PROFILE_BASE}administrativeCode"), "extension": sub}]),
            );
        }
        o.insert("address".into(), json!([a]));
    }
    r
}

/// `Organization` for a puskesmas.
pub fn organization(id: &str, code: &str, name: &str) -> Value {
    json!({
        "resourceType": "Organization",
        "meta": meta("Organization"),
        "identifier": [{"system": PLACE_CODE, "value": code}, record_identifier(id)],
        "active": true,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type",
                               "code": "prov", "display": "Healthcare Provider"}]}],
        "name": name,
    })
}

/// `Encounter` of a visit (`type` posyandu: ambulatory; home: home health), or of facts
/// recorded without a visit (`visit` is then a fact of another kind standing in for it).
pub fn encounter(visit: &FactIn, patient_url: &str, org_url: Option<&str>) -> Value {
    let home = visit.kind == "visit" && visit.text("type") == Some("home");
    let (code, display) = if home {
        ("HH", "home health")
    } else {
        ("AMB", "ambulatory")
    };
    let start = fact_time(&visit.date, visit.made);
    let mut r = json!({
        "resourceType": "Encounter",
        "meta": meta("Encounter"),
        "identifier": [record_identifier(&visit.id)],
        "status": "finished",
        "statusHistory": [{"status": "finished", "period": {"start": start}}],
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "subject": {"reference": patient_url},
        "period": {"start": start, "end": start},
    });
    let o = r.as_object_mut().expect("an object");
    if let Some(who) = visit.performer() {
        o.insert(
            "participant".into(),
            json!([{"type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                           "code": "ATND", "display": "attender"}]}],
                    "individual": who}]),
        );
    }
    if let Some(org) = org_url {
        o.insert("serviceProvider".into(), json!({"reference": org}));
    }
    r
}

fn quantity(value: f64, c: &ObservationCode) -> Value {
    json!({"value": value, "unit": c.unit, "system": UCUM, "code": c.ucum})
}

fn category(c: &str) -> Value {
    let display = if c == "laboratory" {
        "Laboratory"
    } else {
        "Vital Signs"
    };
    json!([{"coding": [{"system": OBS_CATEGORY, "code": c, "display": display}]}])
}

/// `Observation` of one measurement (not blood pressure: [`blood_pressure`]); `None` for a
/// type without a code or a body without a value.
pub fn observation(m: &FactIn, patient_url: &str, encounter_url: &str) -> Option<Value> {
    let c = observation_code(m.text("type")?, m.text("position"))?;
    let value = m.body.get("value")?.as_f64()?;
    let mut r = json!({
        "resourceType": "Observation",
        "meta": meta("Observation"),
        "identifier": [record_identifier(&m.id)],
        "status": "final",
        "category": category(c.category),
        "code": {"coding": [{"system": LOINC, "code": c.loinc, "display": c.display}]},
        "subject": {"reference": patient_url},
        "encounter": {"reference": encounter_url},
        "effectiveDateTime": fact_time(&m.date, m.made),
        "valueQuantity": quantity(value, &c),
    });
    if let Some(who) = m.performer() {
        r.as_object_mut()
            .expect("an object")
            .insert("performer".into(), json!([who]));
    }
    Some(r)
}

/// One `Observation` (the blood pressure panel) for a systolic and/or diastolic reading of
/// the same visit; its id is the first reading's.
pub fn blood_pressure(
    systolic: Option<&FactIn>,
    diastolic: Option<&FactIn>,
    patient_url: &str,
    encounter_url: &str,
) -> Option<Value> {
    let first = systolic.or(diastolic)?;
    let mut components = Vec::new();
    for f in [systolic, diastolic].into_iter().flatten() {
        let c = observation_code(f.text("type")?, None)?;
        let v = f.body.get("value")?.as_f64()?;
        components.push(json!({
            "code": {"coding": [{"system": LOINC, "code": c.loinc, "display": c.display}]},
            "valueQuantity": quantity(v, &c),
        }));
    }
    let mut ids: Vec<Value> = vec![record_identifier(&first.id)];
    if let (Some(_), Some(d)) = (systolic, diastolic) {
        ids.push(record_identifier(&d.id));
    }
    let mut r = json!({
        "resourceType": "Observation",
        "meta": meta("Observation"),
        "identifier": ids,
        "status": "final",
        "category": category("vital-signs"),
        "code": {"coding": [{"system": LOINC, "code": BP_PANEL.0, "display": BP_PANEL.1}]},
        "subject": {"reference": patient_url},
        "encounter": {"reference": encounter_url},
        "effectiveDateTime": fact_time(&first.date, first.made),
        "component": components,
    });
    if let Some(who) = first.performer() {
        r.as_object_mut()
            .expect("an object")
            .insert("performer".into(), json!([who]));
    }
    Some(r)
}

/// `Immunization` of one dose. `birth` gives the timing by the schedule; `visit_date` tells a
/// dose copied from the KIA book (its own day before the visit's: `primarySource` false).
/// `district_kfa` (series → KFA product code, the district's table:
/// `crate::storage::vaccine_kfa`) gives the KFA code of a dose whose body has none; the
/// body's own `kfa_code` wins.
pub fn immunization(
    f: &FactIn,
    patient_url: &str,
    encounter_url: Option<&str>,
    birth: Option<NaiveDate>,
    visit_date: Option<&str>,
    district_kfa: &BTreeMap<String, String>,
) -> Value {
    let vaccine = f.text("vaccine").unwrap_or_default();
    let schedule = Schedule::national_2024();
    let dose = schedule.dose_for_record(vaccine);
    let mut coding = Vec::new();
    let kfa = f.text("kfa_code").or_else(|| {
        health_rules::immunisation::kfa_series(vaccine)
            .and_then(|series| district_kfa.get(series))
            .map(String::as_str)
    });
    if let Some(k) = kfa {
        coding.push(json!({"system": KFA, "code": k}));
    }
    if let Some((code, display)) = dose.and_then(|d| cvx(&d.series)) {
        coding.push(json!({"system": CVX, "code": code, "display": display}));
    }
    let copied = match visit_date {
        Some(v) => f.date.as_str() < v,
        None => f
            .made
            .is_some_and(|h| crate::readmodel::merge::wita_date(h) != f.date),
    };
    let mut r = json!({
        "resourceType": "Immunization",
        "meta": meta("Immunization"),
        "identifier": [record_identifier(&f.id)],
        "status": "completed",
        "vaccineCode": {"coding": coding, "text": vaccine},
        "patient": {"reference": patient_url},
        "occurrenceDateTime": fact_time(&f.date, f.made),
        "primarySource": !copied,
    });
    let o = r.as_object_mut().expect("an object");
    if let Some(e) = encounter_url {
        o.insert("encounter".into(), json!({"reference": e}));
    }
    if let Some(h) = f.made {
        o.insert(
            "recorded".into(),
            json!(fact_time(&crate::readmodel::merge::wita_date(h), Some(h))),
        );
    }
    if copied {
        o.insert(
            "reportOrigin".into(),
            json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/immunization-origin",
                               "code": "record", "display": "Written Record"}], "text": "Buku KIA"}),
        );
    }
    // The vial's lot number travels in `batch` (body schema 1 and 2).
    if let Some(lot) = f.text("batch") {
        o.insert("lotNumber".into(), json!(lot));
    }
    if let Some(exp) = f.text("expiry") {
        o.insert("expirationDate".into(), json!(exp));
    }
    if !copied && let Some(who) = f.performer() {
        o.insert(
            "performer".into(),
            json!([{"function": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0443",
                                              "code": "AP", "display": "Administering Provider"}]},
                    "actor": who}]),
        );
    }
    if let Some(d) = dose {
        let n = schedule
            .doses
            .iter()
            .filter(|x| x.series == d.series)
            .position(|x| x.id == d.id)
            .map_or(1, |i| i + 1);
        o.insert(
            "protocolApplied".into(),
            json!([{"authority": {"display": schedule.name}, "series": d.series,
                    "doseNumberPositiveInt": n}]),
        );
        let day = NaiveDate::parse_from_str(&f.date, "%Y-%m-%d").ok();
        let timing = match (f.body.get("catch_up").and_then(Value::as_bool), birth, day) {
            (Some(true), ..) => Some("catch-up"),
            (_, Some(b), Some(day)) => d
                .on_time_before
                .from(b)
                .map(|limit| if day < limit { "on-time" } else { "catch-up" }),
            _ => None,
        };
        if let Some(t) = timing {
            o.insert(
                "extension".into(),
                json!([{"url": TIMING_EXTENSION, "valueCode": t}]),
            );
        }
    }
    r
}

/// What [`load`] reads: persons, facts, and the puskesmas of each posyandu.
#[derive(Debug, Clone, Default)]
pub struct Records {
    pub persons: BTreeMap<String, PersonIn>,
    /// Visits, measurements and immunisations, by day and id.
    pub facts: Vec<FactIn>,
    /// Posyandu code → (puskesmas code, puskesmas name).
    pub puskesmas: HashMap<String, (String, String)>,
    /// The visits the facts point at (also those dated outside the period).
    pub visits: HashMap<String, FactIn>,
    /// The district's KFA product codes, series → code (`crate::storage::vaccine_kfa`).
    pub kfa: BTreeMap<String, String>,
}

fn db_text(r: &[DbCell], i: usize) -> Option<String> {
    r.get(i).and_then(DbCell::text).map(str::to_string)
}

fn values(s: Option<String>) -> Map<String, Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

const FACT_COLS: &str = "f.id, f.kind, f.date, f.body_json, f.person, f.visit, f.posyandu,
    f.made_hlc, u.display_name, f.author, u.nik, f.supersedes";

fn fact_row(r: &[DbCell]) -> Option<FactIn> {
    Some(FactIn {
        id: db_text(r, 0)?,
        kind: db_text(r, 1)?,
        date: db_text(r, 2)?,
        body: values(db_text(r, 3)),
        person: db_text(r, 4)?,
        visit: db_text(r, 5),
        posyandu: db_text(r, 6).unwrap_or_default(),
        made: db_text(r, 7).and_then(|h| h.parse().ok()),
        author: db_text(r, 8),
        author_id: db_text(r, 9),
        author_nik: db_text(r, 10),
        practitioner: None,
        supersedes: db_text(r, 11),
    })
}

/// The live visits, measurements and immunisations dated `from..=to` at or below `place`,
/// their persons and visits, the puskesmas above each posyandu, and the district's KFA codes.
pub async fn load(
    store: &dyn Storage,
    place: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Records, ExportError> {
    let p = |s: &str| Param::Text(s.to_string());
    let params = vec![
        p(place),
        p(&records::facts::ymd(from)),
        p(&records::facts::ymd(to)),
    ];
    let mut out = Records::default();
    let facts = store
        .read_rows(
            format!(
                "SELECT {FACT_COLS} FROM facts f JOIN place_tree t ON t.code = f.posyandu
                 LEFT JOIN users u ON u.id = f.author
                 WHERE t.ancestor = ?1 AND f.date BETWEEN ?2 AND ?3 AND f.deleted = 0
                   AND f.person IS NOT NULL
                   AND f.kind IN ('visit', 'measurement', 'immunisation')
                   AND NOT EXISTS (SELECT 1 FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)
                 ORDER BY f.date, f.id"
            ),
            params.clone(),
        )
        .await?;
    out.facts = facts.iter().filter_map(|r| fact_row(r)).collect();
    for r in store
        .read_rows(
            format!(
                "SELECT {FACT_COLS} FROM facts f LEFT JOIN users u ON u.id = f.author
                 WHERE f.kind = 'visit' AND f.deleted = 0 AND f.id IN (
                   SELECT g.visit FROM facts g JOIN place_tree t ON t.code = g.posyandu
                   WHERE t.ancestor = ?1 AND g.date BETWEEN ?2 AND ?3 AND g.deleted = 0
                     AND g.visit IS NOT NULL)"
            ),
            params.clone(),
        )
        .await?
    {
        if let Some(f) = fact_row(&r) {
            out.visits.insert(f.id.clone(), f);
        }
    }
    for f in out.facts.iter().filter(|f| f.kind == "visit") {
        out.visits.insert(f.id.clone(), f.clone());
    }
    for r in store
        .read_rows(
            "SELECT p.id, p.name, p.sex, p.birth_date, p.nik, p.values_json,
                 m.name, m.nik, h.values_json, h.rt, h.rw,
                 (SELECT COUNT(*) FROM persons s WHERE s.mother = p.mother
                     AND s.birth_date = p.birth_date AND s.id < p.id AND s.deleted = 0)
             FROM persons p
             LEFT JOIN persons m ON m.id = p.mother AND m.deleted = 0
             LEFT JOIN households h ON h.id = p.household AND h.deleted = 0
             WHERE p.deleted = 0 AND p.id IN (
                 SELECT f.person FROM facts f JOIN place_tree t ON t.code = f.posyandu
                 WHERE t.ancestor = ?1 AND f.date BETWEEN ?2 AND ?3 AND f.deleted = 0
                   AND f.kind IN ('visit', 'measurement', 'immunisation'))"
                .into(),
            params.clone(),
        )
        .await?
    {
        let Some(id) = db_text(&r, 0) else { continue };
        let v = values(db_text(&r, 5));
        let hh = values(db_text(&r, 8));
        let vt = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let order = r
            .get(11)
            .and_then(DbCell::int)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        out.persons.insert(
            id.clone(),
            PersonIn {
                id,
                name: db_text(&r, 1).unwrap_or_default(),
                sex: db_text(&r, 2),
                birth_date: db_text(&r, 3),
                nik: db_text(&r, 4),
                mother_name: db_text(&r, 6),
                mother_nik: db_text(&r, 7),
                birth_order: order + 1,
                address: vt(&hh, "address"),
                rt: vt(&v, "rt").or_else(|| db_text(&r, 9)),
                rw: db_text(&r, 10),
                phone: vt(&v, "phone"),
                birth_time: vt(&v, "birth_time"),
            },
        );
    }
    for r in store
        .read_rows(
            "SELECT t.code, a.code, a.name FROM place_tree t
             JOIN places a ON a.code = t.ancestor
             JOIN place_tree u ON u.code = t.code
             WHERE u.ancestor = ?1 AND a.level = 'puskesmas'"
                .into(),
            vec![p(place)],
        )
        .await?
    {
        if let (Some(pos), Some(code)) = (db_text(&r, 0), db_text(&r, 1)) {
            out.puskesmas
                .insert(pos, (code, db_text(&r, 2).unwrap_or_default()));
        }
    }
    out.kfa = crate::storage::vaccine_kfa::codes(store).await?;
    Ok(out)
}

/// A name-based id (UUID version 8 from SHA-256) for resources no record stands for: the
/// encounter of facts recorded without a visit, a puskesmas.
pub fn derived_id(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_custom_bytes(b)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// The resources of `records`, in bundle order: organisations, patients, encounters,
/// observations, immunisations. Each as (its `urn:uuid` full URL, the resource).
pub fn resources(records: &Records) -> Vec<(String, Value)> {
    let mut orgs: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut patients: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut encounters: BTreeMap<String, (String, Value)> = BTreeMap::new();
    let mut observations = Vec::new();
    let mut immunizations = Vec::new();
    let mut org_url = |posyandu: &str| {
        let (code, name) = records.puskesmas.get(posyandu)?;
        let id = derived_id(&["organization", code]);
        let url = urn(&id);
        orgs.entry(code.clone())
            .or_insert_with(|| (url.clone(), organization(&id, code, name)));
        Some(url)
    };
    // Encounters: every visit of a fact; a stand-in per person and day for facts without.
    let mut encounter_of: HashMap<String, String> = HashMap::new();
    for f in &records.facts {
        let Some(person) = records.persons.get(&f.person) else {
            continue;
        };
        let patient_url = urn(&person.id);
        patients
            .entry(person.id.clone())
            .or_insert_with(|| (patient_url.clone(), patient(person)));
        let visit = match (&f.visit, f.kind.as_str()) {
            (_, "visit") => Some(f.clone()),
            (Some(v), _) => records.visits.get(v).cloned(),
            (None, _) => None,
        };
        let (key, stand_in) = match visit {
            Some(v) => (v.id.clone(), v),
            None => {
                let id = derived_id(&["encounter", &f.person, &f.date]);
                let mut s = f.clone();
                s.id = id.clone();
                s.kind = "encounter".into();
                (id, s)
            }
        };
        if !encounters.contains_key(&key) {
            let org = org_url(&stand_in.posyandu);
            let url = urn(&key);
            let e = encounter(&stand_in, &patient_url, org.as_deref());
            encounters.insert(key.clone(), (url, e));
        }
        encounter_of.insert(f.id.clone(), urn(&key));
    }
    // Blood pressure readings of one encounter go into one panel.
    let mut bp: BTreeMap<String, (Option<&FactIn>, Option<&FactIn>)> = BTreeMap::new();
    for f in &records.facts {
        let (Some(person), Some(enc)) = (records.persons.get(&f.person), encounter_of.get(&f.id))
        else {
            continue;
        };
        let patient_url = urn(&person.id);
        match (f.kind.as_str(), f.text("type")) {
            ("measurement", Some("bp_systolic")) => {
                bp.entry(enc.clone()).or_default().0.get_or_insert(f);
            }
            ("measurement", Some("bp_diastolic")) => {
                bp.entry(enc.clone()).or_default().1.get_or_insert(f);
            }
            ("measurement", _) => {
                if let Some(o) = observation(f, &patient_url, enc) {
                    observations.push((urn(&f.id), o));
                }
            }
            ("immunisation", _) => {
                let birth = person
                    .birth_date
                    .as_deref()
                    .and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok());
                let visit_date = f
                    .visit
                    .as_ref()
                    .and_then(|v| records.visits.get(v))
                    .map(|v| v.date.as_str());
                immunizations.push((
                    urn(&f.id),
                    immunization(f, &patient_url, Some(enc), birth, visit_date, &records.kfa),
                ));
            }
            _ => {}
        }
    }
    for (enc, (s, d)) in bp {
        let Some(first) = s.or(d) else { continue };
        let patient_url = urn(&first.person);
        if let Some(o) = blood_pressure(s, d, &patient_url, &enc) {
            observations.push((urn(&first.id), o));
        }
    }
    orgs.into_values()
        .chain(patients.into_values())
        .chain(encounters.into_values())
        .chain(observations)
        .chain(immunizations)
        .collect()
}

/// The transaction `Bundle`: each resource POSTed, conditionally on its identifier (the NIK
/// for a patient who has one, else the record id), so a bundle sent twice creates nothing
/// twice.
pub fn bundle(resources: &[(String, Value)]) -> Value {
    let entries: Vec<Value> = resources
        .iter()
        .map(|(url, r)| {
            let ty = r["resourceType"].as_str().unwrap_or_default();
            let ids = r["identifier"].as_array().cloned().unwrap_or_default();
            let key = ids
                .iter()
                .find(|i| i["system"] == NIK)
                .or_else(|| ids.iter().find(|i| i["system"] == RECORD_ID))
                .map(|i| {
                    format!(
                        "identifier={}|{}",
                        i["system"].as_str().unwrap_or_default(),
                        i["value"].as_str().unwrap_or_default()
                    )
                });
            let mut request = json!({"method": "POST", "url": ty});
            if let Some(k) = key {
                request["ifNoneExist"] = json!(k);
            }
            json!({"fullUrl": url, "resource": r, "request": request})
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "meta": {"lastUpdated": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()},
        "type": "transaction",
        "entry": entries,
    })
}

/// NDJSON per resource type: (`Patient.ndjson`, lines), … Each resource carries its
/// `id` (the UUID of its full URL), and references are written as `Type/id`.
pub fn ndjson(resources: &[(String, Value)]) -> BTreeMap<String, String> {
    let types: HashMap<String, String> = resources
        .iter()
        .map(|(u, r)| {
            (
                u.clone(),
                r["resourceType"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (url, r) in resources {
        let mut r = r.clone();
        rewrite_refs(&mut r, &types);
        let id = url.trim_start_matches("urn:uuid:");
        r["id"] = json!(id);
        let ty = r["resourceType"].as_str().unwrap_or_default().to_string();
        let line = serde_json::to_string(&r).unwrap_or_default();
        let file = out.entry(format!("{ty}.ndjson")).or_default();
        file.push_str(&line);
        file.push('\n');
    }
    out
}

fn rewrite_refs(v: &mut Value, types: &HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("reference")
                && let Some(ty) = types.get(r.as_str())
            {
                *r = format!("{ty}/{}", r.trim_start_matches("urn:uuid:"));
            }
            o.values_mut().for_each(|x| rewrite_refs(x, types));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, types)),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn fact_times_carry_wita() {
        // 2025-11-22 01:30 UTC = 09:30 WITA.
        let h = Hlc {
            wall_ms: 1_763_775_000_000,
            counter: 0,
        };
        assert_eq!(
            fact_time("2025-11-22", Some(h)),
            "2025-11-22T09:30:00+08:00"
        );
        assert_eq!(fact_time("2025-11-20", Some(h)), "2025-11-20");
        assert_eq!(fact_time("2025-11-20", None), "2025-11-20");
    }

    #[test]
    fn derived_ids_are_stable_uuids() {
        let a = derived_id(&["encounter", "x", "2025-11-22"]);
        assert_eq!(a, derived_id(&["encounter", "x", "2025-11-22"]));
        assert_ne!(a, derived_id(&["encounter", "x", "2025-11-23"]));
        assert!(sync_protocol::ids::parse_canonical_uuid(&a).is_some());
    }
}
