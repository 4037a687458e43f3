//! The district's KFA product codes (issue 15, docs/fhir.md "KFA product codes") on both
//! backends: set on the Administrasi page by the dinas_admin (CSRF, audited; a puskesmas
//! admin sees them and may not change them; a bad code refused with its reason and what was
//! typed kept), then carried by the FHIR export of the demo history for the doses of those
//! series only; a dose's own `kfa_code` wins. Every Immunization is kept for the strict
//! FHIR R4 parse of `tools/fhir-check`, as the export's tests do.

use crate::common::{Backend, TestDb, TestServer};
use crate::dashboard::{get, login};
use district_server::auth::PasswordCost;
use district_server::export::fhir;
use district_server::storage::vaccine_kfa;
use health_rules::immunisation::kfa_series;
use serde_json::{Value, json};
use sync_protocol::{EntityKind, RecordId};

both_backends!(kfa_codes_set_by_the_dinas_reach_the_fhir_export);

const BCG: &str = "93000631";
const MR: &str = "930012345678";
/// A dose's own code (as a tablet of body schema 2 records it).
const OWN: &str = "93999001";
const P01: &str = "53.04.05.2001.P01";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_kfa(s: &TestServer, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(s.url("/dasbor/admin/kfa"))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Written to `<target>/fhir-samples/` for `tools/fhir-check` (run by `scripts/test.sh`).
fn keep_for_the_r4_check(r: &Value) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let kind = r["resourceType"].as_str().expect("resourceType");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("fhir-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "{}-kfa-{}-{kind}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(file, serde_json::to_vec(r).unwrap()).unwrap();
}

fn kfa_of(r: &Value) -> Option<&str> {
    r["vaccineCode"]["coding"]
        .as_array()?
        .iter()
        .find(|c| c["system"] == fhir::KFA)
        .and_then(|c| c["code"].as_str())
}

async fn kfa_codes_set_by_the_dinas_reach_the_fhir_export(b: Backend) {
    let db = TestDb::new(b).await;
    district_server::admin::demo(db.store.as_ref(), PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let now = district_server::model::now_ms();
    district_server::admin::demo_history(
        db.store.as_ref(),
        PasswordCost::TEST,
        now,
        district_server::demodata::SEED,
    )
    .await
    .unwrap();
    let s = TestServer::start(db, |_| {}).await;
    let store = s.store();
    assert!(vaccine_kfa::codes(store).await.unwrap().is_empty());

    // The dinas admin: the form, refused without the session's token.
    let (dinas, csrf) = login(&s, "dinas").await;
    let page = get(&s, &dinas, "/dasbor/admin").await.1;
    assert!(page.contains("data-testid=\"kfa-form\""), "{page}");
    assert!(page.contains("Kode produk KFA vaksin"));
    let r = post_kfa(&s, &dinas, &[("csrf", "forged"), ("kfa_BCG", BCG)]).await;
    assert_eq!(r.status(), 403);
    assert!(vaccine_kfa::codes(store).await.unwrap().is_empty());

    // A bad code: the reason in Indonesian, every typed value kept, nothing saved.
    let r = post_kfa(
        &s,
        &dinas,
        &[("csrf", &csrf), ("kfa_BCG", BCG), ("kfa_MR", "93A0012")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Kode KFA MR hanya berisi angka."), "{html}");
    assert!(html.contains("value=\"93A0012\""), "the typed code stays");
    assert!(
        html.contains(&format!("value=\"{BCG}\"")),
        "the other one too"
    );
    let r = post_kfa(&s, &dinas, &[("csrf", &csrf), ("kfa_HB0", "12345")]).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Kode KFA HB0 harus 6–20 digit; yang diisi 5.")
    );
    assert!(vaccine_kfa::codes(store).await.unwrap().is_empty());

    // Good codes: saved, audited, shown.
    let r = post_kfa(
        &s,
        &dinas,
        &[
            ("csrf", &csrf),
            ("kfa_BCG", BCG),
            ("kfa_MR", &format!(" {MR} ")),
            ("kfa_OPV", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let codes = vaccine_kfa::codes(store).await.unwrap();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert_eq!(codes["BCG"], BCG);
    assert_eq!(codes["MR"], MR);
    let page = get(&s, &dinas, "/dasbor/admin?ok=kfa").await.1;
    assert!(page.contains("Kode produk KFA vaksin disimpan."));
    assert!(
        page.contains("vaccine_kfa"),
        "the audit log shows the action"
    );
    assert!(page.contains(&format!("BCG={BCG} MR={MR}")));
    assert!(page.contains(&format!("value=\"{MR}\"")));

    // A puskesmas admin sees the codes, has no form, and may not change them.
    let (pkm, pkm_csrf) = login(&s, "admin.halilulik").await;
    let page = get(&s, &pkm, "/dasbor/admin").await.1;
    assert!(!page.contains("data-testid=\"kfa-form\""));
    assert!(page.contains(&format!("<span data-testid=\"kfa-BCG\">{BCG}</span>")));
    let r = post_kfa(&s, &pkm, &[("csrf", &pkm_csrf), ("kfa_BCG", "93000632")]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(vaccine_kfa::codes(store).await.unwrap()["BCG"], BCG);

    // A BCG dose recorded with its own code (body schema 2), today.
    let mut bidan = s.session("bidan.naitimu").await;
    let day = (chrono::Utc::now() + chrono::Duration::hours(8))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let child = RecordId::new_v7();
    let c = bidan.change(
        EntityKind::Person,
        child,
        json!({"posyandu": P01, "name": "Bayi Kode Sendiri", "sex": "female", "birth_date": day}),
    );
    let dose = RecordId::new_v7();
    let mut d = bidan.change(
        EntityKind::Immunisation,
        dose,
        json!({"posyandu": P01, "person": child.to_string(), "date": day,
               "vaccine": "BCG", "kfa_code": OWN}),
    );
    d.schema = sync_protocol::schema::SCHEMA_VERSION;
    let (st, answer) = s.push(&bidan, &[c, d]).await;
    assert_eq!(st, 200, "{answer}");
    for o in answer["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "accepted", "{answer}");
    }

    // The export: the district's code on every dose of BCG and MR, none on the others; the
    // dose's own code wins.
    let today = district_server::readmodel::reports::today(district_server::model::now_ms());
    let records = fhir::load(
        store,
        "53.04.05.2001",
        today - chrono::Days::new(400),
        today,
    )
    .await
    .unwrap();
    assert_eq!(records.kfa, codes);
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    let mut own = 0;
    for (_, r) in fhir::resources(&records) {
        if r["resourceType"] != "Immunization" {
            continue;
        }
        keep_for_the_r4_check(&r);
        let text = r["vaccineCode"]["text"].as_str().unwrap();
        let series = kfa_series(text);
        let id = r["identifier"][0]["value"].as_str().unwrap();
        if id == format!("urn:uuid:{dose}") {
            assert_eq!(kfa_of(&r), Some(OWN), "{r}");
            own += 1;
            continue;
        }
        let want = match series {
            Some("BCG") => Some(BCG),
            Some("MR") => Some(MR),
            _ => None,
        };
        assert_eq!(kfa_of(&r), want, "{text}: {r}");
        *seen.entry(series.unwrap_or("?")).or_default() += 1;
    }
    assert_eq!(own, 1, "the dose with its own code is exported");
    assert!(seen.get("BCG").is_some_and(|n| *n > 0), "{seen:?}");
    assert!(
        seen.keys().any(|k| *k != "BCG" && *k != "MR"),
        "doses of other series: {seen:?}"
    );

    // Removing a code: the doses of that series have none again.
    let r = post_kfa(&s, &dinas, &[("csrf", &csrf), ("kfa_BCG", "")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        vaccine_kfa::codes(store)
            .await
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["MR"]
    );
    s.finish().await;
}
