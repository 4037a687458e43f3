//! The server's own records: places, users, devices, sessions. Shared by both storage
//! backends and the HTTP layer.

use sync_protocol::{DeviceId, PlaceLevel, Role, Scope, UserId};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    let ms = chrono::Utc::now().timestamp_millis();
    u64::try_from(ms).unwrap_or(0)
}

/// Today's date in WITA (UTC+8, Belu's time zone), `YYYY-MM-DD`: dates in bodies are local.
/// One day of slack is allowed for tablets in other zones: the bound is the later of WITA's
/// date and the date 14 hours ahead of UTC (the easternmost zone).
pub fn today_for_validation(now_ms: u64) -> String {
    let ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let ahead = t + chrono::Duration::hours(14);
    ahead.format("%Y-%m-%d").to_string()
}

pub fn level_str(level: PlaceLevel) -> &'static str {
    match level {
        PlaceLevel::Kabupaten => "kabupaten",
        PlaceLevel::Kecamatan => "kecamatan",
        PlaceLevel::Puskesmas => "puskesmas",
        PlaceLevel::Desa => "desa",
        PlaceLevel::Dusun => "dusun",
        PlaceLevel::Posyandu => "posyandu",
    }
}

pub fn parse_level(s: &str) -> Option<PlaceLevel> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "kabupaten" | "kota" => PlaceLevel::Kabupaten,
        "kecamatan" => PlaceLevel::Kecamatan,
        "puskesmas" => PlaceLevel::Puskesmas,
        "desa" | "kelurahan" | "desa/kelurahan" => PlaceLevel::Desa,
        "dusun" | "rw" => PlaceLevel::Dusun,
        "posyandu" => PlaceLevel::Posyandu,
        _ => return None,
    })
}

pub fn role_str(role: Role) -> &'static str {
    match role {
        Role::Kader => "kader",
        Role::Bidan => "bidan",
        Role::Perawat => "perawat",
        Role::PuskesmasAdmin => "puskesmas_admin",
        Role::DinasAdmin => "dinas_admin",
    }
}

pub fn parse_role(s: &str) -> Option<Role> {
    Some(
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "kader" => Role::Kader,
            "bidan" => Role::Bidan,
            "perawat" => Role::Perawat,
            "puskesmas_admin" => Role::PuskesmasAdmin,
            "dinas_admin" => Role::DinasAdmin,
            _ => return None,
        },
    )
}

/// The scope levels a role may be given.
pub fn allowed_scope_levels(role: Role) -> &'static [PlaceLevel] {
    match role {
        Role::Kader => &[PlaceLevel::Posyandu],
        Role::Bidan | Role::Perawat => &[
            PlaceLevel::Posyandu,
            PlaceLevel::Dusun,
            PlaceLevel::Desa,
            PlaceLevel::Puskesmas,
        ],
        Role::PuskesmasAdmin => &[PlaceLevel::Puskesmas],
        Role::DinasAdmin => &[PlaceLevel::Kabupaten],
    }
}

/// Whether the role administers devices and users (issues enrolment codes).
pub fn is_admin(role: Role) -> bool {
    matches!(role, Role::PuskesmasAdmin | Role::DinasAdmin)
}

/// One place of the district's hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub level: PlaceLevel,
    pub parent: Option<String>,
}

/// A user account. `secret_hash` is an Argon2id PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    pub secret_hash: String,
    pub disabled: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("scope", &self.scope)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// An enrolled device (tablet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub name: String,
    /// The user the enrolment code was issued for.
    pub user_id: UserId,
    pub enrolled_at: u64,
    pub revoked_at: Option<u64>,
    pub last_seen_at: Option<u64>,
    pub last_sync_at: Option<u64>,
    pub app_version: String,
    pub acked_seq: u64,
    /// The last contact by titip: when a bundle of it last reached the server through a
    /// carrier (migration 0006).
    pub last_relay_at: Option<u64>,
}

/// A device to create at enrolment.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: DeviceId,
    pub name: String,
    pub token_hash: String,
    pub app_version: String,
    pub now: u64,
}

impl NewDevice {
    /// The device as stored right after its enrolment for `user_id`.
    pub fn enrolled(self, user_id: UserId) -> Device {
        Device {
            id: self.id,
            name: self.name,
            user_id,
            enrolled_at: self.now,
            revoked_at: None,
            last_seen_at: Some(self.now),
            last_sync_at: None,
            app_version: self.app_version,
            acked_seq: 0,
            last_relay_at: None,
        }
    }
}

/// What a session token resolves to.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub device: Device,
    pub expires_at: u64,
}

/// What the server knows about one record: its kind, its posyandu, for facts a hash of the
/// body (facts never change), and what the deletion rules need: the role of the user who
/// created it and, for a referral (or a referral event), its furthest status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInfo {
    pub kind: sync_protocol::EntityKind,
    pub posyandu: String,
    pub fact_hash: Option<Vec<u8>>,
    /// `None` for a record created before migration 0003 whose creation was not found.
    pub creator_role: Option<Role>,
    pub status: Option<String>,
}

/// A settled (device, seq): its content hash and the outcome given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub hash: Vec<u8>,
    /// `None` when accepted; the final rejection otherwise.
    pub rejection: Option<sync_protocol::Rejection>,
}

/// The CSV header of a place import.
pub const PLACES_CSV_HEADER: &str = "code,name,level,parent";
