//! A real district server on 127.0.0.1:0 (embedded SQLite, the Belu demo district with its
//! demo family, a second kader of Posyandu Mawar), and an [`AppCore`] on a temporary data
//! directory whose events are recorded.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use district_server::auth::PasswordCost;
use district_server::config::{Config, DatabaseUrl, RateLimits};
use district_server::{AppState, Storage};
use field_core::KdfParams;
use jangkau_app_lib::core::{AppCore, CoreConfig, EnrolInput, EventSink};
use jangkau_app_lib::settings::DataDir;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = district_server::admin::DEMO_PASSWORD;
pub const PIN: &str = "258014";
pub const MAWAR: &str = "53.04.05.2001.P01";

pub struct Server {
    pub store: Arc<dyn Storage>,
    /// The server's counters (requests by route, changes pulled).
    pub metrics: Arc<district_server::metrics::Metrics>,
    pub addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("district.db").to_string_lossy().to_string();
        let store = district_server::storage::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, true)
            .await
            .unwrap();
        district_server::admin::add_user(
            store.as_ref(),
            "kader.mawar2",
            "Kader Mawar Dua (test)",
            sync_protocol::Role::Kader,
            MAWAR,
            PASSWORD,
            PasswordCost::TEST,
        )
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
        let state = AppState::new(store.clone(), cfg).unwrap();
        let metrics = state.metrics.clone();
        let app = district_server::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = district_server::http::serve_listener(
                listener,
                app,
                async move {
                    let _ = rx.await;
                },
                Duration::from_secs(2),
            )
            .await;
        });
        Server {
            store,
            metrics,
            addr,
            _dir: dir,
            stop: Some(stop),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn code(&self, username: &str) -> String {
        district_server::admin::issue_enrol_code(self.store.as_ref(), username, 24)
            .await
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Events the core sent, in order.
#[derive(Clone, Default)]
pub struct Events(pub Arc<Mutex<Vec<(String, Value)>>>);

impl Events {
    pub fn sink(&self) -> EventSink {
        let log = self.0.clone();
        Arc::new(move |name: &str, payload: Value| {
            log.lock().unwrap().push((name.to_string(), payload));
        })
    }

    pub fn all(&self) -> Vec<(String, Value)> {
        self.0.lock().unwrap().clone()
    }

    pub fn named(&self, name: &str) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// Waits (at most 30 s) until `n` events called `name` were sent; returns the last.
    pub async fn wait_for(&self, name: &str, n: usize) -> Value {
        let start = Instant::now();
        loop {
            let got = self.named(name);
            if got.len() >= n {
                return got[n - 1].clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waited 30 s for {n} {name} events; got {:?}",
                self.all()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub struct App {
    pub core: Arc<AppCore>,
    pub events: Events,
    pub dir: tempfile::TempDir,
}

/// An app on a fresh data directory, with cheap key derivation (tests only).
pub fn app(suggested_server: Option<String>) -> App {
    let dir = tempfile::tempdir().unwrap();
    app_in(dir, suggested_server)
}

pub fn app_in(dir: tempfile::TempDir, suggested_server: Option<String>) -> App {
    app_configured(dir, suggested_server, |_| {})
}

/// [`app_in`] with its configuration changed by `f` after the tests' defaults.
pub fn app_configured(
    dir: tempfile::TempDir,
    suggested_server: Option<String>,
    f: impl FnOnce(&mut CoreConfig),
) -> App {
    let mut cfg = CoreConfig::new(DataDir::new(dir.path().join("data")), suggested_server);
    cfg.open = cfg.open.with_kdf(KdfParams::INSECURE_FOR_TESTS);
    // Retries of a failed request without the real waits (1 s, 2 s, ...).
    cfg.sync.backoff.initial = Duration::from_millis(10);
    cfg.sync.backoff.max = Duration::from_millis(50);
    f(&mut cfg);
    let events = Events::default();
    let core = Arc::new(AppCore::new(cfg, events.sink()));
    App { core, events, dir }
}

pub fn enrol_input(server: &Server, code: String, username: &str) -> EnrolInput {
    serde_json::from_value(serde_json::json!({
        "server_url": server.url(),
        "code": code,
        "username": username,
        "password": PASSWORD,
        "pin": PIN,
        "device_name": "Tablet uji",
    }))
    .unwrap()
}

/// Enrols kader.mawar and waits for the first sync (started at unlock) to finish.
pub async fn enrolled(server: &Server) -> App {
    let a = app(Some(server.url()));
    let code = server.code("kader.mawar").await;
    let user = a
        .core
        .enrol(enrol_input(server, code, "kader.mawar"))
        .await
        .unwrap();
    assert_eq!(user.username, "kader.mawar");
    let status = a.events.wait_for("sync://finished", 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    a
}
