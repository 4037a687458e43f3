//! Creating and unlocking the encrypted database.

use super::Store;
use crate::clock::{Clock, SystemClock};
use crate::error::{Result, StoreError};
use crate::keyring::{DbKey, KdfParams, Keyring, LocalUser};
use crate::migrations;
use rusqlite::{Connection, OpenFlags, params};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use sync_protocol::{ClockPolicy, DeviceId, Hlc};

/// How to open a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub clock: Arc<dyn Clock>,
    /// Argon2id cost for keys sealed while this store is open (a new user, a PIN change).
    pub kdf: KdfParams,
    pub clock_policy: ClockPolicy,
    /// SQLCipher's `cipher_memory_security`: wipe every freed allocation (decrypted pages,
    /// key material). Off by default: in this build (SQLCipher 4.6.1) it makes applying
    /// 100,000 pulled changes about twice as slow (8 s → 17 s on the development machine, over
    /// the 10 s target) and name search and timelines about ten times slower; a tablet is
    /// slower still. Turn it on for builds that value it over speed.
    pub memory_security: bool,
    /// SQLCipher's `cipher_page_size` of a store [`Store::create`] makes (fixed for the life of
    /// a database; [`NEW_STORE_PAGE_SIZE`] by default). An existing store is opened with the
    /// page size it was made with, whatever this says (see [`PAGE_SIZES`]).
    pub page_size: u32,
    /// SQLCipher's page MAC of a store [`Store::create`] makes ([`NEW_STORE_HMAC`] by default).
    /// An existing store is opened with the MAC it was made with (see [`PAGE_HMACS`]).
    pub page_hmac: PageHmac,
}

/// The page size of stores made since issue 19's fifth pass (8 KiB). Each page SQLCipher writes
/// or reads costs a fixed setup of its cipher and MAC (OpenSSL 3 fetches both by name for every
/// page), a WAL frame header and a write or read call, so larger pages make a first sync
/// cheaper; but a due list reads a person's facts from scattered pages, and pays the AES and the
/// MAC of the whole page for each. With HMAC-SHA256 ([`NEW_STORE_HMAC`]), 8 KiB pages cost a
/// first sync of 130,000 records about 5 % more CPU than 16 KiB and take 10–20 % off the due
/// lists of a 500,000-fact store (docs/BENCHMARKS.md, "Issue 19, fifth pass"): a first sync
/// happens once, the due lists many times a day. Stores made before keep their size (4096,
/// SQLCipher 4's default, or 16 KiB from the fourth pass): the page size of an encrypted
/// database cannot change without rewriting it.
pub const NEW_STORE_PAGE_SIZE: u32 = 8_192;

/// SQLCipher 4's default page size: every store made before issue 19's fourth pass.
pub const LEGACY_PAGE_SIZE: u32 = 4_096;

/// The page sizes an existing store may have, tried in this order when it is opened (the
/// page size is not written in clear anywhere: a wrong one fails at the first page read,
/// before anything is written, and the next is tried).
pub const PAGE_SIZES: [u32; 3] = [NEW_STORE_PAGE_SIZE, LEGACY_PAGE_SIZE, 16_384];

/// The MAC SQLCipher writes on every page (`cipher_hmac_algorithm`), with the PBKDF2 variant
/// that derives the MAC's key from the raw database key (`cipher_kdf_algorithm`: with a raw
/// key, SQLCipher runs it only for that, with 2 iterations; the database key itself is random
/// and used as it is). Like the page size, it is not written in clear in the file: a store
/// opens only with the one it was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageHmac {
    /// HMAC-SHA256: stores made since issue 19's fifth pass. Half the MAC's cost per page on
    /// this machine (SHA-NI), more on ARMv8 tablets, which have SHA-256 instructions and
    /// usually no SHA-512 ones (docs/SECURITY.md, "The store's cipher settings").
    Sha256,
    /// HMAC-SHA512: SQLCipher 4's default, every store made before.
    Sha512,
}

