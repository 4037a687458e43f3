//! A shared tablet (issue #12, item 4), device and server together: the kader's session
//! pushes the bidan's changes only when they were stamped while the bidan was the one logged
//! in on the tablet; the others wait in the outbox (`awaits_author`) and go with the bidan's
//! own sync. Nothing is lost, and nothing stops the kader's own work from syncing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::Store;

const BIDAN_PIN: &str = "739154";

fn household_in(posyandu: &str, head: &str) -> field_core::HouseholdInput {
    let mut h = household(head);
    h.posyandu = posyandu.into();
    h
}

/// The heads of the households the server holds for `scope`.
async fn heads(server: &Server, scope: &str) -> Vec<String> {
    let mut out: Vec<String> = server
        .changes(scope)
        .await
        .iter()
        .filter_map(|c| c.body.get("head_name")?.as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

async fn another_users_changes_wait_for_her_own_session(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    let kdf = field_core::KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
    a.client
        .add_user(&mut a.store, "bidan.naitimu", PASSWORD, BIDAN_PIN, kdf)
        .await
        .unwrap();
    // The bidan works while she is the one logged in: a household in Melati (her area).
    let mut bidan = Store::unlock(&a.path, "bidan.naitimu", BIDAN_PIN, opts()).unwrap();
    bidan
        .register_household(
            &household_in(MELATI, "Keluarga Seran"),
            &[person("Maria Seran", "female", "1990-02-01")],
            &[],
        )
        .unwrap();
    // The kader's sync carries it (her session, the bidan's window).
    let r = a.sync().await;
    assert_eq!((r.sent, r.rejected, r.waiting), (2, 0, 0), "{r:?}");
    assert_eq!(heads(&server, MELATI).await, ["Keluarga Seran"]);

    // The kader logs in again: the bidan's window closes. What the bidan records now (she
    // unlocks offline, no login) is not the kader's session's to push.
    a.client.login(&mut a.store, PASSWORD).await.unwrap();
    bidan
        .register_household(
            &household_in(MELATI, "Keluarga Nahak"),
            &[person("Yosef Nahak", "male", "1985-05-05")],
            &[],
        )
        .unwrap();
    // The kader's own work after it still goes.
    a.store
        .register_household(
            &household("Keluarga Bere"),
            &[person("Ana Bere", "female", "1995-03-03")],
            &[],
        )
        .unwrap();
    let r = a.sync().await;
    assert_eq!((r.sent, r.rejected, r.waiting), (2, 0, 2), "{r:?}");
    assert_eq!(heads(&server, MELATI).await, ["Keluarga Seran"]);
    assert_eq!(heads(&server, MAWAR).await, ["Keluarga Bere"]);
    // Kept on the tablet, not refused: the household is still there, and the next sync of
    // the kader neither fails nor loses it.
    assert!(a.store.rejected_changes().unwrap().is_empty());
    let r = a.sync().await;
    assert_eq!((r.sent, r.rejected, r.waiting), (0, 0, 2), "{r:?}");
    assert_eq!(View::of_store(&a.store).within(&[MELATI]).records.len(), 4);

    // The bidan's own sync delivers them.
    let r = a
        .client
        .sync(&mut bidan, Some(PASSWORD))
        .await
        .expect("the bidan's sync");
    assert_eq!((r.sent, r.rejected, r.waiting), (2, 0, 0), "{r:?}");
    assert_eq!(
        heads(&server, MELATI).await,
        ["Keluarga Nahak", "Keluarga Seran"]
    );
    let r = a.sync().await;
    assert_eq!(r.waiting, 0, "{r:?}");
    server.stop().await;
}

both_backends!(another_users_changes_wait_for_her_own_session);
