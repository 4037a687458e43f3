//! Faults on the wire between tablets and a real district server, through the project's own
//! fault-injecting proxy (`system_tests::proxy`): each fault once in the push phase and once
//! in the pull phase of a run that needs several push batches and pull pages, then a run
//! without faults; and a link where every kind of fault happens at random. The end state is
//! checked exactly: every change once on the server and on every tablet, nothing waiting,
//! nothing applied twice (the server's own counters). Retries use the recording sleeper.
//! The random cuts follow from one printed seed; `JANGKAU_FAULT_SEED=<seed>` replays them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod end_state;

use common::*;
use end_state::*;
use field_core::MeasurementInput;
use field_core::sync::SyncError;
use std::collections::BTreeSet;
use std::time::Duration;
use system_tests::proxy::{Fault, FaultPlan, LinkShape, Proxy, When};

const PUSH: &str = "/v1/sync/push";
const PULL: &str = "/v1/sync/pull";
const STATUS: &str = "/v1/sync/status";
const DUPLICATES: &str = "jangkau_changes_duplicate_total";

crate::both_backends!(
    a_request_cut_in_the_middle_is_sent_again,
    an_answer_cut_in_its_head_is_asked_again_and_the_push_counted_once,
    a_truncated_answer_is_asked_again_and_the_push_counted_once,
    slow_answers_are_waited_for,
    a_gateway_error_before_the_server_is_retried,
    a_gateway_error_after_the_server_did_the_work_is_a_duplicate_not_a_second_copy,
    a_request_delivered_twice_is_stored_once_and_answered_duplicate,
    a_request_slower_than_the_timeout_is_sent_again_and_stored_once,
    a_flaky_link_loses_nothing_and_applies_nothing_twice,
    cuts_at_random_points_of_random_requests_lose_nothing,
);

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        position: None,
        measured_by: None,
        ..Default::default()
    }
}

/// `n` households of one adult each, with a weighing: 3 changes per household.
fn record(store: &mut field_core::Store, tag: &str, n: usize) {
    let today = store.today().unwrap().format("%Y-%m-%d").to_string();
    for i in 0..n {
        let reg = store
            .register_household(
                &household(&format!("Keluarga {tag} {i}")),
                &[person(&format!("Kepala {tag} {i}"), "male", "1980-04-04")],
                &[],
            )
            .unwrap();
        store
            .save_measurement(reg.persons[0], None, &today, &weight(55.0 + i as f64))
            .unwrap();
    }
}

fn pending_keys(store: &field_core::Store) -> BTreeSet<Key> {
    store
        .pending_changes(10_000)
        .unwrap()
        .iter()
        .map(key)
        .collect()
}

/// What one fault should cost.
struct Expect {
    /// Retries in each phase: 1 when the fault makes the request fail, else 0.
    retries_per_phase: u32,
    /// Changes the server answered `duplicate` (a batch of 3 it had already stored).
    duplicates: u64,
    /// Whether these are exact; else lower bounds (a short request timeout on a busy machine
    /// may also cut a request that was not held back).
    exact: bool,
}