impl PageHmac {
    /// The name SQLCipher gives it (`PRAGMA cipher_hmac_algorithm`).
    pub fn sqlcipher_name(self) -> &'static str {
        match self {
            PageHmac::Sha256 => "HMAC_SHA256",
            PageHmac::Sha512 => "HMAC_SHA512",
        }
    }

    /// The pragmas that select it (after `cipher_compatibility`, which resets both).
    fn pragmas(self) -> &'static str {
        match self {
            PageHmac::Sha256 => {
                "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;
                 PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA256;"
            }
            PageHmac::Sha512 => {
                "PRAGMA cipher_hmac_algorithm = HMAC_SHA512;
                 PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512;"
            }
        }
    }
}

/// The page MAC of stores made since issue 19's fifth pass.
pub const NEW_STORE_HMAC: PageHmac = PageHmac::Sha256;

/// SQLCipher 4's default MAC: every store made before issue 19's fifth pass.
pub const LEGACY_HMAC: PageHmac = PageHmac::Sha512;

/// The page MACs an existing store may have, tried in this order after the options' own.
pub const PAGE_HMACS: [PageHmac; 2] = [NEW_STORE_HMAC, LEGACY_HMAC];

/// The settings of a database's encryption that are not written in clear in it (the rest is
/// pinned: `cipher_compatibility = 4`). Found when a store is unlocked, kept for
/// [`Store::reopen`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSettings {
    pub page_size: u32,
    pub hmac: PageHmac,
}

impl CipherSettings {
    /// The settings of stores made before issue 19's fourth pass (SQLCipher 4's defaults).
    pub const LEGACY: CipherSettings = CipherSettings {
        page_size: LEGACY_PAGE_SIZE,
        hmac: LEGACY_HMAC,
    };

    /// The settings an existing store is tried with, in order: `first` (what new stores get),
    /// then SQLCipher 4's defaults (every store made before issue 19), then every other pair
    /// of [`PAGE_SIZES`] and [`PAGE_HMACS`].
    fn candidates(first: CipherSettings) -> Vec<CipherSettings> {
        let mut v = vec![first];
        if first != Self::LEGACY {
            v.push(Self::LEGACY);
        }
        for page_size in PAGE_SIZES {
            for hmac in PAGE_HMACS {
                let c = CipherSettings { page_size, hmac };
                if !v.contains(&c) {
                    v.push(c);
                }
            }
        }
        v
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            kdf: KdfParams::TABLET,
            clock_policy: ClockPolicy::default(),
            memory_security: false,
            page_size: NEW_STORE_PAGE_SIZE,
            page_hmac: NEW_STORE_HMAC,
        }
    }
}

impl OpenOptions {
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }
    pub fn with_memory_security(mut self, on: bool) -> Self {
        self.memory_security = on;
        self
    }
    /// The page size of a store made with these options (a power of two, 512 to 65,536).
    pub fn with_page_size(mut self, bytes: u32) -> Self {
        self.page_size = bytes;
        self
    }
    /// The page MAC of a store made with these options.
    pub fn with_page_hmac(mut self, hmac: PageHmac) -> Self {
        self.page_hmac = hmac;
        self
    }
    /// The cipher settings of a store made with these options.
    fn cipher(&self) -> CipherSettings {
        CipherSettings {
            page_size: self.page_size,
            hmac: self.page_hmac,
        }
    }
}

impl Store {
    /// Creates a new encrypted database for an enrolled device, with its first user.
    /// A random key is made and sealed under the user's PIN in the keyring beside the file.
    pub fn create(
        path: &Path,
        device: DeviceId,
        first_user: &LocalUser,
        pin: &str,
        opts: OpenOptions,
    ) -> Result<Store> {
        let (store, sealing) = Store::create_sealing(path, device, first_user, pin, opts)?;
        sealing.finish(store)
    }

