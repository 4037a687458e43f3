//! Private files and directories: everything the device writes that holds health data or key
//! material (the database and its `-wal`/`-shm`, the keyring, the attempt counter, exports)
//! is created `0600`, and the directories the app creates for them `0700`, whatever the
//! process's umask. On a shared Linux machine (a puskesmas desktop) a umask of 022 would
//! otherwise leave them readable by every account.
//!
//! SQLite creates `-wal`, `-shm` and `-journal` with the mode of the database file itself,
//! so creating the database file `0600` before SQLite opens it covers them too. Files of an
//! older install, created with looser modes, are tightened when the store is unlocked.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of every private file.
pub const FILE_MODE: u32 = 0o600;
/// The mode of every private directory.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and missing parents) as private directories and makes `dir` itself `0700`
/// even if it already existed: it is the app's own data directory.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Options that create a file `0600` (the umask can only take bits away from that).
pub fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(FILE_MODE);
    }
    o
}

/// Creates (or truncates) a private file for writing; an existing file is made `0600` too.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let f = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    restrict(&f)?;
    Ok(f)
}

/// Makes an open file `0600` (a file created earlier with a looser mode).
pub fn restrict(f: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata()?.permissions().mode() & 0o777;
        if mode != FILE_MODE {
            f.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
        }
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
}

/// Makes an existing file `0600`; a missing file is not an error.
pub fn restrict_path(path: &Path) -> io::Result<()> {
    match File::open(path) {
        Ok(f) => restrict(&f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn loose_files_and_dirs_are_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("a/b");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&d).unwrap();
        assert_eq!(mode(&d), 0o700);
        let f = d.join("x");
        std::fs::write(&f, b"x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict_path(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        drop(create_private_file(&d.join("y")).unwrap());
        assert_eq!(mode(&d.join("y")), 0o600);
        restrict_path(&d.join("missing")).unwrap();
    }
}
