//! tasks rules (being written).
