//! "Titip data" (sync through another tablet or a file, `docs/sync-protocol.md` §10): export
//! this tablet's undelivered changes as a sealed bundle file, import a bundle to carry (its
//! hand-over goes with this tablet's next sync) or an answer meant for this tablet, write
//! the answers this tablet carried back, and what the sync panel shows of all that.

use super::AppCore;
use crate::error::AppError;
use field_core::sync::lan::{self, LanError, LanOffer, LanTimes, OfferState};
use field_core::sync::{CarriedBundle, OpenReport, SentBundle, TitipError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use sync_protocol::relay::SealedKind;

impl From<TitipError> for AppError {
    fn from(e: TitipError) -> Self {
        match e {
            TitipError::Store(s) => s.into(),
            TitipError::Sync(s) => s.into(),
            other => AppError::from_saved(other.message_key(), &other.to_string()),
        }
    }
}

/// What the sync panel shows of titip.
#[derive(Debug, Clone, Serialize)]
pub struct TitipOverview {
    /// This tablet has titip keys (enrolled with a server that knows titip).
    pub ready: bool,
    /// Bundles this tablet sealed, newest first, with what the server confirmed.
    pub sent: Vec<SentBundle>,
    /// Per tablet this one carries for: bundles waiting for the next sync, handed over
    /// (answers kept), refused.
    pub carrying: Vec<CarriedFor>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CarriedFor {
    pub device: String,
    pub waiting: u64,
    pub handed: u64,
    pub refused: u64,
    pub changes: u64,
}

/// What an imported file did.
#[derive(Debug, Clone, Serialize)]
pub struct TitipImported {
    /// Bundles taken to carry (new ones).
    pub carried: u64,
    /// Answers opened for this tablet, when the file held any.
    pub opened: Option<OpenReport>,
}

/// A written titip file.
#[derive(Debug, Clone, Serialize)]
pub struct TitipWritten {
    pub path: String,
    pub items: u64,
    pub bytes: u64,
}

fn absolute(dest: &str) -> Result<PathBuf, AppError> {
    let p = PathBuf::from(dest.trim());
    if p.is_absolute() && p.file_name().is_some() {
        Ok(p)
    } else {
        Err(AppError::from_saved(
            "titip.error.bad_path",
            "Choose a file.",
        ))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write;
    let mut f = field_core::store::files::create_private_file(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

impl From<LanError> for AppError {
    fn from(e: LanError) -> Self {
        AppError::from_saved(e.message_key(), &e.to_string())
    }
}

/// What this tablet offers on the local network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LanWhat {
    /// Its own undelivered changes, sealed (the kader's tablet).
    Bundle,
    /// The answers it carried back for other tablets (the carrier).
    Answers,
}

/// An offer on the local network, as the screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LanOffered {
    pub what: LanWhat,
    /// Addresses to type on the other tablet (`ip:port`), the likeliest first.
    pub addresses: Vec<String>,
    pub code: String,
    /// Seconds until the offer expires.
    pub expires_in_s: u64,
    /// Changes (bundle) or answers (pack) it holds.
    pub items: u64,
    pub bytes: u64,
    pub state: OfferState,
}

/// Groups carried bundles by the tablet they belong to.
pub fn carried_for(carried: &[CarriedBundle]) -> Vec<CarriedFor> {
    let mut by: BTreeMap<String, CarriedFor> = BTreeMap::new();
    for c in carried {
        let e = by.entry(c.device.clone()).or_insert_with(|| CarriedFor {
            device: c.device.clone(),
            waiting: 0,
            handed: 0,
            refused: 0,
            changes: 0,
        });
        match (&c.refused, c.handed_ms) {
            (Some(_), _) => e.refused += 1,
            (None, Some(_)) => e.handed += 1,
            (None, None) => {
                e.waiting += 1;
                e.changes += c.count;
            }
        }
    }
    by.into_values().collect()
}

impl AppCore {
    pub fn titip_overview(&self) -> Result<TitipOverview, AppError> {
        self.with_store(|s| {
            Ok(TitipOverview {
                ready: s.titip_ready()?,
                sent: s.titip_sent()?,
                carrying: carried_for(&s.titip_carried()?),
            })
        })
    }

    /// Seals what this tablet has not delivered into `dest` (an absolute path the save
    /// dialog gave).
    pub fn titip_export(&self, dest: &str) -> Result<TitipWritten, AppError> {
        let path = absolute(dest)?;
        let sealed = self.with_store(|s| {
            let max = sync_protocol::Limits::default().max_batch;
            Ok(s.seal_titip(None, max)?)
        })?;
        write_private(&path, &sealed)?;
        let items = field_core::sync::peek(&sealed)
            .ok()
            .and_then(|v| v.first().map(|x| x.2))
            .unwrap_or(0);
        Ok(TitipWritten {
            path: path.display().to_string(),
            items,
            bytes: sealed.len() as u64,
        })
    }

    /// Imports a titip file: bundles of other tablets are kept to carry; answers meant for
    /// this tablet are opened.
    pub fn titip_import(&self, path: &str) -> Result<TitipImported, AppError> {
        let bytes = std::fs::read(path.trim())?;
        self.import_titip_bytes(&bytes)
    }

    fn import_titip_bytes(&self, bytes: &[u8]) -> Result<TitipImported, AppError> {
        let bytes = bytes.to_vec();
        let kinds = field_core::sync::peek(&bytes).map_err(TitipError::from)?;
        let has_bundle = kinds.iter().any(|k| k.0 == SealedKind::Bundle);
        let has_answer = kinds.iter().any(|k| k.0 == SealedKind::Answer);
        self.with_store(|s| {
            let carried = if has_bundle {
                s.carry_titip(&bytes)? as u64
            } else {
                0
            };
            let opened = if has_answer {
                Some(s.open_titip(&bytes)?)
            } else {
                None
            };
            Ok(TitipImported { carried, opened })
        })
    }

    /// Writes the answers this tablet carried back (a pack for every tablet it carried for).
    pub fn titip_collect(&self, dest: &str) -> Result<TitipWritten, AppError> {
        let path = absolute(dest)?;
        let (pack, n) = self.with_store(|s| Ok(s.collect_titip()?))?;
        write_private(&path, &pack)?;
        Ok(TitipWritten {
            path: path.display().to_string(),
            items: n as u64,
            bytes: pack.len() as u64,
        })
    }

    /// Offers this tablet's sealed bundle, or the answers it carried back, on the local
    /// network with a fresh code; a previous offer ends.
    pub fn titip_lan_offer(&self, what: LanWhat) -> Result<LanOffered, AppError> {
        let (file, items) = match what {
            LanWhat::Bundle => {
                let sealed = self.with_store(|s| {
                    let max = sync_protocol::Limits::default().max_batch;
                    Ok(s.seal_titip(None, max)?)
                })?;
                let n = field_core::sync::peek(&sealed)
                    .ok()
                    .and_then(|v| v.first().map(|x| x.2))
                    .unwrap_or(0);
                (sealed, n)
            }
            LanWhat::Answers => {
                let (pack, n) = self.with_store(|s| Ok(s.collect_titip()?))?;
                (pack, n as u64)
            }
        };
        let bytes = file.len() as u64;
        let mut slot = super::lock(&self.lan_offer);
        if let Some(mut old) = slot.take() {
            old.cancel();
        }
        let bind = std::net::SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0));
        let offer = LanOffer::start(file, bind, LanTimes::default())?;
        let mut addresses = Vec::new();
        if let Some(ip) = lan::local_ip() {
            addresses.push(format!("{ip}:{}", offer.port()));
        }
        addresses.push(format!("127.0.0.1:{}", offer.port()));
        let shown = LanOffered {
            what,
            addresses,
            code: offer.code().to_string(),
            expires_in_s: offer.remaining().as_secs(),
            items,
            bytes,
            state: offer.state(),
        };
        *slot = Some(offer);
        Ok(shown)
    }

    /// Where the current offer stands (`None`: there is none).
    pub fn titip_lan_state(&self) -> Option<OfferState> {
        super::lock(&self.lan_offer).as_ref().map(LanOffer::state)
    }

    /// Ends the current offer.
    pub fn titip_lan_cancel(&self) {
        if let Some(mut o) = super::lock(&self.lan_offer).take() {
            o.cancel();
        }
    }

    /// Receives what the tablet at `address` offers with `code`, and takes it in as an
    /// imported file would be: a bundle to carry, or answers meant for this tablet.
    pub fn titip_lan_receive(&self, address: &str, code: &str) -> Result<TitipImported, AppError> {
        // Checked before the network: a locked tablet does not take anything in.
        self.with_store(|s| Ok(s.titip_ready()?))?;
        let file = lan::receive(address, code, lan::IO_TIMEOUT)?;
        self.import_titip_bytes(&file)
    }
}
