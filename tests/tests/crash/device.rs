//! A device driven through the `jangkau` binary (`--data DIR`), and a sync run as a child
//! process that can be killed at a chosen progress line.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use field_core::sync::{Enrolment, SyncClient, SyncConfig};
use serde_json::Value;

use super::bins::bins;
use super::server::ServerProcess;
use crate::common::{PASSWORD, PIN, opts};

pub struct CliDevice {
    /// A short name for messages ("A", "B").
    pub name: &'static str,
    pub username: String,
    pub data: PathBuf,
    _dir: tempfile::TempDir,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

impl CliDevice {
    /// Enrols a device for `username` with a one-time code. The database is created in
    /// process with cheap Argon2id parameters (every `jangkau` run unlocks it with the
    /// parameters stored in its keyring), then only the binary touches it.
    pub async fn enrol(server: &ServerProcess, username: &str, name: &'static str) -> CliDevice {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("tablet");
        std::fs::create_dir_all(&data).expect("data dir");
        let client = SyncClient::new(SyncConfig {
            app_version: "0.1.0-test".into(),
            request_timeout: Duration::from_secs(20),
            // The binary syncs it, not this process (as the CLI's `enrol`).
            pull_while_sealing: false,
            ..SyncConfig::default()
        });
        let e = Enrolment {
            server_url: server.url(),
            code: server.code(username).await,
            device_name: format!("Tablet {name}"),
            username: username.to_string(),
            secret: PASSWORD.to_string().into(),
            pin: PIN.to_string().into(),
        };
        let store = client
            .enrol(&data.join("jangkau.db"), &e, opts())
            .await
            .expect("enrol");
        drop(store);
        CliDevice {
            name,
            username: username.to_string(),
            data,
            _dir: dir,
        }
    }

    /// `jangkau <sub…> --data DIR <args…>` with the PIN and password in the environment.
    pub fn command(&self, sub: &[&str], args: &[&str]) -> Command {
        let mut c = Command::new(&bins().jangkau);
        c.args(sub)
            .arg("--data")
            .arg(&self.data)
            .args(args)
            .env("JANGKAU_PIN", PIN)
            .env("JANGKAU_PASSWORD", PASSWORD)
            .stdin(Stdio::null());
        c
    }

    /// Runs a command to its end and asserts it succeeded.
    pub fn run_ok(&self, sub: &[&str], args: &[&str]) -> Output {
        let out = self.command(sub, args).output().expect("run jangkau");
        assert!(
            out.status.success(),
            "device {}: `jangkau {} {}` ended with {}:\n{}",
            self.name,
            sub.join(" "),
            args.join(" "),
            out.status,
            text(&out.stderr)
        );
        out
    }

    /// `jangkau status --json`.
    pub fn status(&self) -> Value {
        let out = self.run_ok(&["status"], &["--json"]);
        serde_json::from_slice(&out.stdout).expect("status JSON")
    }

    /// The number of changes waiting to be sent.
    pub fn waiting(&self) -> u64 {
        let st = self.status();
        st["waiting"]
            .as_u64()
            .unwrap_or_else(|| panic!("device {}: no `waiting` in {st}", self.name))
    }

    /// Imports `n` households of `members` persons each (keys from `first`); returns the
    /// number of changes this added to the outbox.
    pub fn import(&self, first: usize, n: usize, members: usize) -> u64 {
        let before = self.waiting();
        self.import_only(first, n, members);
        let after = self.waiting();
        assert!(
            after > before,
            "device {}: importing {n} households added nothing to the outbox ({before} → {after})",
            self.name
        );
        after - before
    }

    /// The same without counting (no sync runs on this device meanwhile).
    pub fn import_only(&self, first: usize, n: usize, members: usize) {
        let csv = self
            .data
            .parent()
            .expect("dir")
            .join(format!("hh-{first}.csv"));
        std::fs::write(&csv, households_csv(self.name, first, n, members)).expect("csv");
        self.run_ok(&["import"], &[csv.to_str().expect("utf-8 path")]);
    }

    /// `jangkau export --format jsonl`, parsed.
    pub fn export(&self) -> Vec<Value> {
        let out = self.run_ok(&["export"], &["--format", "jsonl"]);
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("export line is JSON"))
            .collect()
    }

    /// One sync run to its end, which must succeed; returns its JSON report.
    pub fn sync_clean(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json", "--quiet"];
        all.extend_from_slice(args);
        let out = self.run_ok(&["sync"], &all);
        serde_json::from_slice(&out.stdout).expect("sync report JSON")
    }