    /// [`Store::create`] in two steps, for an enrolment that pulls its first pages while the
    /// key is sealed: the random key's Argon2id seal under the PIN runs on a thread of its
    /// own, and the new database is built at once under a temporary name beside `path`
    /// (`<db>.creating-…`), where the returned store reads and writes it. [`Sealing::finish`]
    /// waits for the seal, saves the keyring, and only then gives the database its name and
    /// reopens it there; until then nothing exists at `path`, and a cut (SIGKILL, a dead
    /// battery) leaves only the temporary files, which no key opens any more (the key was in
    /// memory only), exactly as a cut during [`Store::create`]'s seal always did. Dropping the
    /// [`Sealing`] without finishing removes them. The store must not be reopened
    /// ([`Store::reopen`]) or shared before it is finished.
    pub fn create_sealing(
        path: &Path,
        device: DeviceId,
        first_user: &LocalUser,
        pin: &str,
        opts: OpenOptions,
    ) -> Result<(Store, Sealing)> {
        let ring_path = Keyring::path_for(path);
        let cipher = opts.cipher();
        let page_size = cipher.page_size;
        if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(StoreError::InvalidPageSize(page_size));
        }
        if path.exists() && ring_path.exists() {
            return Err(StoreError::AlreadyExists(path.display().to_string()));
        }
        // A bad PIN or cost is refused before anything is written (the seal checks them
        // again).
        crate::keyring::check_pin(pin)?;
        opts.kdf.check()?;
        let key = DbKey::random();
        let seal = {
            let (user, pin, key, kdf) = (
                first_user.clone(),
                zeroize::Zeroizing::new(pin.to_string()),
                key.clone(),
                opts.kdf,
            );
            std::thread::Builder::new()
                .name("jangkau-seal".into())
                .spawn(move || -> Result<Keyring> {
                    let mut ring = Keyring {
                        version: 2,
                        users: Vec::new(),
                    };
                    ring.add_user(&user, &pin, &key, kdf)?;
                    Ok(ring)
                })?
        };
        // The new database is built under a temporary name and takes its real name only
        // after the keyring that opens it is saved (`Sealing::finish`): a cut anywhere leaves
        // either no database at `path`, or one whose keyring exists.
        // What a cut enrolment left beside `path` goes first (none of this process's own).
        let tmp = register_build(path);
        let sealing = Sealing {
            seal: Some(seal),
            path: path.to_path_buf(),
            tmp: tmp.clone(),
        };
        let built = (|| -> Result<Connection> {
            // An empty file made 0600 first: SQLite gives the -wal, -shm and -journal files
            // the database file's mode.
            drop(
                super::files::private_options()
                    .write(true)
                    .create_new(true)
                    .open(&tmp)?,
            );
            let (mut conn, _) = open_conn(&tmp, &key, Pages::New(cipher), opts.memory_security)?;
            migrations::migrate(&mut conn)?;
            conn.execute(
                "INSERT INTO device_state (id, device_id, next_seq, hlc_last, hlc_offset_ms)
                 VALUES (1, ?1, 1, ?2, 0)",
                params![device.to_string(), Hlc::ZERO.to_string()],
            )?;
            upsert_user(&conn, first_user)?;
            Ok(conn)
        })();
        // On an error the sealing is dropped: the temporary files go.
        let conn = built?;
        let utc_offset_ms = super::zone_offset_ms(&conn)?;
        let store = Store {
            conn,
            path: tmp,
            key,
            clock: opts.clock,
            device,
            user: first_user.clone(),
            policy: opts.clock_policy,
            rules: crate::health::RuleOptions::default(),
            utc_offset_ms,
            memory_security: opts.memory_security,
            cipher,
        };
        Ok((store, sealing))
    }

    /// Unlocks the database with a user's PIN, offline. A wrong PIN is `StoreError::WrongPin`.
    pub fn unlock(path: &Path, username: &str, pin: &str, opts: OpenOptions) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.display().to_string()));
        }
        tighten_modes(path)?;
        let wrapper = crate::keyring::SoftwareArgon2id::new(opts.kdf);
        let (user, key) =
            crate::keyring::open_with_pin(path, username, pin, opts.clock.now_ms(), &wrapper)?;
        let (mut conn, cipher) =
            open_conn(path, &key, Pages::Find(opts.cipher()), opts.memory_security)?;
        // A first sync in bulk that was cut: its indexes are made again before any read.
        super::bulk::finish_if_cut(&mut conn)?;
        migrations::migrate(&mut conn)?;
        let device: String =
            conn.query_row("SELECT device_id FROM device_state WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        let device = device
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("device id {device:?}")))?;
        upsert_user(&conn, &user)?;
        let utc_offset_ms = super::zone_offset_ms(&conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            key,
            clock: opts.clock,
            device,
            user,
            policy: opts.clock_policy,
            rules: crate::health::RuleOptions::default(),
            utc_offset_ms,
            memory_security: opts.memory_security,
            cipher,
        })
    }
}

