//! Property tests: z-scores rise with the measurement, across the ±3 SD switch to
//! WHO's restricted computation, and `assess` never panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::growth::{
    Indicator, Measurement, Measures, Position, assess, sd_curve, sd_curve_for_length, zscore,
    zscore_for_length,
};
use proptest::prelude::*;

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::Male), Just(Sex::Female)]
}

/// Any f64 a tablet can send: ordinary values, the plausibility bounds' edges, absurd
/// finite values (1e308) and non-finite ones.
fn wide() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0f64..300.0,
        1 => prop_oneof![Just(0.2), Just(250.0), Just(20.0), Just(15.0), Just(70.0), Just(5.0), Just(60.0)],
        1 => prop_oneof![Just(1e308), Just(-1e308), Just(f64::MAX), Just(f64::MIN_POSITIVE), Just(1e-300)],
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(0.0)],
        1 => any::<f64>(),
    ]
}

/// (indicator, first day, last day, plausible measurement range)
const AGE_BASED: [(Indicator, u32, u32, f64, f64); 5] = [
    (Indicator::WeightForAge, 0, 3682, 0.5, 80.0),
    (Indicator::LengthHeightForAge, 0, 6970, 30.0, 200.0),
    (Indicator::BmiForAge, 0, 6970, 5.0, 60.0),
    (Indicator::HeadCircumferenceForAge, 0, 1856, 20.0, 70.0),
    (Indicator::ArmCircumferenceForAge, 91, 1856, 5.0, 40.0),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn heavier_or_taller_gives_a_higher_z(
        which in 0usize..AGE_BASED.len(),
        sex in sex(),
        age_frac in 0.0f64..=1.0,
        a in 0.0f64..=1.0,
        b in 0.0f64..=1.0,
    ) {
        let (ind, lo, hi, min, max) = AGE_BASED[which];
        let age = lo + ((hi - lo) as f64 * age_frac) as u32;
        let (y1, y2) = (min + (max - min) * a.min(b), min + (max - min) * a.max(b));
        prop_assume!(y2 - y1 > 1e-6);
        let z1 = zscore(ind, sex, age, y1).unwrap();
        let z2 = zscore(ind, sex, age, y2).unwrap();
        prop_assert!(z1 < z2, "{ind} day {age}: z({y1}) = {z1} !< z({y2}) = {z2}");
    }

    #[test]
    fn heavier_for_the_same_length_gives_a_higher_z(
        sex in sex(),
        standing in any::<bool>(),
        len_frac in 0.0f64..=1.0,
        a in 0.9f64..=58.0,
        b in 0.9f64..=58.0,
    ) {
        let (ind, min, max) = if standing {
            (Indicator::WeightForHeight, 65.0, 120.0)
        } else {
            (Indicator::WeightForLength, 45.0, 110.0)
        };
        let len = min + (max - min) * len_frac;
        prop_assume!((a - b).abs() > 1e-6);
        let (w1, w2) = (a.min(b), a.max(b));
        let z1 = zscore_for_length(ind, sex, len, w1).unwrap();
        let z2 = zscore_for_length(ind, sex, len, w2).unwrap();
        prop_assert!(z1 < z2);
    }

    #[test]
    fn sd_curves_are_increasing(which in 0usize..AGE_BASED.len(), sex in sex(), day in 0u32..7000, len in 45.0f64..120.0) {
        let (ind, ..) = AGE_BASED[which];
        let curves = [sd_curve(ind, sex, day), sd_curve_for_length(Indicator::WeightForLength, sex, len),
            sd_curve_for_length(Indicator::WeightForHeight, sex, len)];
        for c in curves.into_iter().flatten() {
            prop_assert!(c.windows(2).all(|w| w[0] < w[1]), "{c:?}");
        }
    }

    #[test]
    fn assess_never_panics(
        sex in sex(),
        birth in 0i64..30_000,
        gap in -100i64..8000,
        weight in proptest::option::of(wide()),
        height in proptest::option::of(wide()),
        position in proptest::option::of(prop_oneof![Just(Position::Lying), Just(Position::Standing)]),
        head in proptest::option::of(wide()),
        muac in proptest::option::of(wide()),
        oedema in any::<bool>(),
    ) {
        let epoch = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
        let birth_date = epoch + chrono::Duration::days(birth);
        let measure_date = birth_date + chrono::Duration::days(gap);
        let m = Measurement {
            sex, birth_date, measure_date,
            measures: Measures { weight_kg: weight, length_height_cm: height, position, head_cm: head, muac_cm: muac, oedema },
        };
        match assess(&m) {
            Ok(a) => {
                for ind in Indicator::ALL {
                    if let Some(r) = a.get(ind) {
                        match r.z {
                            Some(z) => prop_assert!(z.is_finite() && z.abs() < 1e4, "{ind:?} {z}"),
                            // Only oedema gives a result without a z-score.
                            None => prop_assert!(oedema && ind.is_length_based()),
                        }
                    }
                }
                for s in &a.skipped {
                    prop_assert!(s.reason.len() < 200, "{}", s.reason);
                }
            }
            Err(e) => {
                // Messages stay short: numbers are printed with one decimal.
                prop_assert!(e.to_string().len() < 200, "{e}");
                prop_assert!(e.message_id().len() < 250, "{}", e.message_id());
            }
        }
    }
}