/// Device A (batches of 3, pages of 4) records 12 changes offline while B's 9 are on the
/// server; A syncs with `push` on its 2nd push and `pull` on its 2nd pull page (4 of B's
/// changes, with more after it); then, with the faults gone, both sync again and everything
/// is checked.
async fn one_fault_per_phase(
    backend: Backend,
    push: Fault,
    pull: Fault,
    expect: Expect,
    request_timeout: Duration,
) {
    let server = Server::start_on(backend).await;
    let proxy = Proxy::start(server.addr, LinkShape::loopback())
        .await
        .unwrap();
    let mut a = Device::enrol_at(
        &server,
        &proxy.url(),
        "kader.mawar",
        opts(),
        client_with(|c| {
            c.push_batch = 3;
            c.pull_limit = 4;
            c.pull_limit_max = 4;
            c.request_timeout = request_timeout;
            c.backoff.max_retries = 5;
        }),
    )
    .await;
    let mut b = Device::enrol_at(
        &server,
        &proxy.url(),
        "kader.mawar2",
        opts(),
        client_with(|c| {
            c.pull_limit = 4;
            c.pull_limit_max = 4;
        }),
    )
    .await;
    // B's 9 changes (3 households, each with one person and a weighing) are on the server:
    // more than two of A's pages. Its own changes are no news to B: status, one push, no pull.
    record(&mut b.store, "B", 3);
    let mut made = pending_keys(&b.store);
    assert_eq!(made.len(), 9);
    let r = b.sync().await;
    assert_eq!((r.sent, r.received), (9, 0), "{r:?}");
    assert_eq!(
        (r.push_requests, r.pull_requests, r.requests),
        (1, 0, 2),
        "{r:?}"
    );
    // A's 12, offline.
    record(&mut a.store, "A", 4);
    let mine = pending_keys(&a.store);
    assert_eq!(mine.len(), 12);
    made.extend(mine);

    proxy.reset_stats();
    proxy.set_faults(
        FaultPlan::new()
            .on(PUSH, When::Nth(2), push)
            .on(PULL, When::Nth(2), pull),
    );
    let r = a.client.sync(&mut a.store, Some(PASSWORD)).await;
    let r = r.unwrap_or_else(|e| panic!("{push:?}/{pull:?}: {e}"));
    // 12 sent in 4 batches (counted once, whatever the server answered the retry). B's 9
    // received in 3 pages of 4, 4 and 1 (the faulted 2nd page a full one with more after
    // it); A's own 12, pushed just before, are left out of the pages and do not count
    // towards their limit. Each fault costs what it should.
    assert_eq!(
        (r.sent, r.rejected, r.restamped, r.waiting),
        (12, 0, 0, 0),
        "{r:?}"
    );
    assert_eq!((r.push_requests, r.pull_requests), (4, 3), "{r:?}");
    assert_eq!((r.received, r.skipped), (9, 0), "{r:?}");
    if expect.exact {
        assert_eq!(r.retries, 2 * expect.retries_per_phase, "{r:?}");
    } else {
        assert!(r.retries >= 2 * expect.retries_per_phase, "{r:?}");
    }
    assert_eq!(r.requests, 1 + 4 + 3 + r.retries, "{r:?}");
    assert_eq!(a.sleeper.delays().len() as u32, r.retries);
    // What crossed the proxy: exactly the tablet's requests, both faults applied, each
    // retry sent again in its own phase.
    let st = proxy.stats();
    assert_eq!(st.faults_applied, 2, "{st:?}");
    assert_eq!(st.requests, u64::from(r.requests), "{st:?}");
    let count = |p: &str| st.paths.iter().filter(|x| *x == p).count() as u32;
    let (pushes, pulls) = (count(PUSH), count(PULL));
    if expect.exact {
        let retry = expect.retries_per_phase as usize;
        let mut want = vec![STATUS];
        want.extend([PUSH].repeat(4 + retry));
        want.extend([PULL].repeat(3 + retry));
        assert_eq!(st.paths, want, "{st:?}");
    } else {
        assert_eq!(st.paths[0], STATUS, "{st:?}");
        assert!(pushes > 4 && pulls > 3, "{st:?}");
        assert_eq!(1 + pushes + pulls, r.requests, "{st:?}");
    }

    // The faults stop: A is up to date in one request (its own changes after its cursor are
    // no news to it); B gets A's 12 and none of its own 9 in 3 pages of 4 (B had not pulled
    // before), then is up to date in one request too.
    proxy.set_faults(FaultPlan::new());
    let r = a.sync().await;
    assert!(r.up_to_date && r.requests == 1, "{r:?}");
    let r = b.sync().await;
    assert_eq!(
        (r.received, r.sent, r.waiting, r.skipped),
        (12, 0, 0, 0),
        "{r:?}"
    );
    assert_eq!(
        (r.push_requests, r.pull_requests, r.requests, r.retries),
        (0, 3, 4, 0),
        "{r:?}"
    );
    let r = b.sync().await;
    assert!(r.up_to_date && r.requests == 1, "{r:?}");

    if expect.exact {
        expect_metric(&server, DUPLICATES, expect.duplicates).await;
    } else {
        at_least_metric(&server, DUPLICATES, expect.duplicates).await;
    }
    assert_converged(&server, &made, &[&a.store, &b.store]).await;
    server.stop().await;
}

const TIMEOUT: Duration = Duration::from_secs(20);

async fn a_request_cut_in_the_middle_is_sent_again(backend: Backend) {
    // The server never sees a whole request: nothing to count twice.
    let e = Expect {
        retries_per_phase: 1,
        duplicates: 0,
        exact: true,
    };
    one_fault_per_phase(
        backend,
        Fault::DropMidRequest,
        Fault::DropMidRequest,
        e,
        TIMEOUT,
    )
    .await;
}

