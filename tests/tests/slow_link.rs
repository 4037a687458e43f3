//! A posyandu day over 2G: the tablet syncs through the project's proxy shaped as a rural 2G
//! link (64 kbit/s each way, 400 ms round trip, 2 % segment loss). The families were pulled
//! in an earlier sync; the day (a session, 60 children: attendance, weight, height,
//! immunisations and vitamin A, 300 changes) is recorded offline and sent in one run that
//! costs three requests: status, one push, one pull of what another tablet recorded
//! meanwhile. The day does not come back down (the server leaves a device's own changes out
//! of its pulls), and the next sync is one request. Time is printed, not asserted (speed
//! targets live in the benchmarks).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod end_state;

use common::*;
use end_state::*;
use field_core::{AttendanceInput, ImmunisationInput, MeasurementInput, Services, SupplementInput};
use std::collections::BTreeSet;
use sync_protocol::RecordId;
use system_tests::proxy::{LinkShape, Proxy};

crate::both_backends!(
    a_posyandu_day_over_2g_is_one_status_one_push_one_pull,
    pull_pages_stay_small_over_2g_and_grow_on_a_fast_link,
);

fn measurement(kind: &str, value: f64, unit: &str, position: Option<&str>) -> MeasurementInput {
    MeasurementInput {
        kind: kind.into(),
        value,
        unit: unit.into(),
        position: position.map(str::to_string),
        measured_by: None,
        ..Default::default()
    }
}

/// 40 families of Posyandu Mawar: a mother and one child, or two for every other family
/// (60 children aged 1 to 4 years). Returns the households and the children with their
/// birth year offset (2 to 4 years before this one).
fn register_families(
    store: &mut field_core::Store,
    year: i32,
) -> (Vec<RecordId>, Vec<(RecordId, i32)>) {
    let (mut households, mut children) = (Vec::new(), Vec::new());
    let mut child = 0usize;
    for f in 0..40usize {
        let kids = if f.is_multiple_of(2) { 2 } else { 1 };
        let mut members = vec![person(&format!("Ibu Keluarga {f}"), "female", "1994-06-15")];
        let mut born = Vec::new();
        for _ in 0..kids {
            let back = 2 + (child % 3) as i32;
            let birth = format!(
                "{}-{:02}-{:02}",
                year - back,
                1 + child % 12,
                1 + child % 28
            );
            let sex = if child.is_multiple_of(2) {
                "female"
            } else {
                "male"
            };
            members.push(person(&format!("Anak {child} Keluarga {f}"), sex, &birth));
            born.push(back);
            child += 1;
        }
        let mothers: Vec<(usize, usize)> = (1..=kids).map(|k| (k, 0)).collect();
        let reg = store
            .register_household(&household(&format!("Keluarga {f}")), &members, &mothers)
            .unwrap();
        households.push(reg.household);
        for (k, back) in born.into_iter().enumerate() {
            children.push((reg.persons[k + 1], back));
        }
    }
    (households, children)
}

