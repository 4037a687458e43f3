//! growth rules (being written).
