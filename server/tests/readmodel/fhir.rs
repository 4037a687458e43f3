//! The FHIR R4 export of the demo history, resource by resource against the mapping tables
//! of `docs/fhir.md`; every resource and the Bundle are kept for the strict FHIR R4 parse of
//! `tools/fhir-check` (run by `scripts/test.sh`); NDJSON per type.

use crate::common::{Backend, TestDb};
use district_server::export::fhir::{self, FactIn, PersonIn};
use district_server::readmodel::reports;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

both_backends!(fhir_export_of_the_demo_history);

/// docs/fhir.md's Observation table: (type, position, LOINC, UCUM, category).
const OBSERVATIONS: [(&str, Option<&str>, &str, &str, &str); 10] = [
    ("weight", None, "29463-7", "kg", "vital-signs"),
    (
        "length_height",
        Some("standing"),
        "8302-2",
        "cm",
        "vital-signs",
    ),
    (
        "length_height",
        Some("lying"),
        "8306-3",
        "cm",
        "vital-signs",
    ),
    ("head", None, "9843-4", "cm", "vital-signs"),
    ("muac", None, "56072-2", "cm", "vital-signs"),
    ("hb", None, "718-7", "g/dL", "laboratory"),
    ("blood_sugar", None, "2339-0", "mg/dL", "laboratory"),
    ("temperature", None, "8310-5", "Cel", "vital-signs"),
    ("waist", None, "8280-0", "cm", "vital-signs"),
    ("bp_systolic", None, "8480-6", "mm[Hg]", "vital-signs"),
];

/// docs/fhir.md's CVX column: series → CVX.
const CVX: [(&str, &str); 9] = [
    ("HB0", "08"),
    ("BCG", "19"),
    ("OPV", "178"),
    ("DPT-HB-Hib", "198"),
    ("PCV", "133"),
    ("RV", "122"),
    ("IPV", "10"),
    ("MR", "04"),
    ("JE", "129"),
];

