//! The domain API: what a kader, bidan or perawat does, as typed inputs. Field names are the
//! sync-protocol body field names, so an input serialises straight into a change body.

mod household;
pub(crate) mod records;
pub(crate) mod search;
mod services;

pub use household::{
    DuplicateReason, DuplicateWarning, HouseholdInput, PersonHit, PersonInput, Registered,
};
pub use records::PersonStatus;
pub use services::{
    AncContactInput, Attendance, AttendanceInput, HomeVisit, HomeVisitInput, ImmunisationInput,
    MeasurementInput, MemberPanel, MemberPanelSaved, PregnancyInput, ReferralInput, ScreeningInput,
    Services, ServicesSaved, SupplementInput,
};

use crate::error::{Result, StoreError};
use serde::Serialize;
use sync_protocol::Body;

/// A serialisable input as a change body: its fields, without the ones left empty.
pub(crate) fn body_of<T: Serialize>(input: &T) -> Result<Body> {
    match serde_json::to_value(input)? {
        serde_json::Value::Object(mut m) => {
            m.retain(|_, v| !v.is_null());
            Ok(m)
        }
        _ => Err(StoreError::Corrupt("input is not an object".into())),
    }
}
