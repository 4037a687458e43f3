//! The SATUSEHAT submission worker (issue 15 §2) against the FHIR test server of
//! `fhir_server.rs` over real HTTP, on both backends: everything sent once, nothing twice;
//! corrections and changed records update the resource sent before; refusals kept with the
//! platform's `OperationOutcome` and shown on the dashboard; 5xx, `Retry-After`, timeouts
//! and a Bundle taken whose answer was lost resumed without duplicates; the token renewed;
//! the district's KFA code of a series sent with the doses recorded without one.

use crate::common::{Backend, Session, TestServer, now_ms};
use crate::fhir_server::{CLIENT_ID, CLIENT_SECRET, FakePlatform, Fault};
use district_server::satusehat::SatusehatError;
use district_server::satusehat::client::FhirClient;
use district_server::satusehat::config::{ClientSecret, SatusehatConfig};
use district_server::satusehat::store::{self, Status};
use district_server::satusehat::worker::{Summary, send_once};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use sync_protocol::{EntityKind, RecordId};

both_backends!(
    sends_once_then_only_corrections,
    refused_resources_are_kept_and_shown,
    transient_failures_back_off_and_resume_without_duplicates,
    the_token_is_renewed_and_bad_credentials_refused,
    health_worker_nik_on_the_administrasi_page,
    a_refusal_naming_no_entry_is_narrowed_down,
    the_district_kfa_code_is_sent_and_updated,
);

const P01: &str = "53.04.05.2001.P01";
const BIDAN_NIK: &str = "5304056208900003";
const CHILD_NIK: &str = "5304051501240002";
const MOTHER_NIK: &str = "5304054503950001";
const ORG: &str = "ORG-HALILULIK";

fn config(fake: &FakePlatform) -> SatusehatConfig {
    SatusehatConfig {
        enabled: true,
        base_url: fake.base_url(),
        auth_url: fake.auth_url(),
        client_id: CLIENT_ID.into(),
        client_secret: ClientSecret::new(CLIENT_SECRET),
        organization_id: ORG.into(),
        place: P01.into(),
        since: String::new(),
        interval_s: 60,
        timeout_ms: 800,
        retry_base_ms: 10_000,
        retry_max_ms: 600_000,
        bundle_entries: 4,
    }
}

fn client(fake: &FakePlatform) -> FhirClient {
    FhirClient::new(Arc::new(config(fake))).unwrap()
}

/// Yesterday in WITA.
fn yesterday() -> String {
    let d = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() - chrono::Days::new(1);
    d.format("%Y-%m-%d").to_string()
}

/// What `push_data` recorded.
struct Data {
    child: RecordId,
    newborn: RecordId,
    child_visit: RecordId,
    child_weight: RecordId,
    /// The child's weight as last corrected (what the next correction supersedes).
    latest_weight: RecordId,
    child_dose: RecordId,
}

async fn push(s: &TestServer, sess: &mut Session, kind: EntityKind, body: Value) -> RecordId {
    push_change(s, sess, kind, RecordId::new_v7(), body, None).await
}

async fn push_change(
    s: &TestServer,
    sess: &mut Session,
    kind: EntityKind,
    id: RecordId,
    body: Value,
    supersedes: Option<RecordId>,
) -> RecordId {
    let mut c = sess.change(kind, id, body);
    c.supersedes = supersedes;
    let (st, answer) = s.push(sess, &[c]).await;
    assert_eq!(st, 200, "{answer}");
    assert_eq!(answer["outcomes"][0]["status"], "accepted", "{answer}");
    id
}