/// A store made by [`Store::create_sealing`] whose key is still being sealed under the PIN
/// (or sealed, with the keyring not yet saved).
#[derive(Debug)]
pub struct Sealing {
    seal: Option<std::thread::JoinHandle<Result<Keyring>>>,
    /// Where the database goes.
    path: PathBuf,
    /// Where it is built meanwhile (the store's own path until [`Sealing::finish`]).
    tmp: PathBuf,
}

impl Sealing {
    /// Whether the seal has ended (its Argon2id run): [`Sealing::finish`] will not wait.
    pub fn is_done(&self) -> bool {
        self.seal
            .as_ref()
            .is_none_or(std::thread::JoinHandle::is_finished)
    }

    /// Waits for the seal, saves the keyring beside `path`, closes the store (its WAL
    /// checkpointed into the file), gives the database its name and opens it there again.
    /// `store` must be the one [`Store::create_sealing`] returned with this sealing. An error
    /// before the keyring is saved leaves nothing at `path` (the temporary files go when the
    /// sealing is dropped); after it, a failed rename leaves the keyring alone beside `path`,
    /// and a failed reopen leaves the whole store at `path` (then `unlock` opens it).
    pub fn finish(mut self, store: Store) -> Result<Store> {
        if store.path != self.tmp {
            return Err(StoreError::Corrupt(format!(
                "{} is not the store being sealed",
                store.path.display()
            )));
        }
        let ring = match self.seal.take().map(std::thread::JoinHandle::join) {
            Some(Ok(ring)) => ring?,
            Some(Err(_)) => return Err(StoreError::Kdf("the sealing thread panicked".into())),
            None => return Err(StoreError::Kdf("the key was sealed once already".into())),
        };
        let Store {
            conn,
            key,
            clock,
            device,
            user,
            policy,
            rules,
            memory_security,
            cipher,
            ..
        } = store;
        // Everything written so far into the file itself, so the rename moves it all (the
        // last connection's close checkpoints the WAL and removes it).
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.close().map_err(|(_, e)| e)?;
        if self.path.exists() {
            // A database without a keyring cannot be read by this app, but it is never
            // deleted: it may be someone's data whose keyring went missing. Moved aside.
            move_aside(&self.path)?;
        }
        ring.save(&Keyring::path_for(&self.path))?;
        std::fs::rename(&self.tmp, &self.path)?;
        crate::keyring::sync_dir(&self.path);
        remove_db_files(&self.tmp);
        let (conn, cipher) = open_conn(&self.path, &key, Pages::Known(cipher), memory_security)?;
        let utc_offset_ms = super::zone_offset_ms(&conn)?;
        Ok(Store {
            conn,
            path: self.path.clone(),
            key,
            clock,
            device,
            user,
            policy,
            rules,
            utc_offset_ms,
            memory_security,
            cipher,
        })
    }
}

impl Drop for Sealing {
    /// A sealing dropped unfinished (an error, an enrolment given up): the temporary database
    /// goes, its key never saved. After [`Sealing::finish`] only a stray `-shm` may be left.
    fn drop(&mut self) {
        remove_db_files(&self.tmp);
        building().retain(|t| *t != self.tmp);
    }
}

impl Store {
    /// A second handle on the same database for the user who unlocked this one, without
    /// asking for the PIN again: the app's background sync task works on its own connection
    /// (WAL lets it write while the screens read and write through this one). The database key
    /// is copied in memory only (zeroed when either handle is dropped); the user, device, clock,
    /// rule tables and time zone are the same. Both handles may write: SQLite serialises their
    /// transactions (`busy_timeout` 5 s), and the sync lock file still allows one run at a time.
    pub fn reopen(&self) -> Result<Store> {
        let (conn, cipher) = open_conn(
            &self.path,
            &self.key,
            Pages::Known(self.cipher),
            self.memory_security,
        )?;
        let utc_offset_ms = super::zone_offset_ms(&conn)?;
        Ok(Store {
            conn,
            path: self.path.clone(),
            key: self.key.clone(),
            clock: self.clock.clone(),
            device: self.device,
            user: self.user.clone(),
            policy: self.policy,
            rules: self.rules.clone(),
            utc_offset_ms,
            memory_security: self.memory_security,
            cipher,
        })
    }
}

