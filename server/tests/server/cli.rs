//! The admin CLI, run as a process on a temporary SQLite database with a TOML config.

use std::process::Command;

fn run(dir: &std::path::Path, args: &[&str], secret: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jangkau-server"));
    cmd.args(["--config", &dir.join("server.toml").to_string_lossy()])
        .args(args)
        .env("JANGKAU_DATABASE_URL", dir.join("cli.db"))
        .env_remove("JANGKAU_CONFIG")
        .env("JANGKAU_LOG", "warn");
    match secret {
        Some(s) => cmd.env("JANGKAU_NEW_SECRET", s),
        None => cmd.env_remove("JANGKAU_NEW_SECRET"),
    };
    let out = cmd.output().expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn admin_commands_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "database_url = \"ignored-env-wins.db\"\nlisten = \"127.0.0.1:0\"\n[password_cost]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n",
    )
    .unwrap();
    let (ok, out, err) = run(dir.path(), &["migrate"], None);
    assert!(ok, "{err}");
    let last = district_server::storage::sqlite::MIGRATIONS
        .last()
        .map_or(0, |m| m.0);
    assert!(out.contains(&format!("schema version {last}")), "{out}");
    assert!(!dir.path().join("ignored-env-wins.db").exists());

    let (ok, out, err) = run(dir.path(), &["demo"], None);
    assert!(ok, "{err}");
    for needle in [
        "Kabupaten Belu",
        "kader.mawar",
        "belu-demo-2025",
        "6 demo records",
    ] {
        assert!(out.contains(needle), "{needle} not in {out}");
    }
    let (ok, out, _) = run(dir.path(), &["demo"], None);
    assert!(ok && out.contains("0 new accounts"), "{out}");

    std::fs::write(
        dir.path().join("places.csv"),
        "code,name,level,parent\n53.04.05.2003.P09,Posyandu Baru,posyandu,53.04.05.2003\n",
    )
    .unwrap();
    let csv = dir.path().join("places.csv");
    let (ok, out, err) = run(
        dir.path(),
        &["places", "import", &csv.to_string_lossy()],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("1 place(s) imported"), "{out}");
    std::fs::write(&csv, "code,name,level,parent\nbad code,X,posyandu,53.04\n").unwrap();
    let (ok, _, err) = run(
        dir.path(),
        &["places", "import", &csv.to_string_lossy()],
        None,
    );
    assert!(!ok && err.contains("line 2"), "{err}");

    let add = [
        "user",
        "add",
        "--username",
        "kader.baru",
        "--name",
        "Kader Baru (demo)",
        "--role",
        "kader",
        "--scope",
        "53.04.05.2003.P09",
    ];
    let (ok, out, err) = run(dir.path(), &add, Some("135790"));
    assert!(ok, "{err}");
    assert!(out.contains("kader.baru added"), "{out}");
    let (ok, _, err) = run(dir.path(), &add, Some("135790"));
    assert!(!ok && err.contains("taken"), "{err}");

    let (ok, code, err) = run(
        dir.path(),
        &["device", "code", "--username", "kader.baru"],
        None,
    );
    assert!(ok, "{err}");
    let code = code.trim();
    assert_eq!(code.len(), 11, "{code}");
    assert!(district_server::auth::normalise_code(code).is_some());

    let (ok, list, err) = run(dir.path(), &["device", "list"], None);
    assert!(ok, "{err}");
    assert!(list.contains("Demo data (server seed)"), "{list}");
    let id = list
        .lines()
        .find(|l| l.contains("Demo data"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let (ok, out, err) = run(dir.path(), &["device", "revoke", &id], None);
    assert!(ok && out.contains("revoked"), "{err}");
    let (_, list, _) = run(dir.path(), &["device", "list"], None);
    assert!(list.contains("revoked"), "{list}");
    let (ok, _, err) = run(dir.path(), &["device", "revoke", "not-an-id"], None);
    assert!(!ok && err.contains("not a device id"), "{err}");

    let (ok, out, err) = run(dir.path(), &["user", "disable", "kader.baru"], None);
    assert!(ok && out.contains("disabled"), "{err}");
    let (_, users, _) = run(dir.path(), &["user", "list"], None);
    assert!(users.contains("(disabled)"), "{users}");
    let (ok, _, _) = run(dir.path(), &["user", "disable", "nobody"], None);
    assert!(!ok);
    let (ok, out, err) = run(dir.path(), &["user", "enable", "kader.baru"], None);
    assert!(ok && out.contains("user kader.baru enabled"), "{err}");
    let (_, users, _) = run(dir.path(), &["user", "list"], None);
    let line = users.lines().find(|l| l.starts_with("kader.baru")).unwrap();
    assert!(!line.contains("(disabled)"), "{users}");
    let (ok, _, _) = run(dir.path(), &["user", "enable", "nobody"], None);
    assert!(!ok);
}

/// Runs the server binary through `sh` with umask 022 (the usual default that made the
/// database world-readable), on the database `db`.
#[cfg(unix)]
fn under_umask_022(db: &std::path::Path, args: &str) -> std::process::Child {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022; exec \"{}\" {args}",
            env!("CARGO_BIN_EXE_jangkau-server")
        ))
        .env("JANGKAU_DATABASE_URL", db)
        .env("JANGKAU_LISTEN", "127.0.0.1:0")
        .env_remove("JANGKAU_CONFIG")
        .env("JANGKAU_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs")
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// `district.db` holds health data and password hashes: with umask 022 the server creates it,
/// its `-wal` and `-shm` 0600 and its missing directory 0700; a file an older version left
/// 0644 is narrowed when opened.
#[cfg(unix)]
#[test]
fn the_district_database_is_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("var").join("jangkau");
    let db = dir.join("district.db");
    // Serving keeps connections open: the WAL and shared-memory files exist meanwhile.
    let mut serve = under_umask_022(&db, "serve");
    let (wal, shm) = (dir.join("district.db-wal"), dir.join("district.db-shm"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(wal.exists() && shm.exists()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no WAL: {:?}",
            serve.try_wait()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let modes = (mode(&dir), mode(&db), mode(&wal), mode(&shm));
    serve.kill().unwrap();
    serve.wait().unwrap();
    assert_eq!(modes, (0o700, 0o600, 0o600, 0o600), "dir, db, -wal, -shm");

    // A database left world-readable by an older version (and its -wal) is narrowed.
    let old = tmp.path().join("old.db");
    let (ok, _, err) = run_db(&old, &["migrate"], None);
    assert!(ok, "{err}");
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut m = under_umask_022(&old, "migrate");
    assert!(m.wait().unwrap().success());
    assert_eq!(mode(&old), 0o600);
}

fn run_db(db: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_jangkau-server"))
        .args(args)
        .env("JANGKAU_DATABASE_URL", db)
        .env_remove("JANGKAU_CONFIG")
        .env_remove("JANGKAU_NEW_SECRET")
        .env("JANGKAU_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).unwrap();
    }
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// `demo` on a database that holds a real account is refused (the demo accounts share a
/// published password) unless `--force`; the secret of `user add` comes through a pipe
/// when stdin is not a terminal, and is never printed.
#[test]
fn demo_refuses_a_database_with_real_accounts_and_secrets_come_through_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("d.db");
    // Demo twice on a demo-only database: allowed.
    for _ in 0..2 {
        let (ok, _, err) = run_db(&db, &["demo"], None);
        assert!(ok, "{err}");
    }
    let add = [
        "user",
        "add",
        "--username",
        "bidan.sari",
        "--name",
        "Bidan Sari",
        "--role",
        "bidan",
        "--scope",
        "53.04.05.2001",
    ];
    let (ok, out, err) = run_db(&db, &add, Some("rahasia-sari-2026\n"));
    assert!(ok, "{err}");
    assert!(out.contains("bidan.sari added"), "{out}");
    assert!(
        !out.contains("rahasia") && !err.contains("rahasia"),
        "{out}{err}"
    );
    let (ok, out, err) = run_db(&db, &["demo"], None);
    assert!(!ok, "{out}");
    assert!(
        err.contains("1 real account(s) (bidan.sari)") && err.contains("--force"),
        "{err}"
    );
    assert!(!out.contains("belu-demo-2025"), "{out}");
    let (ok, out, err) = run_db(&db, &["demo", "--force"], None);
    assert!(ok, "{err}");
    assert!(out.contains("Kabupaten Belu"), "{out}");
}
