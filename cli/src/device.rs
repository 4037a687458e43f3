//! What every device command shares: `--data DIR`, reading the PIN and password, unlocking
//! the store, the sync client, and turning errors into sentences and exit codes.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use field_core::sync::{SyncClient, SyncConfig, SyncError, TrustRoots};
use field_core::{OpenOptions, Store, StoreError};

/// The database file inside `--data DIR`.
pub const DB_FILE: &str = "jangkau.db";

/// Exit codes of the device commands (enrol, sync, status, import, export, record).
pub const DEVICE_EXIT_CODES: &str = "\
Secrets: the PIN (or passphrase) that unlocks the tablet's data is read from JANGKAU_PIN, else
from the first line of standard input (on a terminal: asked for, typed without echo). Commands that talk to the
server also read the user's server password from JANGKAU_PASSWORD, else from the next line
of standard input (sync: optional, used only when the session has ended).

Exit codes:
  0  done
  1  some input was rejected (a bad row, a bad value); the rest was done
  2  usage error, or a file or the data directory could not be read or written
  3  the server could not be reached or is busy: try again later (nothing is lost)
  4  login needed or refused (wrong PIN, wrong password, session ended, enrolment code
     invalid or expired, account disabled)
  5  this tablet was revoked by an admin: its data is kept, it no longer syncs
  6  the app or the server must be updated";

pub const EXIT_REJECTED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_UNREACHABLE: u8 = 3;
pub const EXIT_LOGIN: u8 = 4;
pub const EXIT_REVOKED: u8 = 5;
pub const EXIT_UPDATE: u8 = 6;

/// `--data DIR` and `--user U`, on every device command.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The directory holding this device's encrypted data (created by `jangkau enrol`).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The user unlocking the data (default: the only user on this device).
    #[arg(long, value_name = "USERNAME")]
    pub user: Option<String>,
}

impl DataArgs {
    pub fn db(&self) -> PathBuf {
        self.data.join(DB_FILE)
    }
}

/// TLS trust for commands that talk to the server.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// A PEM file with the district's own CA, trusted in addition to the bundled roots.
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
    /// Trust only the CA given with --ca, not the bundled roots.
    #[arg(long, requires = "ca")]
    pub ca_only: bool,
}

impl TlsArgs {
    pub fn client(&self) -> Result<SyncClient, Failure> {
        let trust = match &self.ca {
            None => TrustRoots::WebPki,
            Some(p) => {
                let pem = std::fs::read(p).map_err(|e| {
                    Failure::new(EXIT_USAGE, format!("cannot read {}: {e}", p.display()))
                })?;
                if self.ca_only {
                    TrustRoots::DistrictCa(pem)
                } else {
                    TrustRoots::WebPkiAndDistrictCa(pem)
                }
            }
        };
        Ok(SyncClient::new(SyncConfig {
            trust,
            // `jangkau enrol` ends without syncing: pages pulled while the key is sealed would
            // leave a first sync in bulk for the next unlock to end, and the rest of the area
            // pulled page by page.
            pull_while_sealing: false,
            ..SyncConfig::default()
        }))
    }
}

/// A failed command: the sentence for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn report(self) -> ExitCode {
        eprintln!("jangkau: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::WrongPin | StoreError::UnknownUser(_) => EXIT_LOGIN,
            StoreError::Invalid(_) => EXIT_REJECTED,
            StoreError::SchemaTooNew { .. } => EXIT_UPDATE,
            _ => EXIT_USAGE,
        };
        let message = match &e {
            StoreError::WrongPin => "wrong PIN for this device's data".to_string(),
            StoreError::Invalid(v) => format!("{}: {}", v.field, v.en_text),
            other => other.to_string(),
        };
        Failure::new(code, message)
    }
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        let code = match &e {
            SyncError::Store(_) => {
                if let SyncError::Store(s) = e {
                    return s.into();
                }
                EXIT_USAGE
            }
            SyncError::Network(_) | SyncError::AlreadyRunning => EXIT_UNREACHABLE,
            SyncError::Server { .. } if e.is_retryable() => EXIT_UNREACHABLE,
            SyncError::LoginRequired
            | SyncError::LoginFailed
            | SyncError::UserDisabled
            | SyncError::EnrolCodeInvalid
            | SyncError::EnrolCodeExpired
            | SyncError::DeviceUnknown
            | SyncError::WrongUser { .. }
            | SyncError::NotEnrolled => EXIT_LOGIN,
            SyncError::DeviceRevoked { .. } => EXIT_REVOKED,
            SyncError::UpdateApp(_) | SyncError::UpdateServer(_) => EXIT_UPDATE,
            SyncError::BadUrl(_) | SyncError::Tls(_) | SyncError::Lock(_) => EXIT_USAGE,
            _ => EXIT_UNREACHABLE,
        };
        let mut message = e.to_string();
        if matches!(e, SyncError::LoginRequired) {
            message.push_str(
                ": give the password in JANGKAU_PASSWORD or on the second line of standard input",
            );
        }
        Failure::new(code, message)
    }
}

