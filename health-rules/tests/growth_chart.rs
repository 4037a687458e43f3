//! Growth chart data: the curves are the WHO standards' SD curves, and points land where
//! their z-score says.
#![allow(clippy::unwrap_used)]

use health_rules::Sex;
use health_rules::growth::chart::{
    self, ChartInput, SD_LEVELS, bands, curves_at, default_ages, place_points,
};
use health_rules::growth::{Category, Indicator, Position, zscore};
use health_rules::kms::{OrangeLine, RedLine};

const SEXES: [Sex; 2] = [Sex::Male, Sex::Female];

/// Every curve value has exactly its SD level as z-score (the curves invert the z-score).
#[test]
fn every_curve_value_has_its_own_z_score() {
    let mut checked = 0;
    for ind in [
        Indicator::WeightForAge,
        Indicator::LengthHeightForAge,
        Indicator::HeadCircumferenceForAge,
        Indicator::BmiForAge,
    ] {
        for sex in SEXES {
            let c = chart::chart(ind, sex).unwrap();
            assert_eq!(c.curves.len(), default_ages(ind).len(), "{ind:?}");
            for p in &c.curves {
                for (k, v) in SD_LEVELS.iter().zip(p.sd) {
                    let z = zscore(ind, sex, p.age_days, v).unwrap();
                    assert!(
                        (z - f64::from(*k)).abs() < 1e-6,
                        "{ind:?} {sex:?} day {} SD {k}: z {z}",
                        p.age_days
                    );
                    checked += 1;
                }
                assert!(p.sd.windows(2).all(|w| w[0] < w[1]), "curves in order");
            }
        }
    }
    assert!(checked > 3_000, "{checked}");
}

/// WHO simplified field tables ("Weight-for-age, Birth to 5 years (z-scores)", boys and
/// girls; "Length/height-for-age"), which print the SD curves with one decimal.
#[test]
fn curves_match_the_who_simplified_field_tables() {
    // (indicator, sex, age in days, −3 … +3 SD as printed)
    let published: [(Indicator, Sex, u32, [f64; 7]); 12] = [
        (
            Indicator::WeightForAge,
            Sex::Male,
            0,
            [2.1, 2.5, 2.9, 3.3, 3.9, 4.4, 5.0],
        ),
        (
            Indicator::WeightForAge,
            Sex::Male,
            365,
            [6.9, 7.7, 8.6, 9.6, 10.8, 12.0, 13.3],
        ),
        (
            Indicator::WeightForAge,
            Sex::Male,
            1826,
            [12.4, 14.1, 16.0, 18.3, 21.0, 24.2, 27.9],
        ),
        (
            Indicator::WeightForAge,
            Sex::Female,
            0,
            [2.0, 2.4, 2.8, 3.2, 3.7, 4.2, 4.8],
        ),
        (
            Indicator::WeightForAge,
            Sex::Female,
            365,
            [6.3, 7.0, 7.9, 8.9, 10.1, 11.5, 13.1],
        ),
        (
            Indicator::WeightForAge,
            Sex::Female,
            1826,
            [12.1, 13.7, 15.8, 18.2, 21.2, 24.9, 29.5],
        ),
        (
            Indicator::LengthHeightForAge,
            Sex::Male,
            0,
            [44.2, 46.1, 48.0, 49.9, 51.8, 53.7, 55.6],
        ),
        (
            Indicator::LengthHeightForAge,
            Sex::Male,
            731,
            [78.0, 81.0, 84.1, 87.1, 90.2, 93.2, 96.3],
        ),
        (
            Indicator::LengthHeightForAge,
            Sex::Male,
            1826,
            [96.1, 100.7, 105.3, 110.0, 114.6, 119.2, 123.9],
        ),
        (
            Indicator::LengthHeightForAge,
            Sex::Female,
            0,
            [43.6, 45.4, 47.3, 49.1, 51.0, 52.9, 54.7],
        ),
        (
            Indicator::LengthHeightForAge,
            Sex::Female,
            731,
            [76.0, 79.3, 82.5, 85.7, 89.0, 92.2, 95.4],
        ),
        (
            Indicator::LengthHeightForAge,
            Sex::Female,
            1826,
            [95.2, 99.9, 104.7, 109.4, 114.2, 118.9, 123.7],
        ),
    ];
    for (ind, sex, day, want) in published {
        let got = curves_at(ind, sex, &[day]).unwrap();
        let got = got[0].sd.map(|v| (v * 10.0).round() / 10.0);
        assert_eq!(got, want, "{ind:?} {sex:?} day {day}");
    }
}