    /// Starts `jangkau sync <args>` with progress lines on standard error.
    pub fn spawn_sync(&self, args: &[&str]) -> RunningSync {
        let mut child = self
            .command(&["sync"], args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start jangkau sync");
        let started = Instant::now();
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        RunningSync {
            child,
            rx,
            started,
            lines: Vec::new(),
            ended: false,
        }
    }

    /// Unlocks the database in process: `PRAGMA integrity_check` must say `ok`.
    pub fn check_integrity(&self) {
        let db = self.data.join("jangkau.db");
        let store = field_core::Store::unlock(&db, &self.username, PIN, opts())
            .unwrap_or_else(|e| panic!("device {}: cannot open its database: {e}", self.name));
        let check = store.integrity_check().expect("integrity_check");
        assert_eq!(
            check,
            vec!["ok".to_string()],
            "device {}: integrity_check",
            self.name
        );
    }
}

/// A CSV of `n` households (keys from `first`) with `members` persons each.
pub fn households_csv(tag: &str, first: usize, n: usize, members: usize) -> String {
    let mut s = String::from("household,head_name,dusun,rt,name,sex,birth_date,relation\n");
    for h in first..first + n {
        let head = format!("Kepala {tag}{h}");
        s.push_str(&format!(
            "{h},{head},Dusun A,001,{head},male,1980-01-01,head\n"
        ));
        for m in 1..members {
            let sex = if m % 2 == 0 { "male" } else { "female" };
            s.push_str(&format!(
                "{h},,,,Anggota {tag}{h}-{m},{sex},2015-01-{:02},child\n",
                m % 28 + 1
            ));
        }
    }
    s
}

/// A progress line of `jangkau sync`: which phase it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Status,
    Push,
    Pull,
    Retry,
    Other,
}

impl Line {
    pub fn of(s: &str) -> Line {
        match s.strip_prefix("sync: ") {
            Some(r) if r.starts_with("checking") => Line::Status,
            Some(r) if r.starts_with("sending") => Line::Push,
            Some(r) if r.starts_with("receiving") => Line::Pull,
            Some(r) if r.starts_with("retry") => Line::Retry,
            _ => Line::Other,
        }
    }
}

/// A running `jangkau sync` and the progress lines it printed so far.
pub struct RunningSync {
    child: Child,
    rx: Receiver<(Instant, String)>,
    pub started: Instant,
    /// Progress lines with the time since the start.
    pub lines: Vec<(Duration, String)>,
    ended: bool,
}

/// How a run ended.
#[derive(Debug)]
pub enum Ending {
    /// Killed by SIGKILL after the last line in `lines`.
    Killed,
    /// Ended by itself.
    Exited(ExitStatus),
}

impl RunningSync {
    /// Waits until `pred` holds for the lines so far; false when the process ended first.
    pub fn wait_for(&mut self, mut pred: impl FnMut(&[(Duration, String)]) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !pred(&self.lines) {
            if self.ended {
                return false;
            }
            match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok((at, line)) => self.lines.push((at - self.started, line)),
                Err(RecvTimeoutError::Timeout) => {
                    assert!(
                        Instant::now() < deadline,
                        "jangkau sync printed nothing new for 120 s: {:?}",
                        self.lines
                    );
                }
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
            }
        }
        true
    }

    /// Waits for the `n`-th line of kind `kind`.
    pub fn wait_nth(&mut self, kind: Line, n: usize) -> bool {
        self.wait_for(|ls| ls.iter().filter(|(_, l)| Line::of(l) == kind).count() >= n)
    }

    /// Kills the process with SIGKILL (unless it ended already) and collects its end.
    pub fn kill(mut self) -> (Ending, Vec<(Duration, String)>) {
        let _ = self.child.kill();
        let status = self.child.wait().expect("wait for jangkau sync");
        self.drain();
        use std::os::unix::process::ExitStatusExt;
        let ending = if status.signal() == Some(9) {
            Ending::Killed
        } else {
            Ending::Exited(status)
        };
        (ending, std::mem::take(&mut self.lines))
    }

    /// Waits for the process to end by itself.
    pub fn wait(mut self) -> (ExitStatus, Vec<(Duration, String)>) {
        let status = self.child.wait().expect("wait for jangkau sync");
        self.drain();
        (status, std::mem::take(&mut self.lines))
    }

    fn drain(&mut self) {
        while let Ok((at, line)) = self.rx.recv_timeout(Duration::from_secs(5)) {
            self.lines.push((at - self.started, line));
        }
    }
}

impl Drop for RunningSync {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