#[test]
fn the_tables_here_are_docs_fhir_md() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/fhir.md")).unwrap();
    for (ty, pos, loinc, ucum, cat) in OBSERVATIONS {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{ty}`")) && l.contains(loinc))
            .unwrap_or_else(|| panic!("no row for {ty} {loinc}"));
        assert!(
            row.contains(&format!("`{ucum}`")) && row.contains(cat),
            "{row}"
        );
        if let Some(p) = pos {
            assert!(row.contains(p), "{row}");
        }
        let c = fhir::observation_code(ty, pos).unwrap();
        assert_eq!((c.loinc, c.ucum, c.category), (loinc, ucum, cat));
    }
    for (series, code) in CVX {
        assert!(doc.contains(&format!("{series} {code}")), "{series} {code}");
        assert_eq!(fhir::cvx(series).unwrap().0, code);
    }
    for url in [
        fhir::NIK,
        fhir::NIK_IBU,
        fhir::KFA,
        fhir::PROFILE_BASE,
        "85354-9",
    ] {
        assert!(doc.contains(url), "{url}");
    }
}

/// Keeps `v` for the structural check: every resource these tests build is written to
/// `<target>/fhir-samples/`, and `scripts/test.sh` then parses each one with fhirbolt's
/// strict FHIR R4 model (`tools/fhir-check`, its own workspace: fhirbolt would change
/// serde_json's features for the whole workspace). Also checks here what needs no model:
/// a resource type and, for a Bundle, that every entry holds a resource.
fn parses_as_r4(v: &Value) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let kind = v["resourceType"].as_str().expect("resourceType");
    if kind == "Bundle" {
        for e in v["entry"].as_array().expect("entries") {
            assert!(e["resource"]["resourceType"].is_string(), "{e}");
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("fhir-samples");
    std::fs::create_dir_all(&dir).expect("fhir-samples dir");
    let file = dir.join(format!(
        "{}-{}-{kind}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, serde_json::to_vec(v).expect("json")).expect("write a sample");
}

fn profile(r: &Value) -> &str {
    r["meta"]["profile"][0].as_str().unwrap()
}

fn ident<'a>(r: &'a Value, system: &str) -> Option<&'a str> {
    r["identifier"]
        .as_array()?
        .iter()
        .find(|i| i["system"] == system)
        .and_then(|i| i["value"].as_str())
}

fn record_id(r: &Value) -> String {
    ident(r, fhir::RECORD_ID)
        .unwrap()
        .trim_start_matches("urn:uuid:")
        .to_string()
}

async fn fhir_export_of_the_demo_history(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    let now = crate::demo_with_history(s).await;
    let today = reports::today(now);
    let from = today - chrono::Days::new(250);
    let place = "53.04.05.2001";
    let records = fhir::load(s, place, from, today).await.unwrap();
    let resources = fhir::resources(&records);
    let bundle = fhir::bundle(&resources);
    assert_eq!(bundle["type"], "transaction");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), resources.len());

    // Every entry: urn:uuid full URL, POST to its type, conditional on an identifier; every
    // reference resolves within the bundle; every resource is FHIR R4.
    let urls: HashSet<&str> = entries
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), entries.len(), "full URLs are unique");
    let mut by_type: HashMap<String, Vec<&Value>> = HashMap::new();
    for e in entries {
        let r = &e["resource"];
        let ty = r["resourceType"].as_str().unwrap();
        assert!(e["fullUrl"].as_str().unwrap().starts_with("urn:uuid:"));
        assert_eq!(e["request"]["method"], "POST");
        assert_eq!(e["request"]["url"], ty);
        assert!(
            e["request"]["ifNoneExist"]
                .as_str()
                .unwrap()
                .starts_with("identifier=")
        );
        assert_eq!(
            profile(r),
            format!("https://fhir.kemkes.go.id/r4/StructureDefinition/{ty}")
        );
        let text = serde_json::to_string(r).unwrap();
        for part in text.split("\"reference\":\"").skip(1) {
            let target = part.split('"').next().unwrap();
            assert!(urls.contains(target), "{target} not in the bundle");
        }
        parses_as_r4(r);
        by_type.entry(ty.to_string()).or_default().push(r);
    }
    parses_as_r4(&bundle);
    for ty in [
        "Organization",
        "Patient",
        "Encounter",
        "Observation",
        "Immunization",
    ] {
        assert!(by_type.contains_key(ty), "no {ty}");
    }

    // Patient.
    let persons = &records.persons;
    let mut newborns = 0;
    for p in &by_type["Patient"] {
        let person = &persons[&record_id(p)];
        assert_eq!(p["gender"], person.sex.clone().unwrap());
        assert_eq!(p["birthDate"], person.birth_date.clone().unwrap());
        match (&person.nik, &person.mother_nik) {
            (Some(nik), _) => assert_eq!(ident(p, fhir::NIK), Some(nik.as_str())),
            (None, Some(mnik)) => {
                newborns += 1;
                assert_eq!(ident(p, fhir::NIK_IBU), Some(mnik.as_str()));
                assert_eq!(
                    p["name"][0]["text"],
                    format!("Bayi Ny. {}", person.mother_name.clone().unwrap())
                );
                assert_eq!(p["multipleBirthInteger"], 1);
            }
            (None, None) => assert!(ident(p, fhir::NIK).is_none()),
        }
    }
    assert!(newborns > 0, "the demo's children have mothers with NIK");

    // Organization and Encounter.
    let orgs = &by_type["Organization"];
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["name"], "Puskesmas Halilulik");
    assert_eq!(ident(orgs[0], fhir::PLACE_CODE), Some("53.04.PKM07"));
    let facts: HashMap<&str, &FactIn> = records.facts.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut visits = 0;
    for e in &by_type["Encounter"] {
        assert_eq!(e["status"], "finished");
        assert!(e["serviceProvider"]["reference"].is_string());
        let start = e["period"]["start"].as_str().unwrap();
        assert!(start.len() == 10 || start.ends_with("+08:00"), "{start}");
        if let Some(v) = facts.get(record_id(e).as_str()) {
            visits += 1;
            let class = if v.body["type"] == "home" {
                "HH"
            } else {
                "AMB"
            };
            assert_eq!(e["class"]["code"], class);
            assert!(start.starts_with(&v.date));
        } else {
            assert_eq!(e["class"]["code"], "AMB", "a stand-in encounter");
        }
    }
    assert!(visits > 100);

    // Observation: the table.
    for o in &by_type["Observation"] {
        let f = facts[record_id(o).as_str()];
        let ty = f.body["type"].as_str().unwrap();
        let pos = f.body.get("position").and_then(Value::as_str);
        let (_, _, loinc, ucum, cat) = OBSERVATIONS
            .iter()
            .find(|(t, p, ..)| *t == ty && (p.is_none() || *p == pos))
            .unwrap();
        assert_eq!(o["code"]["coding"][0]["system"], fhir::LOINC);
        assert_eq!(o["code"]["coding"][0]["code"], *loinc);
        assert_eq!(o["valueQuantity"]["system"], fhir::UCUM);
        assert_eq!(o["valueQuantity"]["code"], *ucum);
        assert_eq!(o["valueQuantity"]["value"], f.body["value"]);
        assert_eq!(o["category"][0]["coding"][0]["code"], *cat);
        assert!(
            o["encounter"]["reference"].is_string(),
            "tied to its Encounter"
        );
        assert!(
            o["effectiveDateTime"]
                .as_str()
                .unwrap()
                .starts_with(&f.date)
        );
    }
    let codes: HashSet<&str> = by_type["Observation"]
        .iter()
        .map(|o| o["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    for c in ["29463-7", "8302-2", "8306-3", "56072-2", "718-7"] {
        assert!(codes.contains(c), "no {c} in the demo export");
    }

    // Immunization.
    let (mut copied, mut given) = (0, 0);
    for i in &by_type["Immunization"] {
        let f = facts[record_id(i).as_str()];
        let vaccine = f.body["vaccine"].as_str().unwrap();
        let series = health_rules::immunisation::Schedule::national_2024()
            .dose_for_record(vaccine)
            .unwrap()
            .series
            .clone();
        let cvx = CVX.iter().find(|(s, _)| *s == series).unwrap().1;
        let coding = i["vaccineCode"]["coding"].as_array().unwrap();
        assert!(
            coding
                .iter()
                .any(|c| c["system"] == fhir::CVX && c["code"] == cvx)
        );
        assert!(
            !coding.iter().any(|c| c["system"] == fhir::KFA),
            "v1 tablets send no KFA"
        );
        let visit_date = &records.visits[f.visit.as_ref().unwrap()].date;
        if f.date < *visit_date {
            copied += 1;
            assert_eq!(i["primarySource"], false);
            assert_eq!(i["reportOrigin"]["coding"][0]["code"], "record");
            assert!(i.get("performer").is_none());
        } else {
            given += 1;
            assert_eq!(i["primarySource"], true);
            assert_eq!(Some(&i["lotNumber"]), f.body.get("batch"));
            assert!(i["performer"][0]["actor"]["display"].is_string());
        }
        let timing = i["extension"][0]["valueCode"].as_str().unwrap();
        assert!(timing == "on-time" || timing == "catch-up");
        assert!(
            i["protocolApplied"][0]["doseNumberPositiveInt"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
    assert!(copied > 0 && given > 0, "copied {copied}, given {given}");

    // NDJSON: one file per type, every line a resource with its id, references Type/id.
    let files = fhir::ndjson(&resources);
    let names: Vec<&String> = files.keys().collect();
    assert_eq!(
        names,
        [
            "Encounter.ndjson",
            "Immunization.ndjson",
            "Observation.ndjson",
            "Organization.ndjson",
            "Patient.ndjson"
        ]
    );
    let mut lines = 0;
    for (name, text) in &files {
        for line in text.lines() {
            lines += 1;
            let r: Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                format!("{}.ndjson", r["resourceType"].as_str().unwrap()),
                *name
            );
            assert!(r["id"].is_string());
            assert!(!line.contains("\"reference\":\"urn:uuid:"), "{line}");
            parses_as_r4(&r);
        }
    }
    assert_eq!(lines, resources.len());
    db.finish().await;
}

#[test]
fn blood_pressure_is_one_panel() {
    let f = |id: &str, ty: &str, v: f64| FactIn {
        id: id.into(),
        kind: "measurement".into(),
        date: "2025-11-22".into(),
        body: json!({"type": ty, "value": v, "unit": "mmHg"})
            .as_object()
            .unwrap()
            .clone(),
        person: "p".into(),
        ..Default::default()
    };
    let s = f("019a0000-0000-7000-8000-000000000001", "bp_systolic", 128.0);
    let d = f("019a0000-0000-7000-8000-000000000002", "bp_diastolic", 84.0);
    let o = fhir::blood_pressure(Some(&s), Some(&d), "urn:uuid:p", "urn:uuid:e").unwrap();
    assert_eq!(o["code"]["coding"][0]["code"], "85354-9");
    assert_eq!(o["component"][0]["code"]["coding"][0]["code"], "8480-6");
    assert_eq!(o["component"][0]["valueQuantity"]["code"], "mm[Hg]");
    assert_eq!(o["component"][0]["valueQuantity"]["value"], 128.0);
    assert_eq!(o["component"][1]["code"]["coding"][0]["code"], "8462-4");
    assert_eq!(o["identifier"].as_array().unwrap().len(), 2);
    parses_as_r4(&o);
}

#[test]
fn newborn_twins_and_kfa_lot_expiry() {
    let p = PersonIn {
        id: "019a0000-0000-7000-8000-000000000003".into(),
        name: "Bayi".into(),
        sex: Some("female".into()),
        birth_date: Some("2025-11-20".into()),
        mother_name: Some("Maria Bere".into()),
        mother_nik: Some("5304054503950001".into()),
        birth_order: 2,
        birth_time: Some("06:45".into()),
        ..Default::default()
    };
    let r = fhir::patient(&p);
    assert_eq!(
        r["_birthDate"]["extension"][0],
        json!({"url": fhir::BIRTH_TIME_EXTENSION, "valueDateTime": "2025-11-20T06:45:00+08:00"})
    );
    assert_eq!(ident(&r, fhir::NIK_IBU), Some("5304054503950001"));
    assert_eq!(r["name"].as_array().unwrap().len(), 1);
    assert_eq!(r["name"][0]["text"], "Bayi Ny. Maria Bere");
    assert_eq!(r["multipleBirthInteger"], 2);
    parses_as_r4(&r);
    // A v2 dose: KFA code, lot and expiry.
    let dose = FactIn {
        id: "019a0000-0000-7000-8000-000000000004".into(),
        kind: "immunisation".into(),
        date: "2025-11-21".into(),
        body:
            json!({"vaccine": "HB0", "kfa_code": "93000631", "batch": "L123", "expiry": "2026-06-30"})
                .as_object()
                .unwrap()
                .clone(),
        person: p.id.clone(),
        ..Default::default()
    };
    let birth = chrono::NaiveDate::from_ymd_opt(2025, 11, 20);
    let i = fhir::immunization(
        &dose,
        "urn:uuid:p",
        None,
        birth,
        Some("2025-11-21"),
        &Default::default(),
    );
    assert_eq!(i["vaccineCode"]["coding"][0]["system"], fhir::KFA);
    assert_eq!(i["vaccineCode"]["coding"][0]["code"], "93000631");
    assert_eq!(i["vaccineCode"]["coding"][1]["code"], "08");
    assert_eq!(i["lotNumber"], "L123");
    assert_eq!(i["expirationDate"], "2026-06-30");
    assert_eq!(i["primarySource"], true);
    assert_eq!(i["extension"][0]["valueCode"], "on-time");
    parses_as_r4(&i);
}
