//! The LMS method (WHO 2006, *Methods and development*, chapter 7).

use super::tables::Lms;

/// Plain LMS z-score: `((y/M)^L − 1) / (S·L)`.
///
/// Every WHO LMS table has L ≠ 0, so the L = 0 limit (`ln(y/M)/S`) is kept only for safety.
pub(crate) fn z_plain(y: f64, p: Lms) -> f64 {
    if p.l.abs() < 1e-12 {
        (y / p.m).ln() / p.s
    } else {
        ((y / p.m).powf(p.l) - 1.0) / (p.s * p.l)
    }
}

/// The measurement at `z` SD: `M·(1 + L·S·z)^(1/L)`.
pub(crate) fn value_at(z: f64, p: Lms) -> f64 {
    if p.l.abs() < 1e-12 {
        p.m * (p.s * z).exp()
    } else {
        p.m * (1.0 + p.l * p.s * z).powf(1.0 / p.l)
    }
}

/// WHO's restricted z-score for the weight-based indicators: beyond ±3 SD the
/// distance is measured in units of the gap between the 2 and 3 SD curves
/// (`z* = ±3 + (y − SD3) / SD23`), because the LMS tail is not trusted there.
pub(crate) fn z_restricted(y: f64, p: Lms) -> f64 {
    let z = z_plain(y, p);
    if z > 3.0 {
        let sd3 = value_at(3.0, p);
        let sd23 = sd3 - value_at(2.0, p);
        3.0 + (y - sd3) / sd23
    } else if z < -3.0 {
        let sd3 = value_at(-3.0, p);
        let sd23 = value_at(-2.0, p) - sd3;
        -3.0 + (y - sd3) / sd23
    } else {
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Lms = Lms {
        l: -0.3521,
        m: 2.441,
        s: 0.09182,
    };

    #[test]
    fn value_at_inverts_z() {
        for z in [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0] {
            let y = value_at(z, P);
            assert!((z_plain(y, P) - z).abs() < 1e-9);
            assert!((z_restricted(y, P) - z).abs() < 1e-9);
        }
    }

    #[test]
    fn restricted_is_linear_beyond_three_sd() {
        let sd3 = value_at(3.0, P);
        let sd23 = sd3 - value_at(2.0, P);
        assert!((z_restricted(sd3 + sd23, P) - 4.0).abs() < 1e-9);
        let sd3n = value_at(-3.0, P);
        let sd23n = value_at(-2.0, P) - sd3n;
        assert!((z_restricted(sd3n - sd23n, P) + 4.0).abs() < 1e-9);
    }
}
