//! The district server of a simulation: the Belu demo district (no demo records) on a fresh
//! embedded SQLite database or a scratch PostgreSQL database, served over HTTP on
//! `127.0.0.1:0` inside this process.

use super::{Result, SimError};
use district_server::auth::PasswordCost;
use district_server::config::{Config, DatabaseUrl, RateLimits};
use district_server::model::Place;
use district_server::{AppState, Storage};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use sync_protocol::{PlaceLevel, Role};

/// The demo district's password, used for every simulated account.
pub const PASSWORD: &str = district_server::admin::DEMO_PASSWORD;
/// The PIN every simulated tablet is unlocked with.
pub const PIN: &str = "258014";
/// Desa Naitimu (Puskesmas Halilulik), where the simulation's extra posyandu are placed.
pub const DESA: &str = "53.04.05.2001";
/// Puskesmas Halilulik: its six demo posyandu hold the fresh device's history.
pub const PUSKESMAS: &str = "53.04.PKM07";

/// Which storage the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(format!("unknown backend {s:?} (sqlite or postgres)")),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A running district server.
pub struct SimServer {
    pub backend: Backend,
    pub store: Arc<dyn Storage>,
    pub addr: SocketAddr,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimServer {
    /// Starts the demo district on `backend` with the default limits.
    pub async fn start(backend: Backend) -> Result<SimServer> {
        let dir = tempfile::tempdir()?;
        let (url, pg_name) = match backend {
            Backend::Sqlite => (
                dir.path().join("district.db").to_string_lossy().to_string(),
                None,
            ),
            Backend::Postgres => {
                let (name, url) = district_server::storage::postgres::scratch::create().await?;
                (url, Some(name))
            }
        };
        let store = district_server::storage::open(&url).await?;
        store.migrate().await?;
        district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, false).await?;
        let cfg = Config {
            database_url: DatabaseUrl(url),
            password_cost: PasswordCost::TEST,
            rate_limits: RateLimits {
                enrol_per_minute: 100_000,
                login_per_minute: 100_000,
            },
            request_timeout_s: 300,
            ..Config::default()
        };
        let state = AppState::new(store.clone(), cfg)?;
        let app = district_server::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = district_server::http::serve_listener(
                listener,
                app,
                async move {
                    let _ = rx.await;
                },
                Duration::from_secs(5),
            )
            .await;
        });
        Ok(SimServer {
            backend,
            store,
            addr,
            pg_name,
            _dir: dir,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds posyandu `<DESA>.S<first>` .. `<DESA>.S<first+n-1>` and returns their codes.
    pub async fn add_posyandu(&self, first: usize, n: usize) -> Result<Vec<String>> {
        let places: Vec<Place> = (first..first + n)
            .map(|i| Place {
                code: format!("{DESA}.S{i:03}"),
                name: format!("Posyandu Simulasi {i}"),
                level: PlaceLevel::Posyandu,
                parent: Some(DESA.into()),
            })
            .collect();
        let codes = places.iter().map(|p| p.code.clone()).collect();
        self.store.import_places(places).await?;
        Ok(codes)
    }

    /// Adds an account (password [`PASSWORD`]) unless it exists.
    pub async fn add_user(&self, username: &str, role: Role, scope: &str) -> Result<()> {
        if self
            .store
            .user_by_username(username.to_string())
            .await?
            .is_some()
        {
            return Ok(());
        }
        district_server::admin::add_user(
            self.store.as_ref(),
            username,
            &format!("{username} (simulasi)"),
            role,
            scope,
            PASSWORD,
            PasswordCost::TEST,
        )
        .await?;
        Ok(())
    }

    /// A one-time enrolment code for `username`.
    pub async fn code(&self, username: &str) -> Result<String> {
        Ok(district_server::admin::issue_enrol_code(self.store.as_ref(), username, 24).await?)
    }

    /// Stops serving and drops a scratch PostgreSQL database.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        if let Some(name) = self.pg_name.take() {
            district_server::storage::postgres::scratch::drop(&name)
                .await
                .map_err(|e| SimError::Server(format!("dropping {name}: {e}")))?;
        }
        Ok(())
    }
}

impl Drop for SimServer {
    /// A simulation that failed before `stop` still stops serving and drops its database.
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(name) = self.pg_name.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(district_server::storage::postgres::scratch::drop(&name));
                }
            })
            .join();
        }
    }
}
