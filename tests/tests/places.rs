//! The places of the user's area (`GET /v1/places`): asked right after every login
//! (enrolment, a second user, a new login), never during an ordinary sync; a failure, or an
//! older server's 404, leaves the login standing and the places as they were.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::Store;
use sync_protocol::PlaceLevel;
use system_tests::proxy::{Fault, FaultPlan, LinkShape, Proxy, When};

const PLACES: &str = "/v1/places";

/// `(code, name)` of every posyandu the store knows, by code.
fn posyandu(store: &Store) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = store
        .places(PlaceLevel::Posyandu, None)
        .unwrap()
        .into_iter()
        .map(|p| (p.code, p.name))
        .collect();
    out.sort();
    out
}

fn named(code: &str, name: &str) -> (String, String) {
    (code.to_string(), name.to_string())
}

async fn enrolment_brings_the_names_of_the_area_and_a_second_user_adds_theirs(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    // A kader: their posyandu by name, and the places around it.
    assert_eq!(posyandu(&a.store), [named(MAWAR, "Posyandu Mawar")]);
    let desa = a.store.places(PlaceLevel::Desa, None).unwrap();
    assert_eq!(desa.len(), 1);
    assert_eq!(
        (desa[0].code.as_str(), desa[0].name.as_str()),
        (NAITIMU, "Desa Naitimu (Pustu Naitimu)")
    );
    let kabupaten = a.store.places(PlaceLevel::Kabupaten, None).unwrap();
    assert_eq!(
        kabupaten
            .iter()
            .map(|p| (p.code.as_str(), p.name.as_str(), p.parent.as_deref()))
            .collect::<Vec<_>>(),
        [(DISTRICT, "Kabupaten Belu", None)]
    );
    let mawar = a
        .store
        .places(PlaceLevel::Posyandu, Some(MAWAR))
        .unwrap()
        .remove(0);
    assert_eq!(mawar.parent.as_deref(), Some("53.04.05.2001.D1"));
    assert_eq!(a.store.posyandu_in_scope().unwrap(), [MAWAR]);

    // The bidan of the desa on the same tablet: their area's places are added, the kader's
    // stay, and the bidan's area is known from the places, not guessed from records.
    let kdf = field_core::KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
    a.client
        .add_user(&mut a.store, "bidan.naitimu", PASSWORD, "739154", kdf)
        .await
        .unwrap();
    assert_eq!(
        posyandu(&a.store),
        [
            named(MAWAR, "Posyandu Mawar"),
            named(MELATI, "Posyandu Melati")
        ]
    );
    let bidan = Store::unlock(&a.path, "bidan.naitimu", "739154", opts()).unwrap();
    assert_eq!(bidan.posyandu_in_scope().unwrap(), [MAWAR, MELATI]);
    drop(bidan);

    // A puskesmas scope: its posyandu through the hierarchy (the puskesmas code is no
    // prefix of theirs), on a tablet that holds no record yet.
    let p = Device::enrol(&server, "perawat.halilulik").await;
    let codes = p.store.posyandu_in_scope().unwrap();
    assert_eq!(codes.len(), 6, "{codes:?}");
    assert!(
        codes.iter().all(|c| c.starts_with("53.04.05.")),
        "{codes:?}"
    );
    server.stop().await;
}

async fn places_are_asked_at_login_only_and_a_failure_keeps_them(backend: Backend) {
    let server = Server::start_on(backend).await;
    let proxy = Proxy::start(server.addr, LinkShape::loopback())
        .await
        .unwrap();
    // An older server: no `/v1/places` (a 404 without an error body, as a gateway sends).
    proxy.set_faults(FaultPlan::new().on(PLACES, When::Every, Fault::Answer(404)));
    let mut a = Device::enrol_at(&server, &proxy.url(), "kader.mawar", opts(), client()).await;
    assert_eq!(
        proxy.stats().paths,
        ["/v1/enrol", "/v1/login", PLACES],
        "one try, no retries"
    );
    assert!(posyandu(&a.store).is_empty());
    let err = a.client.refresh_places(&mut a.store).await.unwrap_err();
    assert!(
        matches!(err, field_core::sync::SyncError::Server { status: 404, .. }),
        "{err:?}"
    );
    // Syncing works as before; the kader's posyandu is their scope.
    assert!(a.sync().await.up_to_date);
    assert_eq!(a.store.posyandu_in_scope().unwrap(), [MAWAR]);

    // The server learns the places: the next login brings them.
    proxy.set_faults(FaultPlan::new());
    proxy.reset_stats();
    a.client.login(&mut a.store, PASSWORD).await.unwrap();
    assert_eq!(proxy.stats().paths, ["/v1/login", PLACES]);
    assert_eq!(posyandu(&a.store), [named(MAWAR, "Posyandu Mawar")]);

    // An ordinary sync never asks, whether up to date or with work to push.
    proxy.reset_stats();
    assert!(a.sync().await.up_to_date);
    a.store
        .register_household(
            &household("Keluarga Nahak"),
            &[person("Maria Nahak", "female", "1990-01-01")],
            &[],
        )
        .unwrap();
    assert_eq!(a.sync().await.sent, 2);
    let paths = proxy.stats().paths;
    assert!(!paths.iter().any(|p| p == PLACES), "{paths:?}");

    // The answer is lost at the next login: the login stands, the places stay.
    proxy.set_faults(FaultPlan::new().on(PLACES, When::Every, Fault::DropMidResponse));
    a.client.login(&mut a.store, PASSWORD).await.unwrap();
    assert!(a.store.sync_state().unwrap().session_expires_at.is_some());
    assert_eq!(posyandu(&a.store), [named(MAWAR, "Posyandu Mawar")]);

    // A new login inside a run (the session ended) asks once, then the run goes on.
    proxy.set_faults(FaultPlan::new());
    a.store.clear_session().unwrap();
    proxy.reset_stats();
    assert!(a.sync().await.up_to_date);
    assert_eq!(
        proxy.stats().paths,
        ["/v1/login", PLACES, "/v1/sync/status"]
    );
    assert_eq!(posyandu(&a.store), [named(MAWAR, "Posyandu Mawar")]);
    server.stop().await;
}

both_backends!(
    enrolment_brings_the_names_of_the_area_and_a_second_user_adds_theirs,
    places_are_asked_at_login_only_and_a_failure_keeps_them,
);