async fn an_answer_cut_in_its_head_is_asked_again_and_the_push_counted_once(backend: Backend) {
    // The server stored the batch; the retry is answered `duplicate`.
    let e = Expect {
        retries_per_phase: 1,
        duplicates: 3,
        exact: true,
    };
    one_fault_per_phase(
        backend,
        Fault::DropMidResponse,
        Fault::DropMidResponse,
        e,
        TIMEOUT,
    )
    .await;
}

async fn a_truncated_answer_is_asked_again_and_the_push_counted_once(backend: Backend) {
    let e = Expect {
        retries_per_phase: 1,
        duplicates: 3,
        exact: true,
    };
    one_fault_per_phase(
        backend,
        Fault::TruncateBody,
        Fault::TruncateBody,
        e,
        TIMEOUT,
    )
    .await;
}

async fn slow_answers_are_waited_for(backend: Backend) {
    let slow = Fault::Delay(Duration::from_millis(300));
    let e = Expect {
        retries_per_phase: 0,
        duplicates: 0,
        exact: true,
    };
    one_fault_per_phase(backend, slow, slow, e, TIMEOUT).await;
}

async fn a_gateway_error_before_the_server_is_retried(backend: Backend) {
    let e = Expect {
        retries_per_phase: 1,
        duplicates: 0,
        exact: true,
    };
    one_fault_per_phase(backend, Fault::Answer(502), Fault::Answer(503), e, TIMEOUT).await;
}

async fn a_gateway_error_after_the_server_did_the_work_is_a_duplicate_not_a_second_copy(
    backend: Backend,
) {
    let e = Expect {
        retries_per_phase: 1,
        duplicates: 3,
        exact: true,
    };
    one_fault_per_phase(
        backend,
        Fault::AnswerAfterForward(503),
        Fault::AnswerAfterForward(502),
        e,
        TIMEOUT,
    )
    .await;
}

async fn a_request_delivered_twice_is_stored_once_and_answered_duplicate(backend: Backend) {
    // The second copy of the push is answered `duplicate` (and that is the answer the tablet
    // gets); no retry is needed.
    let e = Expect {
        retries_per_phase: 0,
        duplicates: 3,
        exact: true,
    };
    one_fault_per_phase(backend, Fault::Duplicate, Fault::Duplicate, e, TIMEOUT).await;
}

async fn a_request_slower_than_the_timeout_is_sent_again_and_stored_once(backend: Backend) {
    // The tablet gives up after 1 s and sends the batch again; the held-back original reaches
    // the server afterwards and is answered `duplicate` to nobody.
    let slow = Fault::Delay(Duration::from_millis(1_500));
    let e = Expect {
        retries_per_phase: 1,
        duplicates: 3,
        exact: false,
    };
    one_fault_per_phase(backend, slow, slow, e, Duration::from_secs(1)).await;
}

/// Every kind of fault at random (about one request in three faulted, 2 retries per request) on every sync call of
/// two tablets recording and syncing in turns; then a calm link, and the exact end state.
async fn a_flaky_link_loses_nothing_and_applies_nothing_twice(backend: Backend) {
    let server = Server::start_on(backend).await;
    let proxy = Proxy::start(server.addr, LinkShape::loopback())
        .await
        .unwrap();
    let small = || {
        client_with(|c| {
            c.push_batch = 4;
            c.pull_limit = 5;
            // Few retries, so that some runs give up and later ones finish their work.
            c.backoff.max_retries = 2;
        })
    };
    let mut a = Device::enrol_at(&server, &proxy.url(), "kader.mawar", opts(), small()).await;
    let mut b = Device::enrol_at(&server, &proxy.url(), "kader.mawar2", opts(), small()).await;
    let faults = [
        Fault::DropMidRequest,
        Fault::DropMidResponse,
        Fault::TruncateBody,
        Fault::Delay(Duration::from_millis(20)),
        Fault::Answer(502),
        Fault::Answer(503),
        Fault::AnswerAfterForward(502),
        Fault::AnswerAfterForward(503),
        Fault::Duplicate,
    ];
    let mut plan = FaultPlan::new();
    for (i, f) in faults.into_iter().enumerate() {
        plan = plan.on(
            "/v1/sync/",
            When::Random {
                probability: 0.05,
                seed: 11 + i as u64,
            },
            f,
        );
    }
    proxy.set_faults(plan);
    let mut made = BTreeSet::new();
    let (mut failed_runs, mut runs) = (0, 0);
    for round in 0..5 {
        record(&mut a.store, &format!("A{round}"), 2);
        record(&mut b.store, &format!("B{round}"), 1);
        made.extend(pending_keys(&a.store));
        made.extend(pending_keys(&b.store));
        for d in [&mut a, &mut b] {
            runs += 1;
            match d.client.sync(&mut d.store, Some(PASSWORD)).await {
                Ok(r) => assert_eq!(r.rejected, 0, "{r:?}"),
                Err(e) => {
                    // Only failures that pass; the next run finishes the work.
                    assert!(
                        matches!(e, SyncError::Network(_) | SyncError::Server { .. }),
                        "{e:?}"
                    );
                    failed_runs += 1;
                }
            }
        }
    }
    let st = proxy.stats();
    println!(
        "flaky link: {} requests, {} faulted, {failed_runs} of {runs} runs gave up",
        st.requests, st.faults_applied
    );
    assert!(st.faults_applied >= 10, "{st:?}");
    assert!(failed_runs >= 1, "the seeds make some runs give up");

    proxy.set_faults(FaultPlan::new());
    for _ in 0..2 {
        a.sync().await;
        b.sync().await;
    }
    assert!(a.sync().await.up_to_date);
    assert!(b.sync().await.up_to_date);
    assert_eq!(made.len(), 5 * 9);
    assert_converged(&server, &made, &[&a.store, &b.store]).await;
    server.stop().await;
}

