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
    assert!(out.contains("schema version 4"), "{out}");
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