/// A mother (with NIK), her child (with NIK) and newborn (without: identified by the
/// mother's NIK), a child with no NIK and no mother; each weighed yesterday at the posyandu,
/// the child also measured lying and given DPT-HB-Hib 1 (with a batch when `batch`).
async fn push_data(s: &TestServer, sess: &mut Session, batch: bool) -> Data {
    let day = yesterday();
    let person = |name: &str, sex: &str, birth: &str| json!({"posyandu": P01, "name": name, "sex": sex, "birth_date": birth});
    let mut m = person("Maria Bere", "female", "1995-03-05");
    m["nik"] = json!(MOTHER_NIK);
    let mother = push(s, sess, EntityKind::Person, m).await;
    let mut c = person("Yohanes Bere", "male", "2024-01-15");
    c["nik"] = json!(CHILD_NIK);
    c["mother"] = json!(mother.to_string());
    let child = push(s, sess, EntityKind::Person, c).await;
    let mut n = person("Bayi", "female", &day);
    n["mother"] = json!(mother.to_string());
    let newborn = push(s, sess, EntityKind::Person, n).await;
    let nobody = push(
        s,
        sess,
        EntityKind::Person,
        person("Anak Tanpa NIK", "female", "2023-06-01"),
    )
    .await;
    let mut visits = Vec::new();
    for (p, kg) in [(child, 12.1), (newborn, 3.2), (nobody, 10.4)] {
        let v = push(
            s,
            sess,
            EntityKind::Visit,
            json!({"posyandu": P01, "person": p.to_string(), "type": "posyandu", "date": day}),
        )
        .await;
        push(
            s,
            sess,
            EntityKind::Measurement,
            json!({"posyandu": P01, "person": p.to_string(), "visit": v.to_string(), "date": day,
                   "type": "weight", "value": kg, "unit": "kg"}),
        )
        .await;
        visits.push(v);
    }
    let child_visit = visits[0];
    let child_weight = weight_of(s, child_visit).await;
    push(
        s,
        sess,
        EntityKind::Measurement,
        json!({"posyandu": P01, "person": child.to_string(), "visit": child_visit.to_string(),
               "date": day, "type": "length_height", "value": 84.5, "unit": "cm",
               "position": "lying"}),
    )
    .await;
    let mut dose = json!({"posyandu": P01, "person": child.to_string(),
                          "visit": child_visit.to_string(), "date": day, "vaccine": "DPT-HB-Hib1"});
    if batch {
        dose["batch"] = json!("B2410");
    }
    let child_dose = push(s, sess, EntityKind::Immunisation, dose).await;
    Data {
        child,
        newborn,
        child_visit,
        child_weight,
        latest_weight: child_weight,
        child_dose,
    }
}

async fn weight_of(s: &TestServer, visit: RecordId) -> RecordId {
    use district_server::readmodel::Param;
    let rows = s
        .store()
        .read_rows(
            "SELECT id FROM facts WHERE visit = ?1 AND kind = 'measurement'
             AND body_json LIKE '%\"weight\"%'"
                .into(),
            vec![Param::Text(visit.to_string())],
        )
        .await
        .unwrap();
    rows[0][0].text().unwrap().parse().unwrap()
}

/// A correction of the child's weight: a new fact superseding the latest one (a chain).
async fn correct_weight(s: &TestServer, sess: &mut Session, d: &mut Data, kg: f64) -> RecordId {
    let id = push_change(
        s,
        sess,
        EntityKind::Measurement,
        RecordId::new_v7(),
        json!({"posyandu": P01, "person": d.child.to_string(), "visit": d.child_visit.to_string(),
               "date": yesterday(), "type": "weight", "value": kg, "unit": "kg"}),
        Some(d.latest_weight),
    )
    .await;
    d.latest_weight = id;
    id
}

fn no_duplicates(fake: &FakePlatform) {
    fake.with(|f| {
        for (id, n) in &f.creations {
            assert_eq!(*n, 1, "{id} created {n} times");
        }
    });
}

async fn row(s: &TestServer, id: RecordId, ty: &str) -> store::Row {
    store::all(s.store())
        .await
        .unwrap()
        .remove(&(id.to_string(), ty.to_string()))
        .unwrap_or_else(|| panic!("no row for {ty} {id}"))
}

