//! The district server as a child process (`jangkau-server serve`) on a fixed port, over a
//! SQLite file or a fresh PostgreSQL database, that can be killed and started again on the
//! same data and port.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use district_server::Storage;
use district_server::auth::PasswordCost;
use serde_json::Value;

use super::bins::bins;
use crate::common::{Backend, MAWAR, PASSWORD};

/// How the server process is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGKILL: no chance to finish anything (a power cut, the OOM killer).
    Kill,
    /// SIGTERM: graceful shutdown, requests in flight are finished.
    Term,
}

pub struct ServerProcess {
    pub database_url: String,
    pg_name: Option<String>,
    /// An in-process connection to the same database, for enrolment codes and the final
    /// checks (never used while the child serves requests, except to read).
    pub store: Arc<dyn Storage>,
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// How many times the process was started.
    pub starts: u32,
}

impl ServerProcess {
    /// A fresh database with the Belu demo district and a second kader of Posyandu Mawar;
    /// the process is not started yet.
    pub async fn create(backend: Backend) -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_name) = match backend {
            Backend::Sqlite => (
                dir.path().join("district.db").to_string_lossy().to_string(),
                None,
            ),
            Backend::Postgres => {
                let (name, url) = district_server::storage::postgres::scratch::create()
                    .await
                    .expect("PostgreSQL at 127.0.0.1:5432 (set JANGKAU_TEST_PG to change)");
                (url, Some(name))
            }
        };
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
        std::fs::write(
            dir.path().join("server.toml"),
            "request_timeout_s = 30\nshutdown_grace_s = 10\n\
             [rate_limits]\nenrol_per_minute = 1000\nlogin_per_minute = 1000\n\
             [password_cost]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n",
        )
        .expect("server config");
        let port = fixed_port();
        ServerProcess {
            database_url: url,
            pg_name,
            store,
            port,
            dir,
            child: None,
            starts: 0,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The end of the server's log (every start appends to it).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Starts `jangkau-server serve` and waits until it accepts connections (blocking).
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("server log");
        let child = Command::new(&bins().server)
            .arg("--config")
            .arg(self.dir.path().join("server.toml"))
            .arg("serve")
            .env("JANGKAU_DATABASE_URL", &self.database_url)
            .env("JANGKAU_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("JANGKAU_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start jangkau-server");
        self.child = Some(child);
        self.starts += 1;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                panic!(
                    "jangkau-server (start {}) exited with {status} before listening on port {}:\n{}",
                    self.starts,
                    self.port,
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "jangkau-server (start {}) does not listen on port {} after 30 s:\n{}",
                self.starts,
                self.port,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the process with SIGKILL or SIGTERM and waits for it to end (blocking).
    pub fn stop(&mut self, how: Stop) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        match how {
            Stop::Kill => {
                let _ = child.kill();
            }
            Stop::Term => {
                let ok = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                assert!(ok, "`kill -TERM {}` failed", child.id());
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait for jangkau-server") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "jangkau-server did not end 30 s after {how:?}:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub async fn code(&self, username: &str) -> String {
        district_server::admin::issue_enrol_code(self.store.as_ref(), username, 24)
            .await
            .expect("enrolment code")
    }

    /// Every change the server holds for Posyandu Mawar, in server order, as JSON.
    pub async fn changes(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .pull(MAWAR.to_string(), after, 2000)
                .await
                .expect("read the change log");
            for (sseq, payload) in &page.changes {
                out.push(serde_json::from_str(payload).expect("stored change is JSON"));
                after = *sseq;
            }
            if !page.has_more {
                return out;
            }
        }
    }

    /// Stops the process (if running) and drops the PostgreSQL database.
    pub async fn finish(mut self) {
        if self.child.is_some() {
            tokio::task::block_in_place(|| self.stop(Stop::Term));
        }
        if let Some(name) = self.pg_name.take() {
            let _ = district_server::storage::postgres::scratch::drop(&name).await;
        }
    }
}

/// A free port below the ephemeral range, so that while the server is down no outgoing
/// connection (of this test or another) and no `bind(0)` can take it.
fn fixed_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok())
        })
        .unwrap_or(32768);
    let (from, to) = if low > 11_000 {
        (10_000, low - 1)
    } else {
        (61_000, 65_000)
    };
    let random = RandomState::new();
    for i in 0u32..1000 {
        let port = from + (random.hash_one(i) % u64::from(to - from)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {from}..{to}");
}

impl Drop for ServerProcess {
    /// A failed test still ends its server and drops its PostgreSQL database.
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
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
