//! A stamp names one edit: its HLC and the device that made it. HLCs alone can collide
//! across devices (two tablets that observed the same pulled stamp may issue the same next
//! stamp); a device never issues the same HLC twice, so `(hlc, device)` is unique.

use crate::hlc::Hlc;
use crate::ids::DeviceId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Wire form: `<hlc>.<device>`, e.g. `019aab0c1e200000.019aaa00-0000-7000-8000-00000000d001`.
/// Stamps order by HLC, then device id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub hlc: Hlc,
    pub device: DeviceId,
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.hlc, self.device)
    }
}

/// A stamp that is not `<16 hex digits>.<lowercase hyphenated UUID>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed stamp {0:?}: expected <16 hex digits>.<uuid>")]
pub struct StampError(pub String);

impl FromStr for Stamp {
    type Err = StampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StampError(s.chars().take(80).collect());
        let (hlc, device) = s.split_once('.').ok_or_else(bad)?;
        let hlc: Hlc = hlc.parse().map_err(|_| bad())?;
        let device = crate::ids::parse_canonical_uuid(device).ok_or_else(bad)?;
        Ok(Stamp {
            hlc,
            device: DeviceId(device),
        })
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Stamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a stamp <16 hex digits>.<uuid>")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Stamp, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let text = "019aab0c1e200000.019aaa00-0000-7000-8000-00000000d001";
        let s: Stamp = text.parse().unwrap();
        assert_eq!(s.to_string(), text);
        assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{text}\""));
        for bad in [
            "019aab0c1e200000",
            "019aab0c1e200000.019AAA00-0000-7000-8000-00000000D001",
            "019aab0c1e200000.019aaa0000007000800000000000d001",
            "019aab0c1e20000.019aaa00-0000-7000-8000-00000000d001",
            ".019aaa00-0000-7000-8000-00000000d001",
        ] {
            assert!(bad.parse::<Stamp>().is_err(), "{bad}");
        }
    }
}