async fn sends_once_then_only_corrections(b: Backend) {
    let s = TestServer::demo(b).await;
    let fake = FakePlatform::start().await;
    fake.with(|f| f.practitioners.insert(BIDAN_NIK.into(), "N10000001".into()));
    district_server::admin::set_user_nik(s.store(), "bidan.naitimu", Some(BIDAN_NIK))
        .await
        .unwrap();
    let mut bidan = s.session("bidan.naitimu").await;
    let mut d = push_data(&s, &mut bidan, true).await;
    let worker = client(&fake);
    let now = now_ms();

    let r1 = send_once(s.store(), &worker, now).await.unwrap();
    assert_eq!(r1.practitioners_found, 1, "{r1}");
    assert_eq!((r1.patients_found, r1.patients_created), (1, 1), "{r1}");
    // The child's encounter, weight, length, dose; the newborn's encounter and weight.
    assert_eq!(r1.created, 6, "{r1}");
    assert_eq!(r1.bundles, 2, "{r1}");
    // The child without NIK or mother cannot be identified: kept refused, not sent.
    assert_eq!(r1.refused, 1, "{r1}");
    no_duplicates(&fake);
    let child_ref = format!("Patient/P{CHILD_NIK}");
    fake.with(|f| {
        assert_eq!(f.creations.len(), 7);
        let enc = f
            .by_record("Encounter", &format!("urn:uuid:{}", d.child_visit))
            .unwrap()
            .1;
        assert_eq!(enc["subject"]["reference"], child_ref);
        assert_eq!(
            enc["serviceProvider"]["reference"],
            format!("Organization/{ORG}")
        );
        assert_eq!(
            enc["participant"][0]["individual"]["reference"],
            "Practitioner/N10000001"
        );
        let w = f
            .by_record("Observation", &format!("urn:uuid:{}", d.child_weight))
            .unwrap()
            .1;
        assert_eq!(w["subject"]["reference"], child_ref);
        assert!(
            w["encounter"]["reference"]
                .as_str()
                .unwrap()
                .starts_with("Encounter/ENC-"),
            "{w}"
        );
        assert_eq!(w["performer"][0]["reference"], "Practitioner/N10000001");
        assert_eq!(w["code"]["coding"][0]["code"], "29463-7");
        let dose = f
            .by_record("Immunization", &format!("urn:uuid:{}", d.child_dose))
            .unwrap()
            .1;
        assert_eq!(
            dose["performer"][0]["actor"]["reference"],
            "Practitioner/N10000001"
        );
        assert_eq!(dose["lotNumber"], "B2410");
        let baby = f
            .by_record("Patient", &format!("urn:uuid:{}", d.newborn))
            .unwrap()
            .1;
        assert_eq!(baby["identifier"][0]["system"], crate::fhir_server::NIK_IBU);
        assert_eq!(baby["identifier"][0]["value"], MOTHER_NIK);
        assert_eq!(baby["name"][0]["text"], "Bayi Ny. Maria Bere");
    });
    let w = row(&s, d.child_weight, "Observation").await;
    assert_eq!(w.status, Status::Sent);
    assert!(w.remote_id.as_deref().unwrap().starts_with("OBS-"));
    assert_eq!(w.posyandu, P01);
    assert_eq!(
        row(&s, d.child, "Patient").await.remote_id.unwrap(),
        format!("P{CHILD_NIK}")
    );

    // Again, and after a restart (a new client, a new token): nothing.
    let before = fake.with(|f| f.transactions);
    assert_eq!(
        send_once(s.store(), &worker, now + 1_000).await.unwrap(),
        Summary::default()
    );
    let restarted = client(&fake);
    assert_eq!(
        send_once(s.store(), &restarted, now + 2_000).await.unwrap(),
        Summary::default()
    );
    assert_eq!(
        fake.with(|f| (f.transactions, f.patient_creates)),
        (before, 1)
    );

    // A correction updates the Observation sent before (PUT to the same id).
    let corrected = correct_weight(&s, &mut bidan, &mut d, 12.9).await;
    let r3 = send_once(s.store(), &restarted, now + 3_000).await.unwrap();
    assert_eq!((r3.created, r3.updated, r3.bundles), (0, 1, 1), "{r3}");
    let remote = w.remote_id.clone().unwrap();
    fake.with(|f| {
        assert!(
            f.updates.contains(&("Observation".into(), remote.clone())),
            "{:?}",
            f.updates
        );
        let (r, v) = &f.resources[&("Observation".to_string(), remote.clone())];
        assert_eq!(r["valueQuantity"]["value"], 12.9);
        assert_eq!(*v, 2);
        let urn = format!("urn:uuid:{corrected}");
        assert!(
            r["identifier"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["value"] == urn.as_str()),
            "{r}"
        );
    });
    let w2 = row(&s, d.child_weight, "Observation").await;
    assert_eq!(
        (w2.remote_id.as_deref(), w2.version_id.as_deref()),
        (Some(remote.as_str()), Some("2"))
    );
    assert_ne!(w2.content_hash, w.content_hash);

    // A changed record (the newborn named) updates her Patient.
    push_change(
        &s,
        &mut bidan,
        EntityKind::Person,
        d.newborn,
        json!({"name": "Maria Kecil"}),
        None,
    )
    .await;
    let r4 = send_once(s.store(), &restarted, now + 4_000).await.unwrap();
    assert_eq!(
        (r4.updated, r4.created, r4.patients_created),
        (1, 0, 0),
        "{r4}"
    );
    let baby_id = row(&s, d.newborn, "Patient").await.remote_id.unwrap();
    fake.with(|f| {
        assert!(f.updates.contains(&("Patient".into(), baby_id.clone())));
        let p = &f.resources[&("Patient".to_string(), baby_id.clone())].0;
        assert_eq!(p["name"][1]["text"], "Maria Kecil", "{p}");
    });
    assert_eq!(
        send_once(s.store(), &restarted, now + 5_000).await.unwrap(),
        Summary::default()
    );
    // The child's NIK corrected: found again under the new one; what was sent about him
    // names the new Patient (updates, nothing created).
    let new_nik = "5304051501240003";
    push_change(
        &s,
        &mut bidan,
        EntityKind::Person,
        d.child,
        json!({"nik": new_nik}),
        None,
    )
    .await;
    let r5 = send_once(s.store(), &restarted, now + 6_000).await.unwrap();
    assert_eq!(
        (r5.patients_found, r5.updated, r5.created),
        (1, 4, 0),
        "{r5}"
    );
    fake.with(|f| {
        let (r, _) = &f.resources[&("Observation".to_string(), remote.clone())];
        assert_eq!(r["subject"]["reference"], format!("Patient/P{new_nik}"));
    });
    no_duplicates(&fake);
    keep_for_the_r4_check(&fake);
    s.finish().await;
}

