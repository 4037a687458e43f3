//! kms rules (being written).