/// Which cipher settings a connection is opened with.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pages {
    /// A new, empty database file: it gets these settings.
    New(CipherSettings),
    /// A database known to have these settings (just made, or a second handle).
    Known(CipherSettings),
    /// An existing database: these settings first (the options' ones for new stores), then
    /// the others (see [`CipherSettings::candidates`]).
    Find(CipherSettings),
}

/// Opens the file with the key and sets the pragmas every connection needs. Returns the
/// connection and the database's cipher settings.
pub(super) fn open_conn(
    path: &Path,
    key: &DbKey,
    pages: Pages,
    memory_security: bool,
) -> Result<(Connection, CipherSettings)> {
    let (create, tried) = match pages {
        Pages::New(c) => (true, vec![c]),
        Pages::Known(c) => (false, vec![c]),
        Pages::Find(c) => (false, CipherSettings::candidates(c)),
    };
    let mut first_err = None;
    for cipher in tried {
        match open_keyed(path, key, create, cipher, memory_security) {
            Ok(conn) => return Ok((configure(conn, cipher.page_size)?, cipher)),
            Err(e @ StoreError::NotADatabase(_)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(first_err.unwrap_or_else(|| StoreError::NotADatabase(path.display().to_string())))
}

/// A connection keyed with one set of cipher settings, whose first page was read (a wrong key,
/// page size or MAC fails here with [`StoreError::NotADatabase`], before anything is written).
fn open_keyed(
    path: &Path,
    key: &DbKey,
    create: bool,
    cipher: CipherSettings,
    memory_security: bool,
) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch(&key.pragma())?;
    // Pin the SQLCipher 4 format (AES-256-CBC, the KDF and HMAC settings), so that a future
    // SQLCipher with other defaults still reads these files; the page size and the MAC are the
    // database's own (they must follow `cipher_compatibility`, which would reset them).
    conn.execute_batch("PRAGMA cipher_compatibility = 4;")?;
    conn.execute_batch(&format!("PRAGMA cipher_page_size = {};", cipher.page_size))?;
    conn.execute_batch(cipher.hmac.pragmas())?;
    // Wiping freed memory: see `OpenOptions::memory_security` for its cost.
    conn.execute_batch(if memory_security {
        "PRAGMA cipher_memory_security = ON;"
    } else {
        "PRAGMA cipher_memory_security = OFF;"
    })?;
    // The first read decrypts page 1: a wrong key (or page size, or MAC) fails here.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        return Err(StoreError::NotADatabase(e.to_string()));
    }
    Ok(conn)
}

/// The pragmas every connection needs, after its key.
fn configure(conn: Connection, page_size: u32) -> Result<Connection> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "journal mode {mode}, expected wal"
        )));
    }
    // A 16 MiB page cache (decrypted pages): large pulls touch many index pages. A
    // checkpoint every 32 MiB of WAL (8192 pages of 4 KiB, 4096 of 8 KiB) writes hot index
    // pages to the file once instead of many times during a large pull (the benchmark's
    // 100,000 pulled changes: 8 s -> 5.5 s); the WAL file is cut back to 64 MiB after a
    // checkpoint.
    // FULL: in WAL mode, NORMAL may lose the last transactions on power loss; FULL syncs the
    // WAL at every commit, so a committed record survives a battery dying right after.
    let checkpoint_pages = (32 << 20) / page_size.max(512);
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16384;
         PRAGMA wal_autocheckpoint = {checkpoint_pages};
         PRAGMA journal_size_limit = 67108864;"
    ))?;
    // rusqlite keeps 16 prepared statements by default; applying a pulled page alone uses
    // about as many, so a smaller cache would prepare them again and again.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Makes the files of a database written by an older version (or copied in with a loose