/// Every resource the platform holds, as the worker sent it (references resolved to
/// platform ids), written to `<target>/fhir-samples/` for the strict FHIR R4 parse of
/// `tools/fhir-check` (run by `scripts/test.sh`), as the export's tests do.
fn keep_for_the_r4_check(fake: &FakePlatform) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("fhir-samples");
    std::fs::create_dir_all(&dir).unwrap();
    fake.with(|f| {
        for ((ty, id), (r, _)) in &f.resources {
            assert_eq!(r["resourceType"], ty.as_str());
            let file = dir.join(format!("{}-satusehat-{id}-{ty}.json", std::process::id()));
            std::fs::write(file, serde_json::to_vec(r).unwrap()).unwrap();
        }
    });
}

async fn refused_resources_are_kept_and_shown(b: Backend) {
    let s = TestServer::demo(b).await;
    let fake = FakePlatform::start().await;
    fake.with(|f| f.require_lot = true);
    let mut bidan = s.session("bidan.naitimu").await;
    let d = push_data(&s, &mut bidan, false).await;
    let worker = client(&fake);
    let now = now_ms();
    let r1 = send_once(s.store(), &worker, now).await.unwrap();
    // The dose without a lot number refused; the rest of its encounter sent again without it.
    assert_eq!(r1.refused, 2, "{r1}");
    assert_eq!(r1.created, 5, "{r1}");
    let dose = row(&s, d.child_dose, "Immunization").await;
    assert_eq!(dose.status, Status::Refused);
    assert!(dose.remote_id.is_none());
    let oo: Value = serde_json::from_str(dose.outcome.as_deref().unwrap()).unwrap();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(oo.to_string().contains("lotNumber"), "{oo}");
    assert_eq!(fake.with(|f| f.refusals), 1);

    // Not tried again while the record is unchanged.
    let before = fake.with(|f| f.transactions);
    assert_eq!(
        send_once(s.store(), &worker, now + 1_000).await.unwrap(),
        Summary::default()
    );
    assert_eq!(fake.with(|f| (f.transactions, f.refusals)), (before, 1));

    // On the dashboard's Tablet page: the reason and the counts of the posyandu.
    let (cookie, _) = crate::dashboard::login(&s, "admin.halilulik").await;
    let (st, html) = crate::dashboard::get(&s, &cookie, "/dasbor/tablet").await;
    assert_eq!(st, 200);
    assert!(html.contains("Ditolak SATUSEHAT"), "{html}");
    assert!(html.contains("nomor batch vaksin wajib diisi"), "{html}");
    assert!(html.contains("no NIK and no mother"), "{html}");
    assert!(
        html.contains("Yohanes Bere"),
        "the person the refusal is about"
    );
    let counts = store::counts_under(s.store(), "53.04.PKM07").await.unwrap();
    // Sent: 2 patients, 2 encounters, 3 observations; refused: a patient and the dose.
    assert_eq!(counts, vec![(P01.to_string(), 7, 0, 2)]);
    // Scoped: another puskesmas sees none of it.
    assert!(
        store::counts_under(s.store(), "53.04.PKM01")
            .await
            .unwrap()
            .is_empty()
    );
    let (dinas, _) = crate::dashboard::login(&s, "dinas").await;
    let (_, other) = crate::dashboard::get(&s, &dinas, "/dasbor/tablet?place=53.04.PKM01").await;
    assert!(!other.contains("nomor batch"), "another puskesmas' page");

    // The dose corrected with its batch: sent (created, as nothing was there before).
    push_change(
        &s,
        &mut bidan,
        EntityKind::Immunisation,
        RecordId::new_v7(),
        json!({"posyandu": P01, "person": d.child.to_string(), "visit": d.child_visit.to_string(),
               "date": yesterday(), "vaccine": "DPT-HB-Hib1", "batch": "B2411"}),
        Some(d.child_dose),
    )
    .await;
    let r3 = send_once(s.store(), &worker, now + 2_000).await.unwrap();
    assert_eq!((r3.created, r3.refused), (1, 0), "{r3}");
    let dose = row(&s, d.child_dose, "Immunization").await;
    assert_eq!(dose.status, Status::Sent);
    assert_eq!(
        store::counts_under(s.store(), P01).await.unwrap(),
        vec![(P01.to_string(), 8, 0, 1)]
    );
    let (_, html) = crate::dashboard::get(&s, &cookie, "/dasbor/tablet").await;
    assert!(!html.contains("nomor batch vaksin wajib diisi"));
    no_duplicates(&fake);
    s.finish().await;
}

