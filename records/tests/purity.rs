//! The crate's invariant, checked: pure (no IO, no SQL, no clock), no unsafe, and only the
//! dependencies docs/ARCHITECTURE.md names. A test may read files; the crate may not.

use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn depends_only_on_the_pure_crates() {
    let manifest = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    let deps: Vec<&str> = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split([' ', '=']).next())
        .collect();
    assert_eq!(
        deps,
        [
            "sync-protocol",
            "health-rules",
            "serde",
            "serde_json",
            "chrono",
            "thiserror"
        ]
    );
}

#[test]
fn no_io_no_clock_no_unsafe_in_the_sources() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = 0;
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let text = read(&path);
        files += 1;
        for banned in [
            "std::fs",
            "std::net",
            "std::process",
            "std::env",
            "SystemTime",
            "Instant::now",
            "Utc::now",
            "Local::now",
            "now_v7",
            "rusqlite",
            "unsafe ",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
    }
    assert!(files >= 7, "{files} source files");
    assert!(read(&src.join("lib.rs")).contains("#![forbid(unsafe_code)]"));
}
