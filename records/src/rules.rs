//! Which versioned rule tables to use (district settings), and the tables they name.

use health_rules::immunisation::AreaOptions;
use health_rules::kms::{self, KbmTable};
use health_rules::pregnancy::{self, AncSchedule};
use serde::{Deserialize, Serialize};

/// A rule table named by the settings that health-rules does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("unknown KBM table {0}")]
    UnknownKbmTable(String),
    #[error("unknown ANC schedule {0}")]
    UnknownAncSchedule(String),
}

/// Which versioned rule tables to use (district settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOptions {
    /// KBM table id (minimum weight gain), e.g. `kbm-buku-kia-v1`.
    pub kbm_table: String,
    /// ANC schedule id, e.g. `anc-1-2-3-permenkes-21-2021-v1` (the default).
    pub anc_schedule: String,
    /// The district gives JE.
    pub je_area: bool,
}

impl Default for RuleOptions {
    fn default() -> Self {
        Self {
            kbm_table: kms::DEFAULT_KBM_ID.into(),
            anc_schedule: pregnancy::DEFAULT_ANC_ID.into(),
            je_area: false,
        }
    }
}

impl RuleOptions {
    /// The KBM table the settings name.
    pub fn kbm(&self) -> Result<&'static KbmTable, RulesError> {
        kms::kbm_table(&self.kbm_table)
            .ok_or_else(|| RulesError::UnknownKbmTable(self.kbm_table.clone()))
    }

    /// The ANC schedule the settings name.
    pub fn anc(&self) -> Result<&'static AncSchedule, RulesError> {
        pregnancy::anc_schedule(&self.anc_schedule)
            .ok_or_else(|| RulesError::UnknownAncSchedule(self.anc_schedule.clone()))
    }

    pub fn area(&self) -> AreaOptions {
        AreaOptions {
            je_area: self.je_area,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tables_exist_and_unknown_ones_are_named() {
        let o = RuleOptions::default();
        assert_eq!(o.kbm_table, "kbm-buku-kia-v1");
        assert!(o.kbm().is_ok());
        assert!(o.anc().is_ok());
        let bad = RuleOptions {
            kbm_table: "nope".into(),
            ..RuleOptions::default()
        };
        assert_eq!(
            bad.kbm().map(|t| t.id.clone()),
            Err(RulesError::UnknownKbmTable("nope".into()))
        );
    }
}