async fn transient_failures_back_off_and_resume_without_duplicates(b: Backend) {
    let s = TestServer::demo(b).await;
    let fake = FakePlatform::start().await;
    let mut bidan = s.session("bidan.naitimu").await;
    let mut d = push_data(&s, &mut bidan, true).await;
    let now = now_ms();

    // The platform takes the child's Bundle but its answer comes after the timeout.
    fake.with(|f| {
        f.faults
            .push_back(Fault::AcceptThenSlow(Duration::from_millis(1_500)))
    });
    let r1 = send_once(s.store(), &client(&fake), now).await.unwrap();
    assert_eq!((r1.deferred, r1.created, r1.bundles), (4, 0, 1), "{r1}");
    assert!(r1.interrupted.is_some());
    let w = row(&s, d.child_weight, "Observation").await;
    assert_eq!(
        (w.status, w.attempts, w.next_attempt_at),
        (Status::Waiting, 1, now as i64 + 10_000)
    );
    assert!(w.outcome.unwrap().contains("no answer in time"));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        fake.with(|f| f.creations.len()),
        5,
        "taken: newborn + the child's 4"
    );

    // Restarted before the retry is due: only what was never tried goes.
    let r2 = send_once(s.store(), &client(&fake), now + 1_000)
        .await
        .unwrap();
    assert_eq!((r2.created, r2.bundles, r2.deferred), (2, 1, 0), "{r2}");
    // Due: sent again; the platform finds what it took (ifNoneExist): no duplicate.
    let r3 = send_once(s.store(), &client(&fake), now + 10_001)
        .await
        .unwrap();
    assert_eq!((r3.created, r3.bundles), (4, 1), "{r3}");
    no_duplicates(&fake);
    assert_eq!(fake.with(|f| f.creations.len()), 7);
    let w = row(&s, d.child_weight, "Observation").await;
    assert_eq!((w.status, w.attempts), (Status::Sent, 0));

    // A 500, then a 500 with Retry-After: the update waits, doubling, then as long as asked.
    correct_weight(&s, &mut bidan, &mut d, 12.7).await;
    fake.with(|f| {
        f.faults.push_back(Fault::ServerError(None));
        f.faults.push_back(Fault::ServerError(Some(50)));
    });
    let t = now + 20_000;
    let worker = client(&fake);
    let r4 = send_once(s.store(), &worker, t).await.unwrap();
    assert_eq!((r4.deferred, r4.updated), (1, 0), "{r4}");
    let w = row(&s, d.child_weight, "Observation").await;
    // Still the old content on the platform: sent, with the update waiting.
    assert_eq!(
        (w.status, w.attempts, w.next_attempt_at),
        (Status::Sent, 1, t as i64 + 10_000)
    );
    assert_eq!(
        send_once(s.store(), &worker, t + 9_000).await.unwrap(),
        Summary::default()
    );
    let r5 = send_once(s.store(), &worker, t + 10_001).await.unwrap();
    assert_eq!(r5.deferred, 1, "{r5}");
    let w = row(&s, d.child_weight, "Observation").await;
    assert_eq!(
        (w.attempts, w.next_attempt_at),
        (2, t as i64 + 10_001 + 50_000)
    );
    assert_eq!(
        send_once(s.store(), &worker, t + 10_001 + 20_001)
            .await
            .unwrap(),
        Summary::default()
    );
    let r6 = send_once(s.store(), &worker, t + 10_001 + 50_001)
        .await
        .unwrap();
    assert_eq!((r6.updated, r6.deferred), (1, 0), "{r6}");
    let w = row(&s, d.child_weight, "Observation").await;
    assert_eq!(
        (w.attempts, w.next_attempt_at, w.version_id.as_deref()),
        (0, 0, Some("2"))
    );

    // A slow answer (beyond the timeout) for a new measurement: retried, created once.
    push(
        &s,
        &mut bidan,
        EntityKind::Measurement,
        json!({"posyandu": P01, "person": d.child.to_string(), "visit": d.child_visit.to_string(),
               "date": yesterday(), "type": "muac", "value": 14.2, "unit": "cm"}),
    )
    .await;
    fake.with(|f| {
        f.faults
            .push_back(Fault::Slow(Duration::from_millis(1_200)))
    });
    let t2 = t + 100_000;
    let r7 = send_once(s.store(), &worker, t2).await.unwrap();
    assert_eq!((r7.deferred, r7.created), (1, 0), "{r7}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let r8 = send_once(s.store(), &worker, t2 + 10_001).await.unwrap();
    assert_eq!(r8.created, 1, "{r8}");
    assert_eq!(
        send_once(s.store(), &worker, t2 + 20_000).await.unwrap(),
        Summary::default()
    );
    no_duplicates(&fake);
    s.finish().await;
}