/// mode) 0600: the database, its -wal/-shm/-journal, the keyring and the attempt counter.
fn tighten_modes(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        super::files::restrict_path(&with_suffix(path, suffix))?;
    }
    super::files::restrict_path(&Keyring::path_for(path))?;
    super::files::restrict_path(&crate::keyring::attempts_path(path))?;
    Ok(())
}

/// `<db>.creating-<pid>-<random>`: where a new database is built.
fn temp_db_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(
        ".creating-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    PathBuf::from(s)
}

/// The temporary databases of the enrolments running in this process ([`Sealing`]), which
/// [`remove_stale_builds`] leaves alone.
fn building() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static BUILDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    BUILDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes what cut enrolments left beside `path` ([`remove_stale_builds`]) and registers
/// the temporary name of the enrolment about to start, under one hold of the lock: another
/// enrolment of this process cannot create its file unregistered while the directory is read.
fn register_build(path: &Path) -> PathBuf {
    let mut live = building();
    remove_stale_builds(path, &live);
    let tmp = temp_db_path(path);
    live.push(tmp.clone());
    tmp
}

/// Removes the temporary files of enrolments cut before they finished (a dead battery, a
/// killed app): `<db>.creating-<pid>-<id>` and its `-wal`, `-shm`, `-journal`, beside this
/// database only. Their key was in memory only (or, after a cut between the keyring's save
/// and the rename in [`Sealing::finish`], is in a keyring of an enrolment given up, holding
/// only pulled pages), so nothing of the user's is lost. Left alone:
/// those of an enrolment running in this process, and those of another process that is
/// still running (where that cannot be told, every other process's). Best effort: a file
/// that cannot be removed stays, and the enrolment goes on.
fn remove_stale_builds(path: &Path, live: &[PathBuf]) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let prefix = format!("{name}.creating-");
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some((pid, id)) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.split_once('-'))
        else {
            continue;
        };
        // Exactly the pattern `temp_db_path` writes: the pid in plain digits as `u32`
        // prints it (no sign, no leading zero), the id in lowercase hex.
        let Some(pid) = pid.parse::<u32>().ok().filter(|n| n.to_string() == pid) else {
            continue;
        };
        // `<32 hex digits>` then nothing or one of SQLite's suffixes.
        let Some((hex, suffix)) = id.split_at_checked(32) else {
            continue;
        };
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            || !["", "-wal", "-shm", "-journal"].contains(&suffix)
        {
            continue;
        }
        // A running enrolment of this process is known by its id (unique), whatever
        // spelling of the directory its caller gave.
        let id_end = format!("-{hex}");
        let running_here = live.iter().any(|t| {
            t.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&id_end))
        });
        if running_here || (pid != std::process::id() && process_running(pid)) {
            continue;
        }
        let _ = std::fs::remove_file(entry.path());
    }
}

/// Whether a process of that id is running (where the system shows it in `/proc`; elsewhere
/// assumed so).
fn process_running(pid: u32) -> bool {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}

/// Renames a database found without its keyring (and its WAL) to
/// `<db>.orphaned-<ms>[-wal|-shm|-journal]`; nothing is deleted.
fn move_aside(path: &Path) -> Result<()> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let aside = with_suffix(path, &format!(".orphaned-{ms}"));
    for suffix in ["-wal", "-shm", "-journal", ""] {
        let from = with_suffix(path, suffix);
        if from.exists() {
            std::fs::rename(&from, with_suffix(&aside, suffix))?;
        }
    }
    crate::keyring::sync_dir(path);
    Ok(())
}

pub(crate) fn upsert_user(conn: &Connection, user: &LocalUser) -> Result<()> {
    // A user removed and re-added on the server has a new id under the same username: the
    // stale row would break the UNIQUE username.
    conn.execute(
        "DELETE FROM users WHERE username = ?1 AND id != ?2",
        params![user.username, user.user_id.to_string()],
    )?;
    conn.execute(
        "INSERT INTO users (id, username, display_name, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET username = excluded.username,
             display_name = excluded.display_name, role = excluded.role",
        params![
            user.user_id.to_string(),
            user.username,
            user.display_name,
            user.role
        ],
    )?;
    Ok(())
}
