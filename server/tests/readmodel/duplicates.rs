//! The server's duplicate finder (issue 17) over real HTTP on both backends: persons
//! registered twice in two posyandu by real tablets, found by NIK and by a spelling
//! variant of the name; a dismissed pair and a merged pair gone; each caller sees only the
//! pairs of their area; the dashboard's Tinjauan page counts what waits and since when,
//! and its CSV.

use crate::common::{Backend, MAWAR, MELATI, Session, TULAMALAE_P01, TestServer, now_ms};
use district_server::admin::DEMO_PASSWORD;
use district_server::auth::PasswordCost;
use district_server::readmodel::Param;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use sync_protocol::{Change, EntityKind, RecordId, Role, Stamp};

both_backends!(
    pairs_by_nik_and_spelling_variant_dismissed_merged_and_scoped,
    the_tinjauan_page_counts_what_waits_and_for_how_long,
);

const DAY_MS: u64 = 86_400_000;

async fn add_users(srv: &TestServer) {
    for (u, role, scope) in [
        ("bidan.tulamalae", Role::Bidan, "53.04.05.2002"),
        ("kader.tulamalae", Role::Kader, TULAMALAE_P01),
        ("admin.atambua", Role::PuskesmasAdmin, "53.04.PKM01"),
    ] {
        district_server::admin::add_user(
            srv.store(),
            u,
            "Contoh (fiktif)",
            role,
            scope,
            DEMO_PASSWORD,
            PasswordCost::TEST,
        )
        .await
        .unwrap();
    }
}

fn ok(push: (u16, Value)) {
    assert_eq!(push.0, 200, "{}", push.1);
    for o in push.1["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "accepted", "{}", push.1);
    }
}

/// A person registration, stamped `age_ms` ago.
fn person(s: &mut Session, id: RecordId, age_ms: u64, body: Value) -> Change {
    let mut c = s.change(EntityKind::Person, id, body);
    c.hlc.wall_ms = now_ms() - age_ms;
    c
}

