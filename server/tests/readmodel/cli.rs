//! `jangkau-server reindex` as a process: progress on stderr, a rebuild cut short resumed;
//! and a server start building a behind read model (`ensure_current`).

use crate::snapshot;
use district_server::readmodel;
use std::process::Command;

fn reindex(db: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_jangkau-server"))
        .arg("reindex")
        .args(args)
        .env("JANGKAU_DATABASE_URL", db)
        .env_remove("JANGKAU_CONFIG")
        .env("JANGKAU_LOG", "warn")
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_command_resumes_and_shows_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("r.db");
    let store = district_server::storage::open(&db.to_string_lossy())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    // The demo's six fictional records, pushed like a tablet's.
    district_server::admin::demo(
        store.as_ref(),
        district_server::auth::PasswordCost::TEST,
        24,
        true,
    )
    .await
    .unwrap();
    let incremental = snapshot(store.as_ref()).await;
    assert_eq!(incremental["persons"].len(), 2);

    // A rebuild cut short after two changes (as by a crash).
    store.read_model_reset().await.unwrap();
    store.read_model_step(2).await.unwrap();
    let (ok, out, err) = reindex(&db, &["--batch", "1"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("rebuild resumed and finished: 4 change(s) merged"),
        "{out}"
    );
    assert!(
        err.contains("reindex:") && err.contains("of 6"),
        "progress: {err}"
    );
    assert_eq!(snapshot(store.as_ref()).await, incremental);

    // Again: a new rebuild from the first change.
    let (ok, out, err) = reindex(&db, &[]);
    assert!(ok, "{err}");
    assert!(out.contains("rebuilt: 6 change(s) merged"), "{out}");
    assert_eq!(snapshot(store.as_ref()).await, incremental);

    // A start with a read model behind the log builds it before serving.
    store.read_model_reset().await.unwrap();
    assert!(store.read_model_state().await.unwrap().behind());
    readmodel::ensure_current(store.as_ref()).await.unwrap();
    assert!(!store.read_model_state().await.unwrap().behind());
    assert_eq!(snapshot(store.as_ref()).await, incremental);
}
