//! Issue #12 item 5: cheap or unauthenticated requests cannot grow the server's memory. The
//! real `jangkau-server serve` process runs over either backend; its resident memory
//! (`VmRSS`) and peak (`VmHWM`) are read from `/proc/<pid>/status` around the requests.

use crate::common::{Backend, TestDb};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use sync_protocol::codec::{Encoding, compress};

both_backends!(cheap_requests_do_not_grow_server_memory);

/// `VmRSS` and `VmHWM` of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn cheap_requests_do_not_grow_server_memory(b: Backend) {
    let db = TestDb::new(b).await;
    district_server::admin::demo(
        db.store.as_ref(),
        district_server::auth::PasswordCost::TEST,
        24,
        false,
    )
    .await
    .unwrap();
    let code = district_server::admin::issue_enrol_code(db.store.as_ref(), "kader.mawar", 1)
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("server.toml");
    std::fs::write(
        &cfg,
        "[rate_limits]\nenrol_per_minute = 100000\nlogin_per_minute = 100000\n\
         [password_cost]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_jangkau-server"))
        .args(["--config", &cfg.to_string_lossy(), "serve"])
        .env("JANGKAU_DATABASE_URL", &db.url)
        .env("JANGKAU_LISTEN", format!("127.0.0.1:{port}"))
        .env("JANGKAU_LOG", "warn")
        .env_remove("JANGKAU_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let served = Served(child);
    let pid = served.0.id();
    let base = format!("http://127.0.0.1:{port}");
    // The workspace's reqwest is built without a default TLS provider (field-core gives it
    // one explicitly); this test's process has no server in it to install ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");
    let post = |path: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>| {
        let mut req = http
            .post(format!("{base}{path}"))
            .header("Jangkau-Protocol", "1")
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let enrolled = post(
        "/v1/enrol",
        serde_json::to_vec(
            &json!({"v":1,"code":code,"device_name":"Tablet","app_version":"0.1.0"}),
        )
        .unwrap(),
        vec![],
    )
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let enrolled: Value = serde_json::from_slice(&enrolled).unwrap();
    let device = format!("Device {}", enrolled["device_token"].as_str().unwrap());
    // Warm up: a few ordinary logins, so that lazily made buffers exist before measuring.
    for _ in 0..5 {
        let r = post(
            "/v1/login",
            serde_json::to_vec(&json!({"v":1,"username":"kader.mawar","secret":"x"})).unwrap(),
            vec![("Authorization", device.clone())],
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let (rss0, hwm0) = memory_kib(pid);

    // 1. Twenty logins, each with a different 15 MiB username in a few kB of zstd.
    for i in 0..20u8 {
        let body = format!(
            r#"{{"v":1,"username":"{}{i}","secret":"x"}}"#,
            "u".repeat(15 << 20)
        );
        let z = compress(body.as_bytes(), Encoding::Zstd).unwrap();
        let r = post(
            "/v1/login",
            z,
            vec![
                ("Authorization", device.clone()),
                ("Content-Encoding", "zstd".into()),
            ],
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 413);
    }
    let (rss1, _) = memory_kib(pid);

    // 2. Sixteen concurrent enrolment bodies of under 2 kB that expand to 16 MiB.
    let bomb = format!(
        r#"{{"v":1,"code":"AAA-BBB-CCC","device_name":"{}","app_version":"1"}}"#,
        "x".repeat((16 << 20) - 100)
    );
    let z = compress(bomb.as_bytes(), Encoding::Zstd).unwrap();
    assert!(z.len() < 2_048, "{}", z.len());
    let mut tasks = Vec::new();
    for _ in 0..16 {
        tasks.push(post(
            "/v1/enrol",
            z.clone(),
            vec![("Content-Encoding", "zstd".into())],
        ));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(matches!(r.status().as_u16(), 400 | 413), "{}", r.status());
    }
    let (rss2, hwm2) = memory_kib(pid);
    println!(
        "{b:?}: VmRSS {rss0} KiB before, {rss1} KiB after 20 logins of 15 MiB usernames, \
         {rss2} KiB after 16 concurrent 16 MiB enrol bombs; VmHWM {hwm0} -> {hwm2} KiB"
    );
    // Today's code kept ~17 MiB per such login and peaked ~480 MiB higher on the bombs.
    assert!(
        rss1.saturating_sub(rss0) < 16 * 1024,
        "logins grew VmRSS by {} KiB",
        rss1 - rss0
    );
    assert!(
        hwm2.saturating_sub(hwm0) < 48 * 1024,
        "the bombs raised VmHWM by {} KiB",
        hwm2 - hwm0
    );
    drop(served);
    db.finish().await;
}