async fn the_token_is_renewed_and_bad_credentials_refused(b: Backend) {
    let s = TestServer::demo(b).await;
    let fake = FakePlatform::start().await;
    let mut bidan = s.session("bidan.naitimu").await;
    let mut d = push_data(&s, &mut bidan, true).await;
    let now = now_ms();

    let mut wrong = config(&fake);
    wrong.client_secret = ClientSecret::new("not-the-secret");
    let bad = FhirClient::new(Arc::new(wrong)).unwrap();
    let e = send_once(s.store(), &bad, now).await.unwrap_err();
    assert!(matches!(e, SatusehatError::Auth(_)), "{e}");
    assert!(!e.to_string().contains("not-the-secret"), "{e}");
    assert!(store::all(s.store()).await.unwrap().is_empty());
    assert_eq!(fake.with(|f| (f.token_refusals, f.transactions)), (1, 0));

    // Tokens live 2 s: a round after that asks for a new one.
    fake.with(|f| f.token_ttl_s = 2);
    let worker = client(&fake);
    let r1 = send_once(s.store(), &worker, now).await.unwrap();
    assert_eq!(r1.created, 6, "{r1}");
    let first = worker.tokens_obtained();
    assert!(first >= 1);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    fake.with(|f| f.token_ttl_s = 3600);
    correct_weight(&s, &mut bidan, &mut d, 12.3).await;
    let r2 = send_once(s.store(), &worker, now + 2_000).await.unwrap();
    assert_eq!(r2.updated, 1, "{r2}");
    let second = worker.tokens_obtained();
    assert!(second > first);

    // A token the platform stopped taking (401): asked again once, the round goes on.
    fake.with(|f| f.revoke_tokens());
    correct_weight(&s, &mut bidan, &mut d, 12.4).await;
    let r3 = send_once(s.store(), &worker, now + 4_000).await.unwrap();
    assert_eq!(r3.updated, 1, "{r3}");
    assert_eq!(worker.tokens_obtained(), second + 1);
    assert!(fake.with(|f| f.unauthorised) >= 1);
    // Two corrections in a chain: still the one Observation, now with the last value.
    let remote = row(&s, d.child_weight, "Observation")
        .await
        .remote_id
        .unwrap();
    fake.with(|f| {
        assert_eq!(f.of_type("Observation").len(), 3);
        let (r, v) = &f.resources[&("Observation".to_string(), remote.clone())];
        assert_eq!((r["valueQuantity"]["value"].as_f64(), *v), (Some(12.4), 3));
    });
    no_duplicates(&fake);
    s.finish().await;
}

