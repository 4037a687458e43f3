//! The field-work commands without a window: a posyandu day, a home visit whose referral a
//! bidan's tablet moves forward, the growth chart, immunisation card, due list and reports,
//! on real stores and a real district server over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use jangkau_app_lib::core::MemberInput;
use serde_json::{Value, json};

fn iso(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn today() -> chrono::NaiveDate {
    // The device zone of Belu (WITA, UTC+8), as the store computes "today".
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn to<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

async fn sync(a: &App) -> Value {
    let before = a.events.named("sync://finished").len();
    a.core.sync_now(None).unwrap();
    let status = a.events.wait_for("sync://finished", before + 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    status
}

/// Registers the Bere family: mother, a 14-month-old and an 8-month-old. Returns
/// (household, [mother, older child, younger child]).
fn register_family(a: &App) -> (String, Vec<String>) {
    let t = today();
    let members: Vec<MemberInput> = vec![
        to(
            json!({"name": "Maria Bere", "sex": "female", "birth_date": "1995-04-12", "relation": "head"}),
        ),
        to(json!({"name": "Yosef Bere", "sex": "male",
                  "birth_date": iso(t - chrono::Months::new(14)), "relation": "child", "mother_member": 0})),
        to(json!({"name": "Sisilia Bere", "sex": "female",
                  "birth_date": iso(t - chrono::Months::new(8)), "relation": "child", "mother_member": 0})),
    ];
    let household = to(
        json!({"posyandu": MAWAR, "head_name": "Maria Bere", "dusun": "Halilulik B", "rt": "004"}),
    );
    let r = serde_json::to_value(a.core.register_household(household, members).unwrap()).unwrap();
    let persons = r["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    (r["household"].as_str().unwrap().to_string(), persons)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posyandu_day_from_opening_to_its_skdn() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    let (_, persons) = register_family(&a);
    let (yosef, sisilia) = (&persons[1], &persons[2]);
    let day = iso(today());

    let options = serde_json::to_value(a.core.posyandu_options().unwrap()).unwrap();
    assert_eq!(options["today"], day);
    assert_eq!(options["posyandu"][0]["code"], MAWAR);
    assert_eq!(
        options["posyandu"].as_array().unwrap().len(),
        1,
        "{options}"
    );

    // Opening twice gives one session; a posyandu outside the area is refused.
    let s1 = a
        .core
        .open_posyandu_session(MAWAR, &day, Some("services_first"))
        .unwrap();
    let s2 = a.core.open_posyandu_session(MAWAR, &day, None).unwrap();
    assert_eq!(s1.id, s2.id);
    assert_eq!(s1.service_order.as_deref(), Some("services_first"));
    let e = a
        .core
        .open_posyandu_session("53.04.05.2001.P02", &day, None)
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("posyandu"));
    let e = a
        .core
        .open_posyandu_session(MAWAR, &day, Some("sideways"))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("order"));
    let options = serde_json::to_value(a.core.posyandu_options().unwrap()).unwrap();
    assert_eq!(options["sessions"][0]["id"], s1.id.to_string());
    let session = s1.id.to_string();

    // The roster: both children expected (monthly weighing at least), nobody seen yet.
    let roster = serde_json::to_value(a.core.posyandu_day(&session).unwrap()).unwrap();
    let row = |roster: &Value, id: &str| {
        roster["roster"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["person"]["id"] == id)
            .cloned()
            .unwrap()
    };
    for child in [yosef, sisilia] {
        let r = row(&roster, child);
        assert_eq!(r["expected"], true, "{r}");
        assert!(!r["reasons"].as_array().unwrap().is_empty(), "{r}");
        assert_eq!(r["visit"], Value::Null);
    }
    // Expected persons come before the others.
    let flags: Vec<bool> = roster["roster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["expected"].as_bool().unwrap())
        .collect();
    assert!(flags.windows(2).all(|w| w[0] >= w[1]), "{flags:?}");

    // A pregnancy recorded for the mother: she is expected, and a LiLA of 22 cm is KEK.
    let mother = &persons[0];
    let hpht = iso(today() - chrono::Duration::days(90));
    let e = a
        .core
        .start_pregnancy(yosef, to(json!({"hpht": hpht})))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("person"), "a boy is not pregnant");
    a.core
        .start_pregnancy(mother, to(json!({"hpht": hpht, "gravida": 2, "para": 1})))
        .unwrap();
    let roster = serde_json::to_value(a.core.posyandu_day(&session).unwrap()).unwrap();
    let r = row(&roster, mother);
    assert_eq!(
        (r["pregnant"].as_bool(), r["expected"].as_bool()),
        (Some(true), Some(true)),
        "{r}"
    );
    let lila = to(json!([{"type": "muac", "value": 22.0, "unit": "cm"}]));
    let check =
        serde_json::to_value(a.core.assess_measurement(mother, &day, lila).unwrap()).unwrap();
    assert!(
        check["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["label"]["key"] == "checks.lila.kek"),
        "{check}"
    );

    // An implausible weight asks "are you sure?"; a plausible one gives the result in words.
    let m = |kg: f64| to(json!([{"type": "weight", "value": kg, "unit": "kg"}]));
    let check =
        serde_json::to_value(a.core.assess_measurement(yosef, &day, m(1.2)).unwrap()).unwrap();
    assert!(!check["confirm"].as_array().unwrap().is_empty(), "{check}");
    let check =
        serde_json::to_value(a.core.assess_measurement(yosef, &day, m(9.6)).unwrap()).unwrap();
    assert!(check["confirm"].as_array().unwrap().is_empty(), "{check}");
    assert!(!check["findings"].as_array().unwrap().is_empty(), "{check}");
    assert_eq!(check["age_months"], 14);

    // A refused value names its field and saves nothing.
    let bad = to(json!({"session": session, "person": yosef,
        "measurements": [{"type": "weight", "value": -3, "unit": "kg"}]}));
    let e = a.core.record_attendance(bad).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("measurements.0.value"), "{e:?}");
    assert_eq!(
        row(
            &serde_json::to_value(a.core.posyandu_day(&session).unwrap()).unwrap(),
            yosef
        )["visit"],
        Value::Null
    );

    let saved = a
        .core
        .record_attendance(to(json!({"session": session, "person": yosef,
            "measurements": [{"type": "weight", "value": 9.6, "unit": "kg"},
                             {"type": "length_height", "value": 76.5, "unit": "cm", "position": "lying"}],
            "immunisations": [{"vaccine": "MR1"}],
            "supplements": [{"supplement": "vitamin_a_blue"}],
            "counselling": "ASI dan MP-ASI"})))
        .unwrap();
    assert_eq!(saved.saved.measurements.len(), 2);
    let roster = serde_json::to_value(a.core.posyandu_day(&session).unwrap()).unwrap();
    assert_eq!(row(&roster, yosef)["visit"], saved.visit.to_string());

    // Closing: D counts the one child weighed, S the posyandu's under-fives.
    let summary = serde_json::to_value(a.core.session_summary(&session).unwrap()).unwrap();
    assert_eq!(summary["skdn"]["d"], 1, "{summary}");
    assert!(summary["skdn"]["s"].as_u64().unwrap() >= 2, "{summary}");
    assert_eq!(summary["attended"]["total"], 1);
    assert_eq!(summary["immunisations"], 1);
    assert!(
        summary["not_yet_weighed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == sisilia.as_str()),
        "{summary}"
    );

    // The growth chart and the immunisation card of the child weighed.
    let chart = serde_json::to_value(a.core.growth_chart(yosef).unwrap()).unwrap();
    assert_eq!(
        chart["wfa"]["points"].as_array().unwrap().len(),
        1,
        "{chart}"
    );
    assert_eq!(chart["wfa"]["curves"][0]["sd"].as_array().unwrap().len(), 7);
    assert_eq!(chart["latest"]["weight_kg"], 9.6);
    let card = serde_json::to_value(a.core.immunisation_card(yosef, None).unwrap()).unwrap();
    let doses = card["doses"].as_array().unwrap();
    let mr1 = doses.iter().find(|d| d["dose_id"] == "MR1").unwrap();
    assert_eq!(mr1["due_age"]["months"], 9, "{mr1}");
    assert!(doses.iter().any(|d| d["status"] == "given"), "{card}");
    assert!(doses.iter().any(|d| d["status"] == "overdue"), "{card}");

    // Both as printable PDFs in the exports folder: the chart's three pages (two charts
    // and the measurements), the card's one.
    let pages = |path: &str| {
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        lopdf::Document::load_mem(&bytes).unwrap().get_pages().len()
    };
    let kms = a.core.export_growth_chart_pdf(yosef).unwrap();
    assert!(kms.file_name.starts_with("kms-") && kms.file_name.ends_with(&format!("{day}.pdf")));
    assert!(kms.path.contains("exports"), "{}", kms.path);
    assert_eq!(pages(&kms.path), 3);
    let imm = a.core.export_immunisation_card_pdf(yosef, None).unwrap();
    assert_eq!(imm.file_name, kms.file_name.replace("kms-", "imunisasi-"));
    assert_eq!(pages(&imm.path), 1);
    assert_eq!(
        imm.bytes,
        std::fs::metadata(&imm.path).unwrap().len() as usize
    );
    // "Simpan ke…": a copy where the save dialog pointed; the export stays in place.
    let elsewhere = tempfile::tempdir().unwrap();
    let dest = elsewhere.path().join("KMS Yosef.pdf");
    let saved = a
        .core
        .save_export_as(&kms.file_name, dest.to_str().unwrap())
        .unwrap();
    assert_eq!(saved, dest.display().to_string());
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        std::fs::read(&kms.path).unwrap()
    );
    assert!(std::path::Path::new(&kms.path).exists());
    let dest_s = dest.to_str().unwrap();
    for bad in ["../care.db", ".hidden.pdf", "", "nope.pdf", "a/b.pdf"] {
        let e = a.core.save_export_as(bad, dest_s).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("file_name"), "{bad:?}: {e:?}");
        assert!(e.id.contains("folder ekspor"), "{e:?}");
    }
    let e = a
        .core
        .save_export_as(&kms.file_name, "relative.pdf")
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("dest"));
    let nowhere = elsewhere.path().join("no-such-dir").join("k.pdf");
    let e = a
        .core
        .save_export_as(&kms.file_name, nowhere.to_str().unwrap())
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("dest"));
    // "Bagikan…" (Android): the same file, its MIME type and title for the share sheet;
    // nothing outside the exports folder.
    let share = a.core.share_target(&kms.file_name).unwrap();
    assert_eq!(
        (share.mime, share.title.as_str()),
        ("application/pdf", kms.file_name.as_str())
    );
    assert_eq!(
        std::fs::read(&share.path).unwrap(),
        std::fs::read(&kms.path).unwrap()
    );
    for bad in ["../care.db", ".hidden.pdf", "", "nope.pdf", "a/b.pdf"] {
        let e = a.core.share_target(bad).unwrap_err();
        assert_eq!(e.key, "export.share_failed", "{bad:?}");
    }
    let e = a.core.export_growth_chart_pdf("not-an-id").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("person"), "{e:?}");

    // The due list of the area: the younger child's vaccines, filterable by group and RT.
    let due = a
        .core
        .due_list(to(json!({"groups": ["vaccines"], "rt": "4"})))
        .unwrap();
    assert!(
        due.iter().any(|d| d.person.id.to_string() == *sisilia),
        "{due:?}"
    );
    assert!(
        due.iter()
            .all(|d| serde_json::to_value(d.group).unwrap() == "vaccines")
    );
    assert!(a.core.due_list(to(json!({"rt": "9"}))).unwrap().is_empty());
    // Another posyandu's list is not this kader's to read (a filter left by another user).
    let e = a
        .core
        .due_list(to(json!({"posyandu": "53.04.05.2001.P02"})))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("posyandu"));
    assert!(
        !a.core
            .due_list(to(json!({"posyandu": MAWAR})))
            .unwrap()
            .is_empty()
    );

    // The forms' today is the store's; the posyandu offered are the user's own, and a
    // household is registered only there.
    assert_eq!(a.core.today().unwrap(), day);
    let places = a.core.places().unwrap();
    let posyandu: Vec<&str> = places
        .iter()
        .filter(|p| p.level == sync_protocol::PlaceLevel::Posyandu)
        .map(|p| p.code.as_str())
        .collect();
    assert_eq!(posyandu, [MAWAR]);
    let e = a
        .core
        .register_household(
            to(json!({"posyandu": "53.04.05.2001.P02", "head_name": "Yohanes Luan"})),
            vec![to(json!({"name": "Yohanes Luan", "sex": "male", "birth_date": "1980-01-01", "relation": "head"}))],
        )
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("posyandu"));

    // The month's SKDN and report agree with the day; the CSV lands in the exports folder.
    let month = &day[..7];
    let skdn = serde_json::to_value(a.core.skdn(MAWAR, month).unwrap()).unwrap();
    assert_eq!(skdn["counts"]["d"], 1, "{skdn}");
    let report = serde_json::to_value(a.core.monthly_report(MAWAR, month).unwrap()).unwrap();
    assert_eq!(report["activity"]["sessions"], json!([day]));
    // The CSV: the posyandu's name, `;`, UTF-8 with a byte-order mark for Excel.
    let csv = a.core.export_report_csv(MAWAR, month).unwrap();
    assert_eq!(
        std::fs::read_to_string(&csv.path).unwrap(),
        format!("\u{feff}{}", csv.csv)
    );
    assert_eq!(csv.file_name, format!("laporan-Posyandu-Mawar-{month}.csv"));
    assert!(
        csv.csv.starts_with("Posyandu;Kode posyandu;Bulan;"),
        "{}",
        csv.csv
    );
    assert!(
        csv.csv
            .lines()
            .any(|l| l.starts_with(&format!("Posyandu Mawar;{MAWAR};"))),
        "{}",
        csv.csv
    );
    // The PDF to print, made here: one A4 page a PDF reader opens.
    let pdf = a.core.export_report_pdf(MAWAR, month).unwrap();
    assert_eq!(pdf.file_name, format!("laporan-Posyandu-Mawar-{month}.pdf"));
    let bytes = std::fs::read(&pdf.path).unwrap();
    assert_eq!(bytes.len(), pdf.bytes);
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    let e = a.core.skdn(MAWAR, "2025-13").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("month"));
    let e = a.core.skdn("53.04.05.2001.P02", month).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("posyandu"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_visit_referral_is_received_by_the_bidan_and_the_kader_sees_it() {
    let server = Server::start().await;
    let kader = enrolled(&server).await;
    let (household, persons) = register_family(&kader);
    let mother = &persons[0];
    let day = iso(today());

    // A refused value in the second member's panel is named by panel and row.
    let e = kader
        .core
        .record_home_visit(to(json!({"household": household, "date": day, "panels": [
            {"person": mother, "findings": "sehat"},
            {"person": persons[1], "measurements": [
                {"type": "weight", "value": 9.1, "unit": "kg"},
                {"type": "muac", "value": 3, "unit": "cm"}]}]})))
        .unwrap_err();
    assert_eq!(
        e.field.as_deref(),
        Some("panels.1.measurements.1.value"),
        "{e:?}"
    );
    for p in [mother, &persons[1]] {
        let profile = kader.core.profile(p).unwrap();
        assert!(
            profile.entries.is_empty(),
            "nothing of it was saved: {:?}",
            profile.entries
        );
    }

    let visit = kader
        .core
        .record_home_visit(to(json!({"household": household, "date": day,
            "panels": [{"person": mother, "findings": "Tekanan darah tinggi, pusing",
                        "measurements": [{"type": "bp_systolic", "value": 162, "unit": "mmHg"},
                                         {"type": "bp_diastolic", "value": 104, "unit": "mmHg"}],
                        "education": "Minum obat teratur", "follow_up_date": iso(today() + chrono::Duration::days(7)),
                        "referral": {"reason": "Tekanan darah 162/104", "destination": "pustu"}}],
            "household_update": {"latrine": true}})))
        .unwrap();
    let referral = visit.panels[0].saved.referral.unwrap().to_string();
    let list = kader.core.referrals(None).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].status.as_str(),
            list[0].destination.as_str(),
            list[0].person_name.as_str()
        ),
        ("made", "pustu", "Maria Bere")
    );
    assert_eq!(list[0].made_on.as_deref(), Some(day.as_str()));
    assert!(kader.core.referrals(Some("received")).unwrap().is_empty());
    assert_eq!(
        kader
            .core
            .referrals(Some("nowhere"))
            .unwrap_err()
            .field
            .as_deref(),
        Some("status")
    );
    sync(&kader).await;

    // The bidan of the desa receives it with her area's sync and moves it to "received".
    let bidan = app(Some(server.url()));
    let code = server.code("bidan.naitimu").await;
    bidan
        .core
        .enrol(enrol_input(&server, code, "bidan.naitimu"))
        .await
        .unwrap();
    let status = bidan.events.wait_for("sync://finished", 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    let seen = bidan.core.referrals(Some("made")).unwrap();
    assert_eq!(
        seen.iter().map(|r| r.id.to_string()).collect::<Vec<_>>(),
        vec![referral.clone()]
    );
    let moved = bidan
        .core
        .advance_referral(&referral, "received", &day, Some("Diperiksa di pustu"))
        .unwrap();
    assert_eq!(moved.status, "received");
    let e = bidan
        .core
        .advance_referral(&referral, "made", &day, None)
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("status"));
    sync(&bidan).await;

    // Back on the kader's tablet the status arrives by sync, with its history.
    sync(&kader).await;
    let view = kader.core.referral(&referral).unwrap();
    assert_eq!(view.referral.status, "received");
    assert_eq!(view.referral.outcome.as_deref(), Some("Diperiksa di pustu"));
    let steps: Vec<&str> = view.events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(steps, ["made", "received"]);
    assert_eq!(view.events[1].note.as_deref(), Some("Diperiksa di pustu"));

    // Moving it is the health worker's: the kader's tablet says so and writes nothing.
    let e = kader
        .core
        .advance_referral(&referral, "done", &day, None)
        .unwrap_err();
    assert_eq!(e.key, "validation.referral_health_worker_only", "{e:?}");
    assert_eq!(kader.core.sync_status().unwrap().waiting, 0);

    // Done on the bidan's tablet; going back is refused with the reason.
    bidan
        .core
        .advance_referral(&referral, "done", &day, None)
        .unwrap();
    let e = bidan
        .core
        .advance_referral(&referral, "received", &day, None)
        .unwrap_err();
    assert_eq!(e.key, "validation.referral_backwards", "{e:?}");
    sync(&bidan).await;
    sync(&kader).await;
    assert_eq!(
        kader.core.referral(&referral).unwrap().referral.status,
        "done"
    );
}

