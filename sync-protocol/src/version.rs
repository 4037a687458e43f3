//! Protocol version negotiation.
//!
//! Every request carries the header `Jangkau-Protocol: <n>` and every body the field `"v": n`.
//! A server answers a version outside its range with HTTP 426 and an [`crate::ErrorBody`] of
//! code `protocol_unsupported` that says which side must be updated; a body whose `v` differs
//! from the header, or from what the decoder expects, is refused by the codec before any of
//! its content is used. Nothing is ever parsed "as best it can".

use serde::{Deserialize, Serialize};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u16 = 2;
/// The oldest protocol version this crate still speaks.
pub const MIN_PROTOCOL_VERSION: u16 = 1;
/// The HTTP header that carries the protocol version.
pub const PROTOCOL_HEADER: &str = "jangkau-protocol";

/// The versions one side speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionRange {
    pub min: u16,
    pub max: u16,
}

impl VersionRange {
    pub const CURRENT: VersionRange = VersionRange {
        min: MIN_PROTOCOL_VERSION,
        max: PROTOCOL_VERSION,
    };

    /// Picks the version to speak with a peer that announced `peer`.
    pub fn negotiate(self, peer: u16) -> Result<u16, VersionError> {
        if peer < self.min {
            Err(VersionError::PeerTooOld {
                peer,
                supported: self,
            })
        } else if peer > self.max {
            Err(VersionError::PeerTooNew {
                peer,
                supported: self,
            })
        } else {
            Ok(peer)
        }
    }

    /// Parses the header value and negotiates.
    pub fn negotiate_header(self, header: Option<&str>) -> Result<u16, VersionError> {
        let raw = header.ok_or(VersionError::Missing)?;
        let digits = raw.trim();
        let unparsable = || VersionError::Unparsable(raw.chars().take(20).collect());
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unparsable());
        }
        let peer = digits.parse::<u16>().map_err(|_| unparsable())?;
        self.negotiate(peer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("the request does not say which protocol version it speaks (header Jangkau-Protocol)")]
    Missing,
    #[error("the protocol version {0:?} is not a number")]
    Unparsable(String),
    /// Seen by a server: the app is older than the server supports. The user must update the app.
    #[error(
        "this app speaks sync protocol {peer}, the server needs {}–{}: update the app",
        supported.min, supported.max
    )]
    PeerTooOld { peer: u16, supported: VersionRange },
    /// Seen by a server: the app is newer than the server. The district must update the server.
    #[error(
        "this app speaks sync protocol {peer}, the server only {}–{}: the server must be updated",
        supported.min, supported.max
    )]
    PeerTooNew { peer: u16, supported: VersionRange },
}

impl VersionError {
    /// The message key a client shows when the *server* answered with this error (the
    /// server's view: its peer, the app, is too old or too new).
    pub fn client_message_key(&self) -> &'static str {
        self.message_key()
    }

    /// The message key the app translates, for an error the server found in a request.
    pub fn message_key(&self) -> &'static str {
        match self {
            VersionError::Missing
            | VersionError::Unparsable(_)
            | VersionError::PeerTooOld { .. } => "sync.update_app",
            VersionError::PeerTooNew { .. } => "sync.update_server",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_table() {
        let server = VersionRange { min: 2, max: 3 };
        let cases: [(Option<&str>, Result<u16, &str>); 8] = [
            (Some("2"), Ok(2)),
            (Some(" 3 "), Ok(3)),
            (Some("1"), Err("sync.update_app")),
            (Some("4"), Err("sync.update_server")),
            (Some("v2"), Err("sync.update_app")),
            (Some("+2"), Err("sync.update_app")),
            (Some(""), Err("sync.update_app")),
            (None, Err("sync.update_app")),
        ];
        for (header, want) in cases {
            let got = server.negotiate_header(header).map_err(|e| e.message_key());
            assert_eq!(got, want, "{header:?}");
        }
    }

    #[test]
    fn the_message_tells_the_user_what_to_do() {
        let e = VersionRange::CURRENT
            .negotiate(0)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("update the app")));
    }
}
