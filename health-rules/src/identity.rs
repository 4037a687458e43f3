//! identity rules (being written).
