//! End-to-end tests of the device commands (`enrol`, `import`, `record`, `export`, `status`,
//! `sync`), running the built binary against a real district server on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use district_server::auth::PasswordCost;
use district_server::config::{Config, DatabaseUrl, RateLimits};
use district_server::{AppState, Storage};
use serde_json::Value;

const PIN: &str = "258014";
const PASSWORD: &str = district_server::admin::DEMO_PASSWORD;

struct Server {
    store: Arc<dyn Storage>,
    url: String,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("district.db").to_string_lossy().to_string();
    let store = district_server::storage::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, false)
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
    let app = district_server::router(AppState::new(store.clone(), cfg).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = district_server::http::serve_listener(
            listener,
            app,
            std::future::pending(),
            std::time::Duration::from_secs(1),
        )
        .await;
    });
    Server {
        store,
        url: format!("http://{addr}"),
        _dir: dir,
    }
}

/// Runs `jangkau` with `stdin` as standard input and no secrets in the environment.
fn jangkau(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jangkau"))
        .args(args)
        .env_remove("JANGKAU_PIN")
        .env_remove("JANGKAU_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run jangkau");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("jangkau output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn status_json(data: &str) -> Value {
    let out = jangkau(&["status", "--data", data, "--json"], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn export(data: &str) -> Vec<Value> {
    let out = jangkau(
        &["export", "--data", data, "--format", "jsonl"],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_string_lossy().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_does_what_a_kader_does() {
    let srv = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("tablet").to_string_lossy().to_string();

    // Enrol: an unknown code is refused with exit code 4 and a clear sentence.
    let out = jangkau(
        &[
            "enrol",
            "--data",
            &data,
            "--server",
            &srv.url,
            "--code",
            "ZZZ-ZZZ-ZZZ",
            "--username",
            "kader.mawar",
        ],
        &format!("{PIN}\n{PASSWORD}\n"),
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("code is unknown or already used"),
        "{}",
        text(&out.stderr)
    );
    let code = district_server::admin::issue_enrol_code(srv.store.as_ref(), "kader.mawar", 24)
        .await
        .unwrap();
    let out = jangkau(
        &[
            "enrol",
            "--data",
            &data,
            "--server",
            &srv.url,
            "--code",
            &code,
            "--username",
            "kader.mawar",
            "--device-name",
            "Skrip Mawar",
        ],
        &format!("{PIN}\n{PASSWORD}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Enrolled device"),
        "{}",
        text(&out.stdout)
    );

    // Import: two households; one bad row (line 4) is reported and skipped.
    let csv = write(
        tmp.path(),
        "households.csv",
        "household,head_name,kk_number,dusun,rt,name,sex,birth_date,relation,mother\n\
         1,Yohanes Bria,5304050101200001,Dusun A,001,Maria Bria,P,02/03/1995,spouse,\n\
         1,,,,,Yohana Bria,female,2024-01-10,child,Maria Bria\n\
         2,Agus Mali,,,,Agus Mali,X,1980-01-01,head,\n\
         2,,,,,Agus Mali,male,1980-01-01,head,\n",
    );
    let out = jangkau(&["import", "--data", &data, &csv], &format!("{PIN}\n"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 4:") && err.contains("\"x\""), "{err}");
    assert!(
        err.contains("imported 2 households with 3 persons; 1 rows skipped"),
        "{err}"
    );

    // Find the child in the export, record a weighing and a home visit.
    let changes = export(&data);
    assert_eq!(changes.len(), 5);
    let child = changes
        .iter()
        .find(|c| c["kind"] == "person" && c["body"]["name"] == "Yohana Bria")
        .unwrap();
    assert!(child["body"]["mother"].is_string());
    let child = child["id"].as_str().unwrap().to_string();
    let out = jangkau(
        &[
            "record",
            "weighing",
            "--data",
            &data,
            "--person",
            &child,
            "--kg",
            "8.2",
            "--height-cm",
            "74",
            "--position",
            "lying",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 2);
    let out = jangkau(
        &[
            "record",
            "visit",
            "--data",
            &data,
            "--person",
            &child,
            "--findings",
            "sehat",
            "--kg",
            "8.3",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A weight of 900 kg is refused: exit 1, the field named.
    let out = jangkau(
        &[
            "record", "weighing", "--data", &data, "--person", &child, "--kg", "900",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("value"), "{}", text(&out.stderr));

    // A visit that refers the child to the pustu; the pustu's side moves it to received.
    let out = jangkau(
        &[
            "record",
            "visit",
            "--data",
            &data,
            "--person",
            &child,
            "--findings",
            "demam tinggi",
            "--refer-to",
            "pustu",
            "--refer-reason",
            "Demam 3 hari",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let referral = text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_suffix("\treferral"))
        .map(str::to_string)
        .unwrap();
    let list = |data: &str| {
        let out = jangkau(&["record", "referral", "--data", data], &format!("{PIN}\n"));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        list(&data).trim(),
        format!("{referral}\tmade\tYohana Bria\tDemam 3 hari")
    );
    // Receiving it is the pustu's (a bidan's) work: the kader's tablet refuses it up front.
    let out = jangkau(
        &[
            "record",
            "referral",
            "--data",
            &data,
            "--id",
            &referral,
            "--status",
            "received",
            "--outcome",
            "Diperiksa",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bidan"), "{}", text(&out.stderr));
    assert!(list(&data).contains("\tmade\t"), "{}", list(&data));

    // Maria is pregnant: HPHT in DD/MM/YYYY as on her card; her son cannot be.
    let maria = changes
        .iter()
        .find(|c| c["kind"] == "person" && c["body"]["name"] == "Maria Bria")
        .and_then(|c| c["id"].as_str())
        .unwrap()
        .to_string();
    let out = jangkau(
        &[
            "record",
            "pregnancy",
            "--data",
            &data,
            "--person",
            &maria,
            "--hpht",
            "01/10/2025",
            "--gravida",
            "2",
            "--para",
            "1",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("\tpregnancy\n"),
        "{}",
        text(&out.stdout)
    );

    let st = status_json(&data);
    assert_eq!(st["waiting"], 13, "{st}");
    assert_eq!(st["last_success_ms"], Value::Null);

    // Sync: everything goes; status says so.
    let out = jangkau(&["sync", "--data", &data, "--quiet"], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Sent 13, refused 0"),
        "{}",
        text(&out.stdout)
    );
    let st = status_json(&data);
    assert_eq!(st["waiting"], 0, "{st}");
    assert!(st["last_success_ms"].is_u64(), "{st}");
    let out = jangkau(
        &["sync", "--data", &data, "--json", "--quiet"],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The server keeps the tablet's own changes out of its pulls: nothing else is new, so
    // the second run is up to date in one round trip.
    assert_eq!(r["received"], 0, "own changes are not sent back: {r}");
    assert_eq!(r["up_to_date"], true, "{r}");
    assert_eq!(r["requests"], 1, "{r}");

    // A wrong PIN: exit 4.
    let out = jangkau(&["status", "--data", &data], "999999\n");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("wrong PIN"),
        "{}",
        text(&out.stderr)
    );

    // Revoked by an admin: exit 5, the data stays, status says why.
    let device = st["device_id"].as_str().unwrap().parse().unwrap();
    assert!(
        srv.store
            .revoke_device(device, district_server::model::now_ms())
            .await
            .unwrap()
    );
    let out = jangkau(&["sync", "--data", &data, "--quiet"], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("revoked"),
        "{}",
        text(&out.stderr)
    );
    let out = jangkau(&["status", "--data", &data], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("REVOKED"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(export(&data).len(), 13);
}

/// Doses given elsewhere (the puskesmas, the KIA book) come in with their own day, under
/// the names written there; one home visit carries them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doses_given_elsewhere_are_recorded_with_their_day() {
    let srv = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("cli").to_string_lossy().to_string();
    let code = district_server::admin::issue_enrol_code(srv.store.as_ref(), "kader.mawar", 24)
        .await
        .unwrap();
    let out = jangkau(
        &[
            "enrol",
            "--data",
            &data,
            "--server",
            &srv.url,
            "--code",
            &code,
            "--username",
            "kader.mawar",
        ],
        &format!("{PIN}\n{PASSWORD}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = write(
        tmp.path(),
        "family.csv",
        "household,head_name,dusun,rt,name,sex,birth_date,relation,mother\n\
         1,Maria Bria,Dusun A,001,Maria Bria,female,1995-03-02,head,\n\
         1,,,,Yohana Bria,female,2025-01-10,child,Maria Bria\n",
    );
    let out = jangkau(&["import", "--data", &data, &csv], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let child = export(&data)
        .iter()
        .find(|c| c["kind"] == "person" && c["body"]["name"] == "Yohana Bria")
        .and_then(|c| c["id"].as_str())
        .unwrap()
        .to_string();

    // Two doses on one day, one written the old way, the day as on the KIA book.
    let out = jangkau(
        &[
            "record",
            "immunisation",
            "--data",
            &data,
            "--person",
            &child,
            "--vaccine",
            "BCG",
            "--vaccine",
            "DPT-HB-Hib 1",
            "--batch",
            "B-2025-01",
            "--date",
            "12/02/2025",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].ends_with("\tvisit"), "{stdout}");
    assert!(lines[1].ends_with("\timmunisation\tBCG"), "{stdout}");
    assert!(
        lines[2].ends_with("\timmunisation\tDPT-HB-Hib 1"),
        "{stdout}"
    );

    let doses: Vec<Value> = export(&data)
        .into_iter()
        .filter(|c| c["kind"] == "immunisation")
        .collect();
    assert_eq!(doses.len(), 2, "{doses:?}");
    let mut vaccines: Vec<&str> = doses
        .iter()
        .map(|d| d["body"]["vaccine"].as_str().unwrap())
        .collect();
    vaccines.sort_unstable();
    assert_eq!(vaccines, ["BCG", "DPT-HB-Hib 1"]);
    for d in &doses {
        assert_eq!(d["body"]["date"], "2025-02-12", "{d}");
        assert_eq!(d["body"]["person"], child.as_str(), "{d}");
        assert_eq!(d["body"]["batch"], "B-2025-01", "{d}");
        assert!(d["body"]["visit"].is_string(), "{d}");
    }

    // Without a dose there is nothing to record: a usage error.
    let out = jangkau(
        &[
            "record",
            "immunisation",
            "--data",
            &data,
            "--person",
            &child,
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--vaccine"),
        "{}",
        text(&out.stderr)
    );
    // A day that is no date is refused with the field named; nothing is added.
    let out = jangkau(
        &[
            "record",
            "immunisation",
            "--data",
            &data,
            "--person",
            &child,
            "--vaccine",
            "OPV1",
            "--date",
            "31/02/2025",
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("date"), "{}", text(&out.stderr));
    assert_eq!(
        export(&data)
            .iter()
            .filter(|c| c["kind"] == "immunisation")
            .count(),
        2
    );
}

#[test]
fn a_missing_data_directory_is_a_usage_error() {
    let out = jangkau(&["status", "--data", "/nonexistent/jangkau"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("enrol this device first"),
        "{}",
        text(&out.stderr)
    );
}

/// Issue #12 item 10: under umask 022 the data directory is created 0700 and the database,
/// its keyring and an export written with `--out` 0600 (health data and key material).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // Runs jangkau through a shell that sets the usual desktop umask first.
    let under_umask = |args: &[&str], stdin: &str| -> Output {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("umask 022; exec \"$@\"")
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_jangkau"))
            .args(args)
            .env_remove("JANGKAU_PIN")
            .env_remove("JANGKAU_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(mut i) = child.stdin.take() {
            let _ = i.write_all(stdin.as_bytes());
        }
        child.wait_with_output().unwrap()
    };
    let srv = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("tablet");
    let data = data_dir.to_string_lossy().to_string();
    let code = district_server::admin::issue_enrol_code(srv.store.as_ref(), "kader.mawar", 24)
        .await
        .unwrap();
    let out = under_umask(
        &[
            "enrol",
            "--data",
            &data,
            "--server",
            &srv.url,
            "--code",
            &code,
            "--username",
            "kader.mawar",
        ],
        &format!("{PIN}\n{PASSWORD}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let export_file = tmp.path().join("export.jsonl");
    let out = under_umask(
        &[
            "export",
            "--data",
            &data,
            "--out",
            &export_file.to_string_lossy(),
        ],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(mode(&data_dir), 0o700);
    let db = data_dir.join("jangkau.db");
    for p in [
        db.clone(),
        PathBuf::from(format!("{}.keyring.json", db.display())),
        export_file.clone(),
    ] {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    for entry in std::fs::read_dir(&data_dir).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p) & 0o077, 0, "{} readable by others", p.display());
    }
}

/// Titip by files: a kader's tablet seals, the bidan's carries and syncs, collects the
/// answer, and the kader opens it (docs/sync-protocol.md section 10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_through_another_tablet_by_files() {
    let srv = server().await;
    let tmp = tempfile::tempdir().unwrap();
    let kader = tmp.path().join("kader").to_string_lossy().to_string();
    let bidan = tmp.path().join("bidan").to_string_lossy().to_string();
    for (data, user) in [(&kader, "kader.mawar"), (&bidan, "bidan.naitimu")] {
        let code = district_server::admin::issue_enrol_code(srv.store.as_ref(), user, 24)
            .await
            .unwrap();
        let out = jangkau(
            &[
                "enrol",
                "--data",
                data,
                "--server",
                &srv.url,
                "--code",
                &code,
                "--username",
                user,
            ],
            &format!("{PIN}\n{PASSWORD}\n"),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let csv = write(
        tmp.path(),
        "households.csv",
        "household,head_name,dusun,rt,name,sex,birth_date,relation,mother\n\
         1,Yohanes Bria,Dusun A,001,Yohanes Bria,male,1990-03-02,head,\n",
    );
    let out = jangkau(&["import", "--data", &kader, &csv], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bundle = tmp.path().join("mawar.titip").to_string_lossy().to_string();
    let answers = tmp
        .path()
        .join("answers.titip")
        .to_string_lossy()
        .to_string();

    let out = jangkau(
        &["relay", "seal", "--data", &kader, "--out", &bundle],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("Sealed 2 changes"),
        "{}",
        text(&out.stdout)
    );
    // A kader's own bundle is not hers to carry.
    let out = jangkau(
        &["relay", "carry", "--data", &kader, &bundle],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = jangkau(
        &["relay", "carry", "--data", &bidan, &bundle],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 wait"),
        "{}",
        text(&out.stdout)
    );
    let out = jangkau(&["sync", "--data", &bidan, "--quiet"], &format!("{PIN}\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Handed over 1 titip bundles"),
        "{}",
        text(&out.stdout)
    );
    let logged = srv
        .store
        .pull("53.04.05.2001.P01".into(), 0, 100)
        .await
        .unwrap();
    assert_eq!(logged.changes.len(), 2);
    let out = jangkau(
        &["relay", "collect", "--data", &bidan, "--out", &answers],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(status_json(&kader)["waiting"], 2);
    let out = jangkau(
        &["relay", "open", "--data", &kader, &answers],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 changes confirmed"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(status_json(&kader)["waiting"], 0);
    // The bidan's tablet cannot open the kader's answers.
    let out = jangkau(
        &["relay", "open", "--data", &bidan, &answers],
        &format!("{PIN}\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = jangkau(
        &["relay", "list", "--data", &kader, "--json"],
        &format!("{PIN}\n"),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sent"][0]["confirmed"], 2, "{v}");
}