#[test]
fn length_chart_switches_to_height_at_24_months() {
    let c = chart::chart(Indicator::LengthHeightForAge, Sex::Male).unwrap();
    let at = |d: u32| c.curves.iter().find(|p| p.age_days == d).unwrap();
    assert_eq!(at(730).position, Some(Position::Lying));
    assert_eq!(at(731).position, Some(Position::Standing));
    // The height curve is 0.7 cm below the length curve at the switch.
    assert!((at(730).sd[3] - at(731).sd[3] - 0.7).abs() < 0.1);
    assert!(c.lines.is_empty());
    let w = chart::chart(Indicator::WeightForAge, Sex::Male).unwrap();
    assert!(w.curves.iter().all(|p| p.position.is_none()));
}

#[test]
fn kms_lines_follow_their_tables() {
    let c = chart::chart(Indicator::WeightForAge, Sex::Female).unwrap();
    assert_eq!(c.lines.len(), 2);
    let red = &c.lines[0];
    assert_eq!(red.kind, "red_line");
    assert_eq!(red.table_id, RedLine::kms_2010().id);
    // The red line is the −3 SD curve, the orange line the +1 SD curve.
    for (l, p) in red.points.iter().zip(&c.curves) {
        assert!((l.value - p.sd[0]).abs() < 1e-9);
    }
    for (l, p) in c.lines[1].points.iter().zip(&c.curves) {
        assert!((l.value - p.sd[4]).abs() < 1e-9);
    }
    // A district line at −3.5 SD lies below −3 SD (restricted tail: linear).
    let mut low = RedLine::kms_2010().clone();
    low.wfa_z = -3.5;
    let c2 = chart::chart_with(
        Indicator::WeightForAge,
        Sex::Female,
        &low,
        OrangeLine::buku_kia_2020(),
    )
    .unwrap();
    for (l, p) in c2.lines[0].points.iter().zip(&c2.curves) {
        let z = zscore(Indicator::WeightForAge, Sex::Female, p.age_days, l.value).unwrap();
        assert!((z + 3.5).abs() < 1e-6);
    }
}

#[test]
fn bands_tile_the_z_axis_with_permenkes_categories() {
    for ind in [
        Indicator::WeightForAge,
        Indicator::LengthHeightForAge,
        Indicator::WeightForLength,
    ] {
        let b = bands(ind);
        assert!(b.first().unwrap().from_z.is_none());
        assert!(b.last().unwrap().to_z.is_none());
        for w in b.windows(2) {
            assert_eq!(w[0].to_z, w[1].from_z, "{ind:?}");
        }
    }
    assert_eq!(
        bands(Indicator::WeightForAge)[2].category,
        Category::NormalWeight
    );
    assert!(bands(Indicator::HeadCircumferenceForAge).is_empty());
}

#[test]
fn points_are_placed_with_z_category_and_position_correction() {
    let curves = curves_at(Indicator::LengthHeightForAge, Sex::Male, &[365]).unwrap();
    let median = curves[0].sd[3];
    let pts = place_points(
        Indicator::LengthHeightForAge,
        Sex::Male,
        &[
            ChartInput {
                age_days: 365,
                value: median,
                position: Some(Position::Lying),
            },
            // Measured standing at one year: +0.7 cm before scoring.
            ChartInput {
                age_days: 365,
                value: median - 0.7,
                position: Some(Position::Standing),
            },
            // Unscorable: beyond the WHO 2007 reference.
            ChartInput {
                age_days: 8000,
                value: 170.0,
                position: None,
            },
        ],
    );
    assert_eq!(pts[0].z, Some(0.0));
    assert_eq!(pts[0].category, Some(Category::NormalHeight));
    assert!((pts[1].plotted - median).abs() < 1e-9);
    assert_eq!(pts[1].z, Some(0.0));
    assert_eq!(pts[2].z, None);
    assert_eq!(pts[2].error_key, Some("growth.age_out_of_range"));
    // A weight far off the chart is flagged.
    let w = place_points(
        Indicator::WeightForAge,
        Sex::Female,
        &[ChartInput {
            age_days: 400,
            value: 30.0,
            position: None,
        }],
    );
    assert!(w[0].flagged);
    assert_eq!(w[0].category, Some(Category::RiskOfOverweight));
}