/// The Administrasi page sets a health worker's NIK (checked by the NIK rules; a refused
/// one comes back with what was typed and the reason in Indonesian) and adds a user with one.
async fn health_worker_nik_on_the_administrasi_page(b: Backend) {
    let s = TestServer::demo(b).await;
    let (cookie, csrf) = crate::dashboard::login(&s, "admin.halilulik").await;
    let post = |form: Vec<(&'static str, String)>, path: &'static str| {
        let cookie = cookie.clone();
        let url = format!("http://{}{path}", s.addr);
        async move {
            let r = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(url)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (st, html) = post(
        vec![
            ("csrf", csrf.clone()),
            ("target", "bidan.naitimu".into()),
            ("nik", "53040562089".into()),
        ],
        "/dasbor/admin/nik",
    )
    .await;
    assert_eq!(st, 422, "{html}");
    assert!(
        html.contains("NIK harus 16 digit; yang diisi 11 karakter."),
        "{html}"
    );
    assert!(
        html.contains("value=\"53040562089\""),
        "what was typed is kept"
    );
    assert!(store::user_niks(s.store()).await.unwrap().is_empty());

    let (st, _) = post(
        vec![
            ("csrf", csrf.clone()),
            ("target", "bidan.naitimu".into()),
            ("nik", format!(" {BIDAN_NIK} ")),
        ],
        "/dasbor/admin/nik",
    )
    .await;
    assert_eq!(st, 303);
    let bidan = s
        .store()
        .user_by_username("bidan.naitimu".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store::user_niks(s.store())
            .await
            .unwrap()
            .get(&bidan.id.to_string()),
        Some(&BIDAN_NIK.to_string())
    );
    let (_, page) = crate::dashboard::get(&s, &cookie, "/dasbor/admin").await;
    assert!(page.contains(BIDAN_NIK), "the NIK shown");

    // A new user with a NIK; a wrong one refuses the whole form, keeping what was typed.
    let user = |nik: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("username", "bidan.baru".to_string()),
            ("name", "Bidan Baru".to_string()),
            ("role", "bidan".to_string()),
            ("scope", "53.04.05.2001".to_string()),
            ("password", "rahasia-123".to_string()),
            ("nik", nik.to_string()),
        ]
    };
    let (st, html) = post(user("5304051301990000"), "/dasbor/admin/user").await;
    assert_eq!(st, 422);
    assert!(html.contains("NIK tidak valid."), "serial 0000: {html}");
    assert!(html.contains("value=\"bidan.baru\""));
    assert!(
        s.store()
            .user_by_username("bidan.baru".into())
            .await
            .unwrap()
            .is_none()
    );
    let (st, _) = post(user("5304051301990004"), "/dasbor/admin/user").await;
    assert_eq!(st, 303);
    let baru = s
        .store()
        .user_by_username("bidan.baru".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store::user_niks(s.store())
            .await
            .unwrap()
            .get(&baru.id.to_string()),
        Some(&"5304051301990004".to_string())
    );
    s.finish().await;
}

/// `jangkau-server user nik` and `jangkau-server satusehat send --once` as an operator runs
/// them: the settings from the TOML file, the secret from the environment and never printed
/// (not even with debug logs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn satusehat_send_once_from_the_cli() {
    let s = TestServer::demo(Backend::Sqlite).await;
    let fake = FakePlatform::start().await;
    fake.with(|f| f.practitioners.insert(BIDAN_NIK.into(), "N10000001".into()));
    let mut bidan = s.session("bidan.naitimu").await;
    push_data(&s, &mut bidan, true).await;
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("server.toml");
    std::fs::write(
        &toml,
        format!(
            "[password_cost]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n\
             [satusehat]\nbase_url = \"{}\"\nauth_url = \"{}\"\nclient_id = \"{CLIENT_ID}\"\n\
             organization_id = \"{ORG}\"\nplace = \"{P01}\"\n",
            fake.base_url(),
            fake.auth_url()
        ),
    )
    .unwrap();
    let run = |args: Vec<&'static str>, secret: bool| {
        let (toml, db) = (toml.clone(), s.db.url.clone());
        tokio::task::spawn_blocking(move || {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_jangkau-server"));
            cmd.arg("--config")
                .arg(&toml)
                .args(&args)
                .env("JANGKAU_DATABASE_URL", db)
                .env_remove("JANGKAU_CONFIG")
                .env("JANGKAU_LOG", "debug");
            if secret {
                cmd.env("JANGKAU_SATUSEHAT_CLIENT_SECRET", CLIENT_SECRET);
            } else {
                cmd.env_remove("JANGKAU_SATUSEHAT_CLIENT_SECRET");
            }
            let out = cmd.output().expect("runs");
            (
                out.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            )
        })
    };
    let (ok, out) = run(vec!["user", "nik", "bidan.naitimu", "1234"], false)
        .await
        .unwrap();
    assert!(!ok && out.contains("NIK must have 16 digits"), "{out}");
    let (ok, out) = run(vec!["user", "nik", "bidan.naitimu", BIDAN_NIK], false)
        .await
        .unwrap();
    assert!(ok, "{out}");
    let (ok, out) = run(vec!["satusehat", "send", "--once"], false)
        .await
        .unwrap();
    assert!(!ok && out.contains("client_secret"), "{out}");
    let (ok, out) = run(vec!["satusehat", "send", "--once"], true)
        .await
        .unwrap();
    assert!(ok, "{out}");
    assert!(
        out.contains("1 practitioner(s) found; 6 resource(s) created"),
        "{out}"
    );
    assert!(!out.contains(CLIENT_SECRET), "the secret printed: {out}");
    let (ok, out) = run(vec!["satusehat", "send", "--once"], true)
        .await
        .unwrap();
    assert!(
        ok && out.contains("0 resource(s) created, 0 updated"),
        "{out}"
    );
    no_duplicates(&fake);
    s.finish().await;
}

