//! immunisation rules (being written).
