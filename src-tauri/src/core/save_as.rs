//! "Simpan ke…": a copy of a file of `<data>/exports/` where the user chose in the
//! platform's save dialog (desktop). The file stays in the exports folder too.

use super::AppCore;
use super::reports::EXPORTS_DIR;
use crate::error::AppError;
use std::path::PathBuf;

fn refused(what: &str) -> AppError {
    AppError::new(
        "export.save_as_failed",
        "File tidak bisa disimpan ke tempat itu. Pilih folder lain; file tetap ada di folder ekspor aplikasi.",
        "The file could not be saved there. Choose another folder; the file is still in the app's exports folder.",
    )
    .with_field(what)
}

impl AppCore {
    /// Copies `<data>/exports/<file_name>` to `dest` (a path the save dialog gave) and
    /// returns where it went. `file_name` is a bare name of a file made by an export.
    pub fn save_export_as(&self, file_name: &str, dest: &str) -> Result<String, AppError> {
        let exports = self.data_dir().root().join(EXPORTS_DIR);
        let Some(from) = super::share::export_path(&exports, file_name) else {
            return Err(refused("file_name"));
        };
        let dest = PathBuf::from(dest.trim());
        let Some(name) = dest.file_name().filter(|_| dest.is_absolute()) else {
            return Err(refused("dest"));
        };
        // Copied next to its final name, then renamed: no half file where the user looks.
        let part = dest.with_file_name(format!(".{}.part", name.to_string_lossy()));
        let copied = std::fs::copy(&from, &part).and_then(|_| std::fs::rename(&part, &dest));
        if let Err(e) = copied {
            eprintln!("jangkau-app: save as {}: {e}", dest.display());
            let _ = std::fs::remove_file(&part);
            return Err(refused("dest"));
        }
        Ok(dest.display().to_string())
    }
}