/// The seed of a random-fault run: `JANGKAU_FAULT_SEED`, else the clock; printed, so that a
/// failure can be replayed.
fn fault_seed(test: &str) -> u64 {
    let seed = std::env::var("JANGKAU_FAULT_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("{test}: seed {seed} (repeat with JANGKAU_FAULT_SEED={seed})");
    seed
}

/// Random requests (status, push, pull) of two tablets recording and syncing in turns are
/// cut at random points, of the request (the server never gets it whole) or of its answer
/// (the server did the work, the tablet never heard), anywhere in the head or the body. Runs
/// may give up; a calm link then finishes the work, and the end state is exact: every change
/// once everywhere, nothing waiting.
async fn cuts_at_random_points_of_random_requests_lose_nothing(backend: Backend) {
    let seed = fault_seed("cuts_at_random_points_of_random_requests_lose_nothing");
    let server = Server::start_on(backend).await;
    let proxy = Proxy::start(server.addr, LinkShape::loopback())
        .await
        .unwrap();
    let small = || {
        client_with(|c| {
            c.push_batch = 3;
            c.pull_limit = 4;
            c.backoff.max_retries = 3;
        })
    };
    let mut a = Device::enrol_at(&server, &proxy.url(), "kader.mawar", opts(), small()).await;
    let mut b = Device::enrol_at(&server, &proxy.url(), "kader.mawar2", opts(), small()).await;
    proxy.set_faults(FaultPlan::new().on(
        "/v1/sync/",
        When::Random {
            probability: 0.3,
            seed,
        },
        Fault::RandomCut,
    ));
    let mut made = BTreeSet::new();
    let (mut failed_runs, mut runs) = (0, 0);
    for round in 0..4 {
        record(&mut a.store, &format!("A{round}"), 2);
        record(&mut b.store, &format!("B{round}"), 1);
        made.extend(pending_keys(&a.store));
        made.extend(pending_keys(&b.store));
        for d in [&mut a, &mut b] {
            runs += 1;
            match d.client.sync(&mut d.store, Some(PASSWORD)).await {
                Ok(r) => assert_eq!(r.rejected, 0, "seed {seed}: {r:?}"),
                Err(e) => {
                    assert!(
                        matches!(e, SyncError::Network(_) | SyncError::Server { .. }),
                        "seed {seed}: {e:?}"
                    );
                    failed_runs += 1;
                }
            }
        }
    }
    let st = proxy.stats();
    println!(
        "random cuts (seed {seed}): {} requests, {} cut, {failed_runs} of {runs} runs gave up; cuts: {:?}",
        st.requests, st.faults_applied, st.faults
    );
    assert!(st.faults_applied >= 3, "seed {seed}: {st:?}");
    assert!(
        st.faults
            .iter()
            .all(|(_, _, f)| matches!(f, Fault::CutRequestAt(_) | Fault::CutResponseAt(_))),
        "seed {seed}: {st:?}"
    );

    proxy.set_faults(FaultPlan::new());
    for _ in 0..2 {
        a.sync().await;
        b.sync().await;
    }
    assert!(a.sync().await.up_to_date, "seed {seed}");
    assert!(b.sync().await.up_to_date, "seed {seed}");
    assert_eq!(made.len(), 4 * 9, "seed {seed}");
    assert_converged(&server, &made, &[&a.store, &b.store]).await;
    server.stop().await;
}
