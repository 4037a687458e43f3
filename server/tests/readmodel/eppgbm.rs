//! The e-PPGBM export of the demo history: the header exactly, one row per child weighed in
//! the month, z-scores equal to health-rules' assessment of the same measurements (what
//! `jangkau growth` computes), the CSV and XLSX files; and the command on a demo database.

use crate::common::{Backend, TestDb};
use chrono::Datelike;
use district_server::export::eppgbm::{self, HEADER};
use district_server::readmodel::{Param, reports};
use health_rules::growth::{Measurement, Measures, Position, assess};
use health_rules::kms::YearMonth;
use std::collections::BTreeSet;

both_backends!(eppgbm_rows_of_the_demo_month);

/// Last month (every demo tablet has synced its posyandu day of last month).
fn last_month(now: u64) -> YearMonth {
    let d = reports::today(now).with_day(1).unwrap().pred_opt().unwrap();
    YearMonth {
        year: d.year(),
        month: d.month(),
    }
}

async fn eppgbm_rows_of_the_demo_month(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    let now = crate::demo_with_history(s).await;
    let month = last_month(now);
    let desa = "53.04.05.2001";
    let rows = eppgbm::rows(s, desa, month).await.unwrap();
    assert!(rows.len() > 20, "{} rows", rows.len());

    // One row per child weighed in the month (under five on the day), straight from facts.
    let from = format!("{}-{:02}-01", month.year, month.month);
    let to = format!("{}-{:02}-31", month.year, month.month);
    let day = |c: &district_server::readmodel::Cell| {
        chrono::NaiveDate::parse_from_str(c.text().unwrap(), "%Y-%m-%d").unwrap()
    };
    let weighed: BTreeSet<String> = s
        .read_rows(
            "SELECT f.person, f.date, p.birth_date FROM facts f
             JOIN place_tree t ON t.code = f.posyandu JOIN persons p ON p.id = f.person
             WHERE t.ancestor = ?1 AND f.kind = 'measurement' AND f.deleted = 0
               AND f.date BETWEEN ?2 AND ?3 AND f.body_json LIKE '%\"type\":\"weight\"%'"
                .into(),
            vec![
                Param::Text(desa.into()),
                Param::Text(from.clone()),
                Param::Text(to),
            ],
        )
        .await
        .unwrap()
        .iter()
        .filter(|r| records::is_under_five(day(&r[2]), day(&r[1])))
        .filter_map(|r| r[0].text().map(str::to_string))
        .collect();
    let persons: BTreeSet<String> = rows.iter().map(|r| r.person.clone()).collect();
    assert_eq!(persons.len(), rows.len(), "one row per child");
    let diff: Vec<_> = persons.symmetric_difference(&weighed).collect();
    assert!(
        diff.is_empty(),
        "rows but not weighed, or weighed but no row: {diff:?} {:?}",
        rows.iter()
            .filter(|r| diff.contains(&&r.person))
            .collect::<Vec<_>>()
    );

    // z-scores and categories are health-rules' for the same measurements.
    for r in &rows {
        let position = match r.position.as_deref() {
            Some("Terlentang") => Some(Position::Lying),
            Some("Berdiri") => Some(Position::Standing),
            _ => None,
        };
        let a = assess(&Measurement {
            sex: r.sex,
            birth_date: r.birth_date,
            measure_date: r.date,
            measures: Measures {
                weight_kg: Some(r.weight_kg),
                length_height_cm: r.length_height_cm,
                position,
                head_cm: None,
                muac_cm: r.muac_cm,
                oedema: false,
            },
        })
        .unwrap();
        assert_eq!(
            r.weight_for_age.z,
            a.wfa.as_ref().and_then(|x| x.z),
            "{r:?}"
        );
        assert_eq!(
            r.height_for_age.z,
            a.lhfa.as_ref().and_then(|x| x.z),
            "{r:?}"
        );
        let wfh = a.wfl.as_ref().or(a.wfh.as_ref());
        assert_eq!(r.weight_for_height.z, wfh.and_then(|x| x.z), "{r:?}");
        assert_eq!(
            r.height_for_age.category.as_deref(),
            a.lhfa
                .as_ref()
                .and_then(|x| x.category)
                .map(|c| c.label().id),
        );
        assert!(r.date.format("%Y-%m-01").to_string() == from);
        assert!(
            r.age.contains(" Tahun - ") && r.age.ends_with(" Hari"),
            "{}",
            r.age
        );
        assert_eq!(r.province, "Nusa Tenggara Timur");
        assert_eq!(r.kabupaten, "Kabupaten Belu");
        assert_eq!(r.puskesmas, "Puskesmas Halilulik");
        assert!(r.parent.is_some() && r.nik.is_none());
    }
    assert!(rows.iter().any(|r| r.weight_gain.as_deref() == Some("N")));
    assert!(
        rows.iter()
            .any(|r| r.height_for_age.category.as_deref() == Some("Pendek")
                || r.height_for_age.category.as_deref() == Some("Sangat pendek"))
    );

    // The CSV: BOM, `;`, the header exactly, decimal commas.
    let mut buf = Vec::new();
    eppgbm::write_csv(&rows, &mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), HEADER.join(";"));
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), rows.len());
    for (rec, row) in recs.iter().zip(&rows) {
        assert_eq!(rec.len(), 33);
        assert_eq!(&rec[1], row.name);
        assert_eq!(
            rec[18].replace(',', ".").parse::<f64>().unwrap(),
            row.weight_kg
        );
        if let Some(z) = row.weight_for_age.z {
            assert_eq!(rec[23].replace(',', ".").parse::<f64>().unwrap(), z);
            assert!(!rec[23].contains('.'));
        }
        assert_eq!(&rec[17], row.date.format("%d/%m/%Y").to_string());
    }

    // The XLSX: a workbook (a zip) the same rows went into.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e-ppgbm.xlsx");
    eppgbm::write_file(&rows, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04") && bytes.len() > 4_000);
    assert!(eppgbm::write_file(&rows, &dir.path().join("x.txt")).is_err());
    db.finish().await;
}