/// The pairs of an answer as `(first, second, reason)`, checking the contract's order.
fn pairs(v: &Value) -> BTreeSet<(String, String, String)> {
    assert_eq!(v["v"], 1, "{v}");
    v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let (f, s) = (p["first"].as_str().unwrap(), p["second"].as_str().unwrap());
            assert!(f < s, "first < second: {p}");
            (
                f.to_string(),
                s.to_string(),
                p["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(a: RecordId, b: RecordId, reason: &str) -> (String, String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    let (f, s) = if a < b { (a, b) } else { (b, a) };
    (f, s, reason.to_string())
}

/// The persons both posyandu of desa Naitimu registered (and one of desa Tulamalae).
struct Registered {
    mother_mawar: RecordId,
    mother_melati: RecordId,
    child_mawar: RecordId,
    child_melati: RecordId,
    child_tulamalae: RecordId,
    nik_mawar: RecordId,
    nik_melati: RecordId,
    dismiss: (RecordId, RecordId),
    merge: (RecordId, RecordId),
    /// The stamp of Mawar's registration of the child.
    child_mawar_made: Stamp,
}

/// Mawar and Melati register the same mother and child (spelling variants: Maria Goreti /
/// Marya Goretti, Yohanes / Yohanis), one man with one NIK under two names, and two more
/// pairs; Tulamalae registers another Yohanes Bria of the same birth date and mother's name.
async fn register(srv: &TestServer) -> Registered {
    let mut km = srv.session("kader.mawar").await;
    let mut kl = srv.session("kader.melati").await;
    let mut kt = srv.session("kader.tulamalae").await;
    let ids: Vec<RecordId> = (0..11).map(|_| RecordId::new_v7()).collect();
    let r = Registered {
        mother_mawar: ids[0],
        mother_melati: ids[1],
        child_mawar: ids[2],
        child_melati: ids[3],
        child_tulamalae: ids[4],
        nik_mawar: ids[5],
        nik_melati: ids[6],
        dismiss: (ids[7], ids[8]),
        merge: (ids[9], ids[10]),
        child_mawar_made: Stamp {
            hlc: sync_protocol::Hlc::default(),
            device: km.device,
        },
    };
    let mut r = r;
    let old = 10 * DAY_MS;
    let mother_tulamalae = RecordId::new_v7();
    let mawar = vec![
        person(
            &mut km,
            r.mother_mawar,
            old,
            json!({"posyandu": MAWAR, "name": "Maria Goreti", "sex": "female", "birth_date": "1995-03-14"}),
        ),
        person(
            &mut km,
            r.child_mawar,
            old,
            json!({"posyandu": MAWAR, "name": "Yohanes Bria", "sex": "male", "birth_date": "2024-05-01", "mother": r.mother_mawar.to_string()}),
        ),
        person(
            &mut km,
            r.nik_mawar,
            old,
            json!({"posyandu": MAWAR, "name": "Antonius Seran", "sex": "male", "birth_date": "1988-02-02", "nik": "5304050202880003"}),
        ),
        person(
            &mut km,
            r.dismiss.0,
            old,
            json!({"posyandu": MAWAR, "name": "Kornelia Tae", "sex": "female", "birth_date": "2020-01-10"}),
        ),
        person(
            &mut km,
            r.merge.0,
            old,
            json!({"posyandu": MAWAR, "name": "Benediktus Atok", "sex": "male", "birth_date": "2021-07-07"}),
        ),
        // Not alike: another child of Maria Goreti, born another day.
        person(
            &mut km,
            RecordId::new_v7(),
            old,
            json!({"posyandu": MAWAR, "name": "Yohanes Bria", "sex": "male", "birth_date": "2022-01-01", "mother": r.mother_mawar.to_string()}),
        ),
    ];
    r.child_mawar_made = mawar[1].stamp();
    ok(srv.push(&km, &mawar).await);
    let recent = 2 * DAY_MS;
    let melati = vec![
        person(
            &mut kl,
            r.mother_melati,
            recent,
            json!({"posyandu": MELATI, "name": "Marya Goretti", "sex": "female", "birth_date": "1995-03-14"}),
        ),
        person(
            &mut kl,
            r.child_melati,
            recent,
            json!({"posyandu": MELATI, "name": "Yohanis Bria", "sex": "male", "birth_date": "2024-05-01", "mother": r.mother_melati.to_string()}),
        ),
        person(
            &mut kl,
            r.nik_melati,
            recent,
            json!({"posyandu": MELATI, "name": "Anton Seran", "sex": "male", "birth_date": "1988-02-20", "nik": "5304050202880003"}),
        ),
        person(
            &mut kl,
            r.dismiss.1,
            recent,
            json!({"posyandu": MELATI, "name": "Kornelia Tae", "sex": "female", "birth_date": "2020-01-10"}),
        ),
        person(
            &mut kl,
            r.merge.1,
            recent,
            json!({"posyandu": MELATI, "name": "Benediktus Atok", "sex": "male", "birth_date": "2021-07-07"}),
        ),
    ];
    ok(srv.push(&kl, &melati).await);
    let tulamalae = vec![
        person(
            &mut kt,
            mother_tulamalae,
            recent,
            json!({"posyandu": TULAMALAE_P01, "name": "Maria Goreti", "sex": "female", "birth_date": "1990-12-12"}),
        ),
        person(
            &mut kt,
            r.child_tulamalae,
            recent,
            json!({"posyandu": TULAMALAE_P01, "name": "Yohanes Bria", "sex": "male", "birth_date": "2024-05-01", "mother": mother_tulamalae.to_string()}),
        ),
    ];
    ok(srv.push(&kt, &tulamalae).await);
    r
}

/// The posyandu of a person of [`register`] in desa Naitimu (Mawar's are the `.0`s).
fn posyandu_of(r: &Registered, id: RecordId) -> &'static str {
    if [
        r.mother_mawar,
        r.child_mawar,
        r.nik_mawar,
        r.dismiss.0,
        r.merge.0,
    ]
    .contains(&id)
    {
        MAWAR
    } else {
        MELATI
    }
}

async fn pairs_by_nik_and_spelling_variant_dismissed_merged_and_scoped(b: Backend) {
    let srv = TestServer::demo(b).await;
    add_users(&srv).await;
    let started = now_ms();
    let r = register(&srv).await;
    let mut bd = srv.session("bidan.naitimu").await;
    let naitimu = "/v1/records/duplicates?place=53.04.05.2001";

    let (s, v) = srv.get(naitimu, Some(&bd.bearer)).await;
    assert_eq!(s, 200, "{v}");
    let mothers = pair(r.mother_mawar, r.mother_melati, "name_birth_mother");
    let children = pair(r.child_mawar, r.child_melati, "name_birth_mother");
    let nik = pair(r.nik_mawar, r.nik_melati, "nik");
    let dismissed = pair(r.dismiss.0, r.dismiss.1, "name_birth_mother");
    let merged = pair(r.merge.0, r.merge.1, "name_birth_mother");
    let all: BTreeSet<_> = [&mothers, &children, &nik, &dismissed, &merged]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(pairs(&v), all, "{v}");
    for p in v["pairs"].as_array().unwrap() {
        let first: RecordId = p["first"].as_str().unwrap().parse().unwrap();
        let second: RecordId = p["second"].as_str().unwrap().parse().unwrap();
        assert_eq!(p["first_posyandu"], posyandu_of(&r, first), "{p}");
        assert_eq!(p["second_posyandu"], posyandu_of(&r, second), "{p}");
        // The later registration (Melati's, two days ago) dates the pair.
        let at = p["found_at"].as_u64().unwrap();
        let expected = (started - 2 * DAY_MS) / 1000;
        assert!(at.abs_diff(expected) < 120, "{at} vs {expected}: {p}");
    }

    // "Not the same": a duplicate_dismissal; "the same": a person_merge.
    let (f, s2) = (dismissed.0.clone(), dismissed.1.clone());
    let dismissal = bd.change(
        EntityKind::DuplicateDismissal,
        RecordId::new_v7(),
        json!({"posyandu": posyandu_of(&r, f.parse().unwrap()), "first": f, "second": s2, "note": "kakak beradik"}),
    );
    let merge = bd.change(
        EntityKind::PersonMerge,
        RecordId::new_v7(),
        json!({"posyandu": MAWAR, "kept": r.merge.0.to_string(), "merged": r.merge.1.to_string()}),
    );
    ok(srv.push(&bd, &[dismissal.clone(), merge]).await);
    let (_, v) = srv.get(naitimu, Some(&bd.bearer)).await;
    let left: BTreeSet<_> = [&mothers, &children, &nik].into_iter().cloned().collect();
    assert_eq!(pairs(&v), left, "{v}");

    // The dismissal deleted: the pair is proposed again.
    let mut undo = bd.change(EntityKind::DuplicateDismissal, dismissal.id, json!({}));
    undo.tombstone = true;
    ok(srv.push(&bd, &[undo]).await);
    let (_, v) = srv.get(naitimu, Some(&bd.bearer)).await;
    assert!(pairs(&v).contains(&dismissed), "{v}");

    // Scope: the bidan of Naitimu never sees Tulamalae's Yohanes Bria, nor asks for Tulamalae.
    let tula = r.child_tulamalae.to_string();
    assert!(!v.to_string().contains(&tula), "{v}");
    let (s, e) = srv
        .get(
            "/v1/records/duplicates?place=53.04.05.2002",
            Some(&bd.bearer),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")), "{e}");
    // The bidan of Tulamalae: her desa holds one Yohanes Bria, no pair.
    let bt = srv.session("bidan.tulamalae").await;
    let (s, v) = srv
        .get(
            "/v1/records/duplicates?place=53.04.05.2002",
            Some(&bt.bearer),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(pairs(&v).is_empty(), "{v}");
    assert_eq!(srv.get(naitimu, Some(&bt.bearer)).await.0, 404);
    // The puskesmas and the dinas see the pairs across the two desa as well.
    let across = [
        pair(r.child_mawar, r.child_tulamalae, "name_birth_mother"),
        pair(r.child_melati, r.child_tulamalae, "name_birth_mother"),
    ];
    for (user, place) in [("admin.halilulik", "53.04.PKM07"), ("dinas", "53.04")] {
        let u = srv.session(user).await;
        let (s, v) = srv
            .get(
                &format!("/v1/records/duplicates?place={place}"),
                Some(&u.bearer),
            )
            .await;
        assert_eq!(s, 200, "{user}: {v}");
        let got = pairs(&v);
        for p in across.iter().chain([&mothers, &children, &nik, &dismissed]) {
            assert!(got.contains(p), "{user}: {p:?} in {v}");
        }
        assert!(!got.contains(&merged), "{user}: {v}");
    }
    // Another puskesmas's admin: not found, and nothing in her own area.
    let other = srv.session("admin.atambua").await;
    let (s, e) = srv
        .get(
            "/v1/records/duplicates?place=53.04.PKM07",
            Some(&other.bearer),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (404, Some("not_found")), "{e}");
    let (s, v) = srv
        .get(
            "/v1/records/duplicates?place=53.04.PKM01",
            Some(&other.bearer),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(pairs(&v).is_empty(), "{v}");
    // A kader is refused; no session, nothing; no place, a clear refusal.
    let km = srv.session("kader.mawar").await;
    let (s, e) = srv.get(naitimu, Some(&km.bearer)).await;
    assert_eq!((s, e["code"].as_str()), (403, Some("forbidden")), "{e}");
    assert_eq!(srv.get(naitimu, None).await.0, 401);
    let (s, e) = srv.get("/v1/records/duplicates", Some(&bd.bearer)).await;
    assert_eq!(s, 400, "{e}");
    srv.finish().await;
}

/// Logs in to the dashboard; returns the session cookie (`name=value`).
async fn web_login(srv: &TestServer, user: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(srv.url("/")).send().await.unwrap();
    let cookie = cookie_of(&r, "jangkau_login");
    let html = r.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = html[at..].split('"').next().unwrap().to_string();
    let r = http
        .post(srv.url("/masuk"))
        .header("cookie", cookie)
        .form(&[
            ("username", user),
            ("password", DEMO_PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{user} logs in");
    cookie_of(&r, "jangkau_dasbor")
}

fn cookie_of(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string()
}

async fn page(srv: &TestServer, cookie: &str, path: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(srv.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The text cells of the row of table `id` whose first cell holds `first`.
fn row_of(html: &str, id: &str, first: &str) -> Vec<String> {
    let at = html
        .find(&format!("data-testid=\"table-{id}\""))
        .unwrap_or_else(|| panic!("table {id}"));
    let table = &html[at..html[at..].find("</table>").map_or(html.len(), |e| at + e)];
    let row = table
        .split("<tr")
        .find(|r| r.contains(first))
        .unwrap_or_else(|| panic!("a row of {first} in {table}"));
    row.split("<td")
        .skip(1)
        .map(|c| {
            let inner = &c[c.find('>').unwrap() + 1..];
            let mut text = String::new();
            let mut tag = false;
            for ch in inner.chars() {
                match ch {
                    '<' => tag = true,
                    '>' => tag = false,
                    c if !tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_string()
        })
        .collect()
}

async fn the_tinjauan_page_counts_what_waits_and_for_how_long(b: Backend) {
    let srv = TestServer::demo(b).await;
    add_users(&srv).await;
    let r = register(&srv).await;
    // Two tablets of Mawar change the child's RT without seeing each other, three days ago;
    // both had seen the registration.
    let mut k1 = srv.session("kader.mawar").await;
    let mut k2 = srv.other_tablet("kader.mawar").await;
    let three_days = now_ms() - 3 * DAY_MS;
    let mut a = k1.change(EntityKind::Person, r.child_mawar, json!({"rt": "001"}));
    a.hlc.wall_ms = three_days - 10;
    a.base.insert("rt".into(), r.child_mawar_made);
    let mut c = k2.change(EntityKind::Person, r.child_mawar, json!({"rt": "002"}));
    c.hlc.wall_ms = three_days - 5;
    c.base.insert("rt".into(), r.child_mawar_made);
    ok(srv.push(&k1, &[a]).await);
    ok(srv.push(&k2, &[c]).await);

    let cookie = web_login(&srv, "bidan.naitimu").await;
    let (s, html) = page(&srv, &cookie, "/dasbor/tinjauan").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("href=\"/dasbor/tinjauan"), "the tab");
    // Mawar: one conflict, three days old; five pairs (each has a person of Mawar), the
    // oldest waiting since Melati's registrations two days ago. Melati: the same pairs.
    let mawar = row_of(&html, "tinjauan", "Posyandu Mawar");
    assert_eq!(mawar[1..], ["1", "3", "5", "2"], "{mawar:?}");
    let melati = row_of(&html, "tinjauan", "Posyandu Melati");
    assert_eq!(melati[1..], ["0", "–", "5", "2"], "{melati:?}");
    assert!(html.contains("data-testid=\"table-duplikat\""));
    assert!(html.contains("Yohanis Bria") && html.contains("Marya Goretti"));
    assert!(html.contains("NIK sama"));
    assert!(
        !html.contains("Posyandu Anggrek"),
        "desa Tulamalae is not hers"
    );

    // The CSV of the per-posyandu table and of the pairs.
    let (s, csv) = page(&srv, &cookie, "/dasbor/tinjauan?csv=tinjauan").await;
    assert_eq!(s, 200);
    let lines: Vec<&str> = csv.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(
        lines[0],
        "Posyandu;Konflik menunggu;Konflik terlama (hari);Kemungkinan duplikat;Duplikat terlama (hari)"
    );
    assert!(lines.contains(&"Posyandu Mawar;1;3;5;2"), "{csv}");
    let (_, csv) = page(&srv, &cookie, "/dasbor/tinjauan?csv=duplikat").await;
    assert_eq!(
        csv.trim_start_matches('\u{FEFF}').lines().count(),
        1 + 5,
        "{csv}"
    );
    let (_, csv) = page(&srv, &cookie, "/dasbor/tinjauan?csv=konflik").await;
    assert!(csv.contains("Posyandu Mawar;orang;rt;"), "{csv}");

    // Drill-down to Melati: Melati's row and the pairs with a person of Melati, not
    // Mawar's conflict; in English on request.
    let (s, html) = page(
        &srv,
        &cookie,
        &format!("/dasbor/tinjauan?place={MELATI}&lang=en"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(html.contains("Waiting for review per posyandu"));
    assert!(
        html.contains("No conflicts."),
        "Mawar's conflict is not Melati's"
    );
    let melati = row_of(&html, "tinjauan", "Posyandu Melati");
    assert_eq!(melati[3], "5", "{melati:?}");

    // The bidan reviews the conflict (on her tablet): it no longer waits.
    let rows = srv
        .store()
        .read_rows(
            "SELECT loser_hlc, loser_device FROM conflicts WHERE record_id = ?1".into(),
            vec![Param::Text(r.child_mawar.to_string())],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let loser = format!(
        "{}.{}",
        rows[0][0].text().unwrap(),
        rows[0][1].text().unwrap()
    );
    let mut bd = srv.session("bidan.naitimu").await;
    let review = bd.change(
        EntityKind::ConflictReview,
        RecordId::new_v7(),
        json!({"posyandu": MAWAR, "record": r.child_mawar.to_string(), "field": "rt", "loser": loser, "decision": "keep_winner"}),
    );
    ok(srv.push(&bd, &[review]).await);
    let (_, html) = page(&srv, &cookie, "/dasbor/tinjauan").await;
    let mawar = row_of(&html, "tinjauan", "Posyandu Mawar");
    assert_eq!(mawar[1..3], ["0", "–"], "{mawar:?}");

    // A place outside her area: not found.
    let (s, _) = page(&srv, &cookie, "/dasbor/tinjauan?place=53.04.05.2002").await;
    assert_eq!(s, 404);
    srv.finish().await;
}
