//! report rules (being written).