/// Reads secrets: from the environment, else one line each from standard input.
pub struct Secrets {
    lines: Option<std::io::Lines<std::io::StdinLock<'static>>>,
}

impl Secrets {
    pub fn new() -> Self {
        Self { lines: None }
    }

    /// One secret: typed on a terminal without echo (the prompt and the reading go through
    /// the controlling terminal, so nothing typed is shown or kept in the scrollback), else
    /// the next line of standard input (scripts and tests pipe it).
    fn line(&mut self, prompt: &str) -> Option<String> {
        let stdin = std::io::stdin();
        let line = if stdin.is_terminal() {
            rpassword::prompt_password(format!("{prompt}: ")).ok()
        } else {
            let lines = self.lines.get_or_insert_with(|| stdin.lock().lines());
            lines.next().and_then(|l| l.ok())
        };
        let l = line?.trim_end_matches(['\r', '\n']).to_string();
        (!l.is_empty()).then_some(l)
    }

    /// The PIN (required).
    pub fn pin(&mut self) -> Result<String, Failure> {
        if let Ok(p) = std::env::var("JANGKAU_PIN") {
            return Ok(p);
        }
        self.line("PIN").ok_or_else(|| {
            Failure::new(
                EXIT_LOGIN,
                "no PIN given: set JANGKAU_PIN or write it on the first line of standard input",
            )
        })
    }

    /// The server password from the environment, or from a piped standard input; on a
    /// terminal, only from the environment (see [`Self::ask_password`]).
    pub fn password_if_given(&mut self) -> Option<String> {
        if let Ok(p) = std::env::var("JANGKAU_PASSWORD") {
            return Some(p);
        }
        if std::io::stdin().is_terminal() {
            return None;
        }
        self.line("Server password")
    }

    /// Asks for the server password on a terminal (none otherwise).
    pub fn ask_password(&mut self) -> Option<String> {
        if std::io::stdin().is_terminal() {
            self.line("Server password (the session has ended)")
        } else {
            None
        }
    }

    /// The server password, when given.
    pub fn password(&mut self) -> Option<String> {
        if let Ok(p) = std::env::var("JANGKAU_PASSWORD") {
            return Some(p);
        }
        self.line("Server password")
    }
}

/// Unlocks the device's data with the PIN.
pub fn open(data: &DataArgs, secrets: &mut Secrets) -> Result<Store, Failure> {
    let db = data.db();
    if !db.exists() {
        return Err(Failure::new(
            EXIT_USAGE,
            format!(
                "no Jangkau data in {}: enrol this device first (jangkau enrol --data {} ...)",
                data.data.display(),
                data.data.display()
            ),
        ));
    }
    let user = match &data.user {
        Some(u) => u.clone(),
        None => only_user(&db)?,
    };
    let pin = secrets.pin()?;
    Ok(Store::unlock(&db, &user, &pin, OpenOptions::default())?)
}

fn only_user(db: &Path) -> Result<String, Failure> {
    let users = Store::local_users(db)?;
    match users.as_slice() {
        [one] => Ok(one.username.clone()),
        [] => Err(Failure::new(EXIT_USAGE, "this device has no user")),
        many => Err(Failure::new(
            EXIT_USAGE,
            format!(
                "several users on this device ({}): choose one with --user",
                many.iter()
                    .map(|u| u.username.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// A single-threaded runtime for the network commands.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(EXIT_USAGE, format!("cannot start the runtime: {e}")))
}

/// Milliseconds since the epoch as an RFC 3339 UTC time.
pub fn time_text(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || ms.to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}
