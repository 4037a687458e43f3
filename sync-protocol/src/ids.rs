//! Identifiers. Every record id is a UUIDv7 made on the device that creates the record, so ids
//! sort roughly by creation time and never need a server round trip.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Parses a UUID only in the canonical wire form: lowercase, hyphenated, 36 characters.
/// Other spellings (upper case, braces, no hyphens) would break string joins in the stores.
pub fn parse_canonical_uuid(s: &str) -> Option<Uuid> {
    let u = Uuid::try_parse(s).ok()?;
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    (u.hyphenated().encode_lower(&mut buf) == s).then_some(u)
}

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                parse_canonical_uuid(&s).map(Self).ok_or_else(|| {
                    serde::de::Error::custom("expected a lowercase hyphenated UUID")
                })
            }
        }

        impl $name {
            /// A new time-ordered (UUIDv7) id.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let u = Uuid::try_parse(s)?;
                // Accept any spelling from people and files; the wire is strict (Deserialize).
                Ok(Self(u))
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

uuid_id!(
    /// The id of one record (a household, a person, a measurement, ...).
    RecordId
);
uuid_id!(
    /// The id the server gives a device at enrolment.
    DeviceId
);
uuid_id!(
    /// The id of a user account (kader, bidan, perawat, admin).
    UserId
);
