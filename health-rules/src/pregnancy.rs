//! pregnancy rules (being written).