/// Td for a pregnant woman at the posyandu: T0 offers T1; her Buku KIA's T2 copied with its
/// day and the T3 given today make her T3, with T4 not before a year (Permenkes 12/2017).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pregnant_woman_gets_the_td_dose_her_status_allows() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    let (_, persons) = register_family(&a);
    let mother = &persons[0];
    let day = iso(today());
    a.core
        .start_pregnancy(
            mother,
            to(json!({"hpht": iso(today() - chrono::Duration::days(100))})),
        )
        .unwrap();
    let session = a
        .core
        .open_posyandu_session(MAWAR, &day, None)
        .unwrap()
        .id
        .to_string();

    let td = serde_json::to_value(a.core.td_status(mother, Some(&day), None).unwrap()).unwrap();
    assert_eq!(
        (
            &td["status"],
            &td["next"]["state"],
            &td["next"]["next"],
            &td["offer"]
        ),
        (&json!(0), &json!("due"), &json!(1), &json!("Td T1")),
        "{td}"
    );

    // What the form shows while asking about an earlier status (nothing is saved): her
    // answer T2 offers T3 today; a Buku KIA T2 of a month ago offers nothing before 6 months.
    let told = a
        .core
        .td_status(
            mother,
            Some(&day),
            Some(to(json!({"status": 2, "source": "told"}))),
        )
        .unwrap();
    let told = serde_json::to_value(told).unwrap();
    assert_eq!(
        (&told["status"], &told["offer"], &told["earlier_vaccine"]),
        (&json!(2), &json!("Td T3"), &json!("Td T2 (kata ibu)")),
        "{told}"
    );
    let month_ago = iso(today() - chrono::Months::new(1));
    let recent = a
        .core
        .td_status(
            mother,
            Some(&day),
            Some(to(
                json!({"status": 2, "source": "buku_kia", "date": month_ago}),
            )),
        )
        .unwrap();
    let recent = serde_json::to_value(recent).unwrap();
    assert_eq!(
        (&recent["next"]["state"], &recent["offer"]),
        (&json!("not_yet_due"), &Value::Null),
        "{recent}"
    );
    for (earlier, field) in [
        (json!({"status": 2, "source": "buku_kia"}), "earlier.date"),
        (json!({"status": 2, "source": "bidan"}), "earlier.source"),
        (json!({"status": 7, "source": "told"}), "earlier"),
        (
            json!({"status": 2, "source": "buku_kia", "date": iso(today() + chrono::Duration::days(2))}),
            "earlier.date",
        ),
    ] {
        let e = a
            .core
            .td_status(mother, Some(&day), Some(to(earlier.clone())))
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some(field), "{earlier}: {e:?}");
    }
    assert!(
        serde_json::to_value(a.core.td_status(mother, Some(&day), None).unwrap()).unwrap()
            ["records"]
            .as_array()
            .unwrap()
            .is_empty(),
        "asking saves nothing"
    );

    // A Buku KIA day after the posyandu day is refused at its row, and nothing is saved.
    let tomorrow = iso(today() + chrono::Duration::days(1));
    let e = a
        .core
        .record_attendance(to(json!({"session": session, "person": mother,
            "immunisations": [{"vaccine": "Td T2 (Buku KIA)", "date": tomorrow}]})))
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("immunisations.0.date"), "{e:?}");

    let kia = iso(today() - chrono::Months::new(8));
    a.core
        .record_attendance(to(json!({"session": session, "person": mother,
            "immunisations": [{"vaccine": "Td T1 (kata ibu)"},
                              {"vaccine": "Td T2 (Buku KIA)", "date": kia},
                              {"vaccine": "Td T3"}]})))
        .unwrap();
    // The day gave one dose: her answer and the Buku KIA's copy are history.
    let summary = serde_json::to_value(a.core.session_summary(&session).unwrap()).unwrap();
    assert_eq!(summary["immunisations"], 1, "{summary}");
    let td = serde_json::to_value(a.core.td_status(mother, None, None).unwrap()).unwrap();
    let in_a_year = iso(today() + chrono::Months::new(12));
    assert_eq!(
        (&td["status"], &td["next"]["state"], &td["next"]["next"]),
        (&json!(3), &json!("not_yet_due"), &json!(4)),
        "{td}"
    );
    assert_eq!(td["next"]["earliest"], in_a_year);
    assert_eq!(td["offer"], Value::Null);
    assert_eq!(td["last_dose"], day);
    let records: Vec<(Value, Value)> = td["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["status"].clone(), r["source"].clone()))
        .collect();
    assert_eq!(
        records,
        vec![
            (json!(2), json!("buku_kia")),
            (json!(1), json!("told")),
            (json!(3), json!("given"))
        ]
    );
    let e = a.core.td_status("not-an-id", None, None).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("person"));
}