/// `jangkau-server serve` with `[satusehat] enabled = true` sends in the background (and a
/// second round finds nothing new), next to its usual work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_in_the_background() {
    let s = TestServer::demo(Backend::Sqlite).await;
    let fake = FakePlatform::start().await;
    let mut bidan = s.session("bidan.naitimu").await;
    push_data(&s, &mut bidan, true).await;
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("server.toml");
    std::fs::write(
        &toml,
        format!(
            "listen = \"127.0.0.1:0\"\n[password_cost]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n\
             [satusehat]\nenabled = true\nbase_url = \"{}\"\nauth_url = \"{}\"\nclient_id = \"{CLIENT_ID}\"\n\
             organization_id = \"{ORG}\"\nplace = \"{P01}\"\ninterval_s = 1\n",
            fake.base_url(),
            fake.auth_url()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jangkau-server"))
        .arg("--config")
        .arg(&toml)
        .arg("serve")
        .env("JANGKAU_DATABASE_URL", &s.db.url)
        .env_remove("JANGKAU_CONFIG")
        .env("JANGKAU_SATUSEHAT_CLIENT_SECRET", CLIENT_SECRET)
        .env("JANGKAU_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut sent = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sent = fake.with(|f| f.creations.len());
        if sent == 7 && fake.with(|f| f.tokens_issued) >= 1 {
            break;
        }
    }
    // Let a few more rounds run: they find nothing new.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        sent, 7,
        "the newborn and 6 resources created in the background"
    );
    assert_eq!(fake.with(|f| f.creations.len()), 7);
    assert_eq!(fake.with(|f| f.transactions), 1, "one Bundle, then nothing");
    no_duplicates(&fake);
    s.finish().await;
}

/// A refusal that names no entry: the Bundle is split per encounter; the encounter refused
/// alone is kept refused whole (its reason on every resource), the others are sent.
async fn a_refusal_naming_no_entry_is_narrowed_down(b: Backend) {
    let s = TestServer::demo(b).await;
    let fake = FakePlatform::start().await;
    fake.with(|f| {
        f.require_lot = true;
        f.vague_refusals = true;
    });
    let mut bidan = s.session("bidan.naitimu").await;
    let d = push_data(&s, &mut bidan, false).await;
    let mut cfg = config(&fake);
    cfg.bundle_entries = 100;
    let worker = FhirClient::new(Arc::new(cfg)).unwrap();
    let r = send_once(s.store(), &worker, now_ms()).await.unwrap();
    // One Bundle of both encounters refused, then one per encounter: the child's refused
    // (4 resources, + the patient without NIK), the newborn's sent.
    assert_eq!((r.bundles, r.created, r.refused), (3, 2, 5), "{r}");
    for (id, ty) in [
        (d.child_visit, "Encounter"),
        (d.child_weight, "Observation"),
        (d.child_dose, "Immunization"),
    ] {
        let row = row(&s, id, ty).await;
        assert_eq!(row.status, Status::Refused, "{ty}");
        assert!(row.outcome.unwrap().contains("lotNumber"));
    }
    assert_eq!(fake.with(|f| f.refusals), 2);
    assert_eq!(
        send_once(s.store(), &worker, now_ms()).await.unwrap(),
        Summary::default()
    );
    s.finish().await;
}

/// The district's KFA code of a series (Administrasi, `storage::vaccine_kfa`) reaches the
/// platform with a dose recorded without one; a changed code updates the dose sent before.
async fn the_district_kfa_code_is_sent_and_updated(b: Backend) {
    use district_server::storage::vaccine_kfa;
    let s = TestServer::demo(b).await;
    let fake = FakePlatform::start().await;
    let mut bidan = s.session("bidan.naitimu").await;
    let d = push_data(&s, &mut bidan, true).await;
    let worker = client(&fake);
    let kfa_of = |fake: &FakePlatform| {
        fake.with(|f| {
            let dose = f
                .by_record("Immunization", &format!("urn:uuid:{}", d.child_dose))
                .unwrap()
                .1;
            dose["vaccineCode"]["coding"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["system"] == "http://sys-ids.kemkes.go.id/kfa")
                .map(|c| c["code"].as_str().unwrap().to_string())
        })
    };
    vaccine_kfa::set_code(s.store(), "DPT-HB-Hib", Some("93000777"), "dinas", now_ms())
        .await
        .unwrap();
    let r1 = send_once(s.store(), &worker, now_ms()).await.unwrap();
    assert!(r1.created > 0, "{r1}");
    assert_eq!(kfa_of(&fake).as_deref(), Some("93000777"));
    vaccine_kfa::set_code(s.store(), "DPT-HB-Hib", Some("93000778"), "dinas", now_ms())
        .await
        .unwrap();
    let r2 = send_once(s.store(), &worker, now_ms() + 1_000)
        .await
        .unwrap();
    assert_eq!((r2.created, r2.updated), (0, 1), "{r2}");
    assert_eq!(kfa_of(&fake).as_deref(), Some("93000778"));
    no_duplicates(&fake);
    keep_for_the_r4_check(&fake);
    s.finish().await;
}
