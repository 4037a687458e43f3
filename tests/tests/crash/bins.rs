//! The real binaries, `jangkau` and `jangkau-server`, from the target directory this test
//! runs from.
//!
//! `cargo nextest run --workspace` (what CI runs) builds every binary of the workspace before
//! the tests. A run of this package alone (`-p system-tests`) does not build other packages'
//! binaries, so when one is missing or older than the sources it is made from, the harness
//! builds both once with `cargo build -p jangkau-cli -p district-server --bins` (set
//! `JANGKAU_TEST_NO_BUILD=1` to forbid that, `JANGKAU_BIN_DIR` to use binaries elsewhere).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

/// Paths of the two binaries.
#[derive(Debug)]
pub struct Bins {
    pub jangkau: PathBuf,
    pub server: PathBuf,
}

/// The binaries, located (and built when missing or stale) once per test process.
pub fn bins() -> &'static Bins {
    static BINS: OnceLock<Result<Bins, String>> = OnceLock::new();
    match BINS.get_or_init(locate) {
        Ok(b) => b,
        Err(m) => panic!("{m}"),
    }
}

/// `target/<profile>` of the running test executable (`target/<profile>/deps/crash-…`).
fn profile_dir() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the test executable: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("unexpected test executable path {}", exe.display()))
}

fn locate() -> Result<Bins, String> {
    let (dir, may_build) = match std::env::var_os("JANGKAU_BIN_DIR") {
        Some(d) => (PathBuf::from(d), false),
        None => (
            profile_dir()?,
            std::env::var_os("JANGKAU_TEST_NO_BUILD").is_none(),
        ),
    };
    let exe = |name: &str| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let bins = Bins {
        jangkau: exe("jangkau"),
        server: exe("jangkau-server"),
    };
    let newest = newest_source();
    let stale = |p: &Path| match (mtime(p), newest) {
        (None, _) => true,
        (Some(b), Some(s)) => b < s,
        (Some(_), None) => false,
    };
    if may_build && (stale(&bins.jangkau) || stale(&bins.server)) {
        let built = build(&dir);
        if let Err(e) = &built {
            eprintln!("crash tests: {e}");
        }
    }
    for p in [&bins.jangkau, &bins.server] {
        if !p.is_file() {
            return Err(format!(
                "{} is missing: build the binaries first, e.g. `cargo build -p jangkau-cli \
                 -p district-server --bins` with the same CARGO_TARGET_DIR and profile as the \
                 tests, or run `cargo nextest run --workspace` (which builds every binary)",
                p.display()
            ));
        }
    }
    Ok(bins)
}

/// `cargo build -p jangkau-cli -p district-server --bins` into the target directory `dir`
/// (`target/<profile>`) belongs to.
fn build(dir: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace directory")?;
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace).args([
        "build",
        "-p",
        "jangkau-cli",
        "-p",
        "district-server",
        "--bins",
    ]);
    match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
        None => return Err(format!("cannot tell the profile of {}", dir.display())),
    }
    if let Some(target) = dir.parent() {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    eprintln!("crash tests: building jangkau and jangkau-server ({cmd:?})");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run cargo to build the binaries: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the binaries failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The newest modification time of what the two binaries are built from.
fn newest_source() -> Option<SystemTime> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let mut newest = None;
    for f in ["Cargo.toml", "Cargo.lock"] {
        newest = newest.max(mtime(&root.join(f)));
    }
    for pkg in [
        "cli",
        "server",
        "field-core",
        "sync-protocol",
        "health-rules",
    ] {
        newest = newest.max(newest_in(&root.join(pkg)));
    }
    newest
}

fn newest_in(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return None;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if p.is_dir() {
            if !matches!(
                name.as_str(),
                "tests" | "benches" | "fuzz" | "target" | "examples"
            ) {
                newest = newest.max(newest_in(&p));
            }
        } else if [".rs", ".sql", ".json", ".toml"]
            .iter()
            .any(|x| name.ends_with(x))
        {
            newest = newest.max(mtime(&p));
        }
    }
    newest
}