/// `jangkau-server demo` then `export eppgbm` as processes, on a fresh SQLite file.
#[test]
fn demo_and_export_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("d.db");
    let config = tmp.path().join("server.toml");
    std::fs::write(
        &config,
        "[password_cost]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_jangkau-server"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("JANGKAU_DATABASE_URL", &db)
            .env_remove("JANGKAU_CONFIG")
            .env("JANGKAU_LOG", "warn")
            .output()
            .expect("runs");
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        assert!(out.status.success(), "{args:?}: {o}\n{e}");
        o
    };
    let out = run(&["demo"]);
    assert!(
        out.contains("Demo history: 10 demo tablets pushed"),
        "{out}"
    );
    assert!(out.contains("(0 refused)"), "{out}");
    let month = last_month(district_server::model::now_ms());
    let m = format!("{}-{:02}", month.year, month.month);
    let csv_path = tmp.path().join("p.csv");
    let out = run(&[
        "export",
        "eppgbm",
        "--place",
        "53.04.05.2001.P01",
        "--month",
        &m,
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    assert!(out.contains("row(s)"), "{out}");
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(text.lines().count() > 5, "{text}");
    assert!(text.lines().next().unwrap().ends_with(&HEADER.join(";")));

    // The FHIR export of the same month: a Bundle file and NDJSON files.
    let bundle = tmp.path().join("bundle.json");
    let nd = tmp.path().join("nd");
    let (from, to) = (format!("{m}-01"), format!("{m}-28"));
    let out = run(&[
        "export",
        "fhir",
        "--place",
        "53.04.05.2001.P01",
        "--from",
        &from,
        "--to",
        &to,
        "--out",
        bundle.to_str().unwrap(),
        "--ndjson",
        nd.to_str().unwrap(),
    ]);
    assert!(out.contains("transaction Bundle"), "{out}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert_eq!(b["type"], "transaction");
    assert!(b["entry"].as_array().unwrap().len() > 20);
    assert!(nd.join("Patient.ndjson").exists() && nd.join("Observation.ndjson").exists());
}
