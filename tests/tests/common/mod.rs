//! Harness: a real district server on 127.0.0.1:0 over a fresh embedded SQLite database with
//! the Belu demo district, and devices (field-core stores in temporary directories) enrolled
//! through the real API with field-core's sync client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use district_server::auth::PasswordCost;
use district_server::config::{Config, DatabaseUrl, RateLimits};
use district_server::{AppState, Storage};
use field_core::sync::{Backoff, Enrolment, RecordingSleeper, SyncClient, SyncConfig};
use field_core::{HouseholdInput, KdfParams, OpenOptions, PersonInput, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Posyandu Mawar of the demo district.
pub const MAWAR: &str = "53.04.05.2001.P01";
pub const PASSWORD: &str = district_server::admin::DEMO_PASSWORD;
pub const PIN: &str = "258014";

pub struct Server {
    pub tls: bool,
    pub store: Arc<dyn Storage>,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// The demo district on SQLite, plus a second kader of Posyandu Mawar.
    pub async fn start() -> Server {
        Self::start_with(false).await
    }

    /// The same over HTTPS (rustls, the test certificate in `tests/data`).
    pub async fn start_tls() -> Server {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("district.db").to_string_lossy().to_string();
        let store = district_server::storage::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, false)
            .await
            .expect("demo district");
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
        .expect("second kader");
        let cfg = Config {
            database_url: DatabaseUrl(url),
            password_cost: PasswordCost::TEST,
            rate_limits: RateLimits {
                enrol_per_minute: 1000,
                login_per_minute: 1000,
            },
            ..Config::default()
        };
        let state = AppState::new(store.clone(), cfg).expect("state");
        let app = district_server::router(state);
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = rx.await;
        };
        let (addr, task) = if tls {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
            let tls = district_server::config::TlsConfig {
                cert: data.join("localhost.cert.pem"),
                key: data.join("localhost.key.pem"),
            };
            let task = tokio::spawn(async move {
                let _ = district_server::http::serve_tls(
                    listener,
                    &tls,
                    app,
                    shutdown,
                    Duration::from_secs(2),
                )
                .await;
            });
            (addr, task)
        } else {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let task = tokio::spawn(async move {
                let _ = district_server::http::serve_listener(
                    listener,
                    app,
                    shutdown,
                    Duration::from_secs(2),
                )
                .await;
            });
            (addr, task)
        };
        Server {
            tls,
            store,
            addr,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The test certificate, as the district CA a client trusts.
    pub fn ca_pem() -> Vec<u8> {
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/district-ca.cert.pem"))
            .expect("test certificate")
    }

    pub async fn code(&self, username: &str) -> String {
        district_server::admin::issue_enrol_code(self.store.as_ref(), username, 24)
            .await
            .expect("enrolment code")
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// A client whose retries do not wait (the delays are recorded).
pub fn client() -> (SyncClient, RecordingSleeper) {
    client_with(|_| {})
}

pub fn client_with(tweak: impl FnOnce(&mut SyncConfig)) -> (SyncClient, RecordingSleeper) {
    let sleeper = RecordingSleeper::default();
    let mut cfg = SyncConfig {
        app_version: "0.1.0-test".into(),
        request_timeout: Duration::from_secs(20),
        backoff: Backoff {
            max_retries: 3,
            ..Backoff::default()
        },
        ..SyncConfig::default()
    };
    tweak(&mut cfg);
    (
        SyncClient::new(cfg).with_sleeper(Arc::new(sleeper.clone())),
        sleeper,
    )
}

/// One enrolled tablet.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
    pub client: SyncClient,
    pub sleeper: RecordingSleeper,
    pub username: String,
}

pub fn opts() -> OpenOptions {
    // Cheap Argon2id for tests only (KdfParams::INSECURE_FOR_TESTS needs field-core's
    // test-support feature).
    OpenOptions::default().with_kdf(KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    })
}

impl Device {
    pub async fn enrol(server: &Server, username: &str) -> Device {
        Self::enrol_with(server, username, opts(), client()).await
    }

    pub async fn enrol_with(
        server: &Server,
        username: &str,
        opts: OpenOptions,
        client: (SyncClient, RecordingSleeper),
    ) -> Device {
        Self::enrol_at(server, &server.url(), username, opts, client).await
    }

    /// Enrols through `url` (a proxy in front of `server`).
    pub async fn enrol_at(
        server: &Server,
        url: &str,
        username: &str,
        opts: OpenOptions,
        (client, sleeper): (SyncClient, RecordingSleeper),
    ) -> Device {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("jangkau.db");
        let e = Enrolment {
            server_url: url.to_string(),
            code: server.code(username).await,
            device_name: format!("Tablet {username}"),
            username: username.to_string(),
            secret: PASSWORD.to_string().into(),
            pin: PIN.to_string().into(),
        };
        let store = client.enrol(&path, &e, opts).await.expect("enrol");
        Device {
            dir,
            path,
            store,
            client,
            sleeper,
            username: username.to_string(),
        }
    }

    pub async fn sync(&mut self) -> field_core::sync::SyncReport {
        self.client
            .sync(&mut self.store, Some(PASSWORD))
            .await
            .expect("sync")
    }
}

pub fn household(head: &str) -> HouseholdInput {
    HouseholdInput {
        posyandu: MAWAR.into(),
        head_name: head.into(),
        dusun: Some("Dusun A".into()),
        rt: Some("001".into()),
        ..Default::default()
    }
}

pub fn person(name: &str, sex: &str, birth: &str) -> PersonInput {
    PersonInput {
        name: name.into(),
        sex: sex.into(),
        birth_date: birth.into(),
        ..Default::default()
    }
}

/// A TCP proxy in front of the server that can cut every connection at once and refuse new
/// ones until it is switched back on: a 2G link dropping in the middle of a sync.
pub struct Proxy {
    pub addr: SocketAddr,
    down: Arc<std::sync::atomic::AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let c = c.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = c.notified() => {}
                    }
                });
            }
        });
        Proxy { addr, down, cut }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts every open connection and refuses new ones (callable from a sync event).
    pub fn cut(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    pub fn restore(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn handle(&self) -> (Arc<std::sync::atomic::AtomicBool>, Arc<tokio::sync::Notify>) {
        (self.down.clone(), self.cut.clone())
    }
}