async fn a_posyandu_day_over_2g_is_one_status_one_push_one_pull(backend: Backend) {
    let server = Server::start_on(backend).await;
    // The bidan's kader colleague registered the families earlier (on the puskesmas wifi).
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    let today = b.store.today().unwrap().format("%Y-%m-%d").to_string();
    let year: i32 = today[..4].parse().unwrap();
    let (households, children) = register_families(&mut b.store, year);
    assert_eq!(children.len(), 60);
    let mut made = pending_keys(&b.store);
    assert_eq!(made.len(), 40 + 40 + 60);
    b.sync().await;

    // The kader's tablet, on 2G, pulled them in an earlier sync.
    let proxy = Proxy::start(server.addr, LinkShape::two_g()).await.unwrap();
    let mut a = Device::enrol_at(&server, &proxy.url(), "kader.mawar", opts(), client()).await;
    let r = a.sync().await;
    assert_eq!(r.received, 140, "{r:?}");

    // The day, offline: the session, then each child's attendance with what was done.
    let session = a.store.open_posyandu_session(MAWAR, &today, None).unwrap();
    for (i, (child, back)) in children.iter().enumerate() {
        let position = if *back == 2 { "lying" } else { "standing" };
        let services = Services {
            measurements: vec![
                measurement("weight", 9.0 + (i % 7) as f64 * 0.8, "kg", None),
                measurement(
                    "length_height",
                    75.0 + (i % 10) as f64 * 2.5,
                    "cm",
                    Some(position),
                ),
            ],
            immunisations: vec![ImmunisationInput {
                vaccine: if *back == 2 { "MR2" } else { "DPT-HB-Hib 4" }.into(),
                batch: Some(format!("B{:04}", 100 + i)),
                catch_up: Some(*back > 2),
                date: None,
                ..Default::default()
            }],
            supplements: if i < 59 {
                vec![SupplementInput {
                    supplement: "vitamin_a_red".into(),
                    quantity: Some(1),
                }]
            } else {
                Vec::new()
            },
            screenings: Vec::new(),
        };
        a.store
            .record_attendance(&AttendanceInput {
                session,
                person: *child,
                services,
                counselling: Some("ASI dan MP-ASI, cuci tangan".into()),
                findings: None,
                follow_up_date: None,
                referral: None,
            })
            .unwrap();
    }
    let day = pending_keys(&a.store);
    assert_eq!(day.len(), 300);
    made.extend(day.iter().cloned());
    // Meanwhile a newborn was registered on the other tablet: the day's sync has something
    // to pull besides the tablet's own changes.
    b.store
        .add_member(households[0], &person("Bayi Keluarga 0", "male", &today))
        .unwrap();
    made.extend(pending_keys(&b.store));
    // Nothing from other tablets is new to B: status and push, no pull.
    let r = b.sync().await;
    assert_eq!(
        (r.sent, r.received, r.pull_requests, r.requests),
        (1, 0, 0, 2),
        "{r:?}"
    );

    proxy.reset_stats();
    let started = std::time::Instant::now();
    let r = a.sync().await;
    let elapsed = started.elapsed();
    let st = proxy.stats();
    println!(
        "{backend:?}: a posyandu day of 300 changes over 2G in {:.1} s: {} requests, {} bytes up, {} bytes down",
        elapsed.as_secs_f64(),
        st.requests,
        st.bytes_up,
        st.bytes_down
    );
    assert_eq!(
        (r.sent, r.rejected, r.waiting, r.retries),
        (300, 0, 0, 0),
        "{r:?}"
    );
    assert_eq!(
        (r.push_requests, r.pull_requests, r.requests),
        (1, 1, 3),
        "{r:?}"
    );
    assert_eq!(
        st.paths,
        ["/v1/sync/status", "/v1/sync/push", "/v1/sync/pull"],
        "{st:?}"
    );
    // Only the newborn comes down: the day's 300 stay on the tablet, not downloaded again.
    // The day's push alone is about 10 KB compressed; all three answers together (status,
    // the push's 300 outcomes, a pull page of one change) are a small part of that.
    assert_eq!((r.received, r.skipped), (1, 0), "{r:?}");
    assert!(
        st.bytes_down * 4 < st.bytes_up,
        "{} bytes down for {} bytes up: {st:?}",
        st.bytes_down,
        st.bytes_up
    );
    // The server has all 300, once each.
    let on_server: BTreeSet<Key> = server_changes(&server)
        .await
        .iter()
        .filter(|c| c.device == a.store.device_id())
        .map(key)
        .collect();
    assert!(on_server == day);
    // The next sync of the tablet: nothing new anywhere, one request.
    proxy.reset_stats();
    let r = a.sync().await;
    assert!(r.up_to_date && r.requests == 1, "{r:?}");
    assert_eq!(proxy.stats().paths, ["/v1/sync/status"]);
    // The other tablet gets the day, and none of its own 141 changes back, in one page.
    let r = b.sync().await;
    assert_eq!(
        (r.received, r.sent, r.pull_requests, r.requests),
        (300, 0, 1, 2),
        "{r:?}"
    );
    assert_converged(&server, &made, &[&a.store, &b.store]).await;
    server.stop().await;
}

/// The page size follows the link (`field-core/src/sync/pace.rs`): over 2G a page of 100
/// changes takes at least the 400 ms round trip and its bytes at 64 kbit/s, longer than the
/// half second within which a page twice as large would have to come, so the pages stay at
/// the size the tablet starts with; on loopback the same pull asks for twice that after its
/// first full page. Every page is still applied with its cursor, and both tablets end with
/// the same records.
async fn pull_pages_stay_small_over_2g_and_grow_on_a_fast_link(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    let today = b.store.today().unwrap().format("%Y-%m-%d").to_string();
    let year: i32 = today[..4].parse().unwrap();
    register_families(&mut b.store, year);
    assert_eq!(b.sync().await.sent, 140);
    let pages = |c: &mut field_core::sync::SyncConfig| {
        c.pull_limit = 100;
        c.pull_limit_max = 2_000;
    };

    let proxy = Proxy::start(server.addr, LinkShape::two_g()).await.unwrap();
    let mut slow = Device::enrol_at(
        &server,
        &proxy.url(),
        "kader.mawar",
        opts(),
        client_with(pages),
    )
    .await;
    let r = slow.sync().await;
    assert_eq!(r.received, 140, "{r:?}");
    assert_eq!(r.pull_limit_largest, 100, "no growth over 2G: {r:?}");
    assert_eq!(r.pull_requests, 2, "{r:?}");

    // On loopback, with the growth threshold out of the way of a loaded test machine.
    let mut fast = Device::enrol_with(
        &server,
        "kader.mawar",
        opts(),
        client_with(|c| {
            pages(c);
            c.pull_grow_below = std::time::Duration::from_secs(3_600);
        }),
    )
    .await;
    let r = fast.sync().await;
    assert_eq!(r.received, 140, "{r:?}");
    assert_eq!(r.pull_limit_largest, 200, "grown after a full page: {r:?}");
    assert_eq!(r.pull_requests, 2, "{r:?}");
    assert_same("2G and loopback", &slow.view(), &fast.view());
    server.stop().await;
}

fn pending_keys(store: &field_core::Store) -> BTreeSet<Key> {
    store
        .pending_changes(10_000)
        .unwrap()
        .iter()
        .map(key)
        .collect()
}
