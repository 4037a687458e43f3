//! `jangkau sync --pull-limit N` and `--retry-delay-ms MS` (used by the system crash tests to
//! cut pulls into many pages and to retry a restarting server without waiting seconds).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};

use district_server::auth::PasswordCost;
use district_server::config::{Config, DatabaseUrl, RateLimits};
use field_core::sync::{Enrolment, SyncClient, SyncConfig};
use field_core::{KdfParams, OpenOptions};
use serde_json::Value;

const PIN: &str = "258014";
const PASSWORD: &str = district_server::admin::DEMO_PASSWORD;

fn jangkau(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jangkau"))
        .args(args)
        .env("JANGKAU_PIN", PIN)
        .env("JANGKAU_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run jangkau")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_limit_and_retry_delay_reach_the_sync_client() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("district.db").to_string_lossy().to_string();
    let store = district_server::storage::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let demo = district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let cfg = Config {
        database_url: DatabaseUrl(url),
        password_cost: PasswordCost::TEST,
        rate_limits: RateLimits {
            enrol_per_minute: 1000,
            login_per_minute: 1000,
        },
        ..Config::default()
    };
    let second = district_server::admin::issue_enrol_code(store.as_ref(), "kader.mawar", 24)
        .await
        .unwrap();
    let app = district_server::router(district_server::AppState::new(store, cfg).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = district_server::http::serve_listener(
            listener,
            app,
            async move {
                let _ = stopped.await;
            },
            std::time::Duration::from_secs(1),
        )
        .await;
    });

    // Two tablets, enrolled in process with cheap Argon2id parameters (the binary unlocks
    // with them).
    let mut tablets = Vec::new();
    for (name, code) in [("one", demo.kader_code), ("two", second)] {
        let data = dir.path().join(name);
        std::fs::create_dir_all(&data).unwrap();
        let e = Enrolment {
            server_url: server.clone(),
            code,
            device_name: format!("Tablet {name}"),
            username: "kader.mawar".into(),
            secret: PASSWORD.to_string().into(),
            pin: PIN.to_string().into(),
        };
        let opts = OpenOptions::default().with_kdf(KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        });
        drop(
            SyncClient::new(SyncConfig::default())
                .enrol(&data.join("jangkau.db"), &e, opts)
                .await
                .unwrap(),
        );
        tablets.push(data.to_string_lossy().to_string());
    }
    let (data, other) = (&tablets[0], &tablets[1]);
    let csv = dir.path().join("hh.csv");
    std::fs::write(
        &csv,
        "household,head_name,name,sex,birth_date\n1,Ana,Ana,P,1990-01-01\n1,,Budi,L,2020-01-01\n\
         1,,Cici,P,2021-01-01\n",
    )
    .unwrap();
    let out = jangkau(&["import", "--data", data, csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // One tablet sends; the other receives in pages of 2.
    let sync = |data: &str, extra: &[&str]| {
        let mut args = vec!["sync", "--data", data, "--json", "--quiet"];
        args.extend_from_slice(extra);
        let out = tokio::task::block_in_place(|| jangkau(&args));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let r = sync(data, &[]);
    let sent = r["sent"].as_u64().unwrap();
    assert!(sent >= 4, "{r}");
    let r = sync(other, &["--pull-limit", "2"]);
    assert_eq!(r["received"].as_u64(), Some(sent), "{r}");
    assert_eq!(r["pull_requests"].as_u64(), Some(sent.div_ceil(2)), "{r}");

    // The server is gone: 3 retries, the first after 20 ms ± 50 %, not 1 s.
    let _ = stop.send(());
    let _ = task.await;
    let out = tokio::task::block_in_place(|| {
        jangkau(&[
            "sync",
            "--data",
            data,
            "--retries",
            "3",
            "--retry-delay-ms",
            "20",
        ])
    });
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("sync: retry 1 in 0.0 s"), "{err}");
    assert!(err.contains("sync: retry 3 in "), "{err}");
    assert!(!err.contains("retry 4"), "{err}");
}
