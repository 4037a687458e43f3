//! Sharing an exported file: the part that needs no Android. Which file (a bare name of a
//! file in `<data>/exports/`, never a path that leaves it, also through a symbolic link),
//! its MIME type, and the title the share sheet shows. "Bagikan…" (Android) hands the result
//! to the share plugin (`src-tauri/share/`); "Simpan ke…" (desktop, `save_as.rs`) uses the
//! same check for the file it copies.

use super::AppCore;
use super::reports::EXPORTS_DIR;
use crate::error::AppError;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A file ready for the platform's share sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareFile {
    /// Absolute path inside the exports folder.
    pub path: String,
    /// `text/csv` or `application/pdf`.
    pub mime: &'static str,
    /// The file's name, shown as the share sheet's title.
    pub title: String,
}

/// The MIME type of an exported file by its extension (the exports are CSV and PDF only).
pub fn mime_of(file_name: &str) -> Option<&'static str> {
    let ext = Path::new(file_name)
        .extension()?
        .to_str()?
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some("text/csv"),
        "pdf" => Some("application/pdf"),
        _ => None,
    }
}

/// The share sheet could not be opened (details in the log).
pub fn share_failed() -> AppError {
    AppError::new(
        "export.share_failed",
        "File ini tidak bisa dibagikan. Buat lagi filenya, lalu coba lagi.",
        "This file cannot be shared. Make the file again, then try again.",
    )
}

/// "Bagikan…" asked where there is no share sheet (desktop has "Simpan ke…").
pub fn share_unavailable() -> AppError {
    AppError::new(
        "export.share_unavailable",
        "Berbagi file hanya ada di tablet Android. Di komputer, pakai \"Simpan ke…\".",
        "Sharing a file is only on Android tablets. On a computer, use \"Save to…\".",
    )
}

fn share_refused() -> AppError {
    share_failed().with_field("file_name")
}

/// `file_name` inside `exports`: a bare name (no folder, not hidden) of an existing file
/// whose real path is inside the real exports folder. `None` otherwise.
pub(super) fn export_path(exports: &Path, file_name: &str) -> Option<PathBuf> {
    let plain = !file_name.is_empty()
        && !file_name.starts_with('.')
        && Path::new(file_name).file_name() == Some(file_name.as_ref());
    if !plain {
        return None;
    }
    let dir = exports.canonicalize().ok()?;
    let file = dir.join(file_name).canonicalize().ok()?;
    (file.parent() == Some(dir.as_path()) && file.is_file()).then_some(file)
}

impl AppCore {
    /// The exported file `file_name` as the share sheet takes it (path, MIME type, title).
    pub fn share_target(&self, file_name: &str) -> Result<ShareFile, AppError> {
        let exports = self.data_dir().root().join(EXPORTS_DIR);
        let mime = mime_of(file_name).ok_or_else(share_refused)?;
        let path = export_path(&exports, file_name).ok_or_else(share_refused)?;
        Ok(ShareFile {
            path: path.display().to_string(),
            mime,
            title: file_name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_of_the_exports() {
        // (file name, MIME type)
        let rows = [
            ("laporan-2026-11.csv", Some("text/csv")),
            ("kms-yosef-2026-12-06.pdf", Some("application/pdf")),
            ("LAPORAN.CSV", Some("text/csv")),
            ("care.db", None),
            ("noextension", None),
            ("", None),
        ];
        for (name, want) in rows {
            assert_eq!(mime_of(name), want, "{name}");
        }
    }

    #[test]
    fn only_files_inside_the_exports_folder() {
        let root = tempfile::tempdir().expect("a temp dir");
        let exports = root.path().join("exports");
        std::fs::create_dir(&exports).expect("exports");
        std::fs::write(exports.join("a.pdf"), b"%PDF-").expect("a file");
        std::fs::write(root.path().join("care.db"), b"secret").expect("a file");
        std::fs::create_dir(exports.join("sub.pdf")).expect("a folder");
        assert_eq!(
            export_path(&exports, "a.pdf"),
            Some(exports.canonicalize().expect("real").join("a.pdf"))
        );
        for bad in [
            "../care.db",
            "",
            ".a.pdf",
            "sub.pdf",
            "nope.pdf",
            "sub.pdf/x",
            "/etc/passwd",
        ] {
            assert_eq!(export_path(&exports, bad), None, "{bad:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.path().join("care.db"), exports.join("link.pdf"))
                .expect("a link");
            assert_eq!(export_path(&exports, "link.pdf"), None, "a link out");
        }
    }
}
