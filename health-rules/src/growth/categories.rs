//! Nutritional-status categories of Permenkes No. 2 Tahun 2020 (Standar Antropometri Anak).
//!
//! Boundaries are applied to the z-score rounded to 2 decimals, as WHO reports it:
//! "−3 to < −2" means `−3.00 ≤ z < −2.00`, "−2 to +1" means `−2.00 ≤ z ≤ +1.00`, and so on.

use serde::{Serialize, Serializer};

use crate::common::Label;

/// A Permenkes 2/2020 category. Serialises as its [`Label`] (`key`, `id`, `en`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    // BB/U — weight-for-age, 0–60 months.
    /// BB/U < −3 SD.
    SeverelyUnderweight,
    /// BB/U −3 to < −2 SD.
    Underweight,
    /// BB/U −2 to +1 SD.
    NormalWeight,
    /// BB/U > +1 SD.
    RiskOfOverweight,
    // PB/U, TB/U — length/height-for-age, 0–60 months.
    /// PB/U or TB/U < −3 SD.
    SeverelyStunted,
    /// PB/U or TB/U −3 to < −2 SD.
    Stunted,
    /// PB/U or TB/U −2 to +3 SD.
    NormalHeight,
    /// PB/U or TB/U > +3 SD.
    Tall,
    // BB/PB, BB/TB and IMT/U 0–60 months.
    /// < −3 SD.
    SeverelyWasted,
    /// −3 to < −2 SD.
    Wasted,
    /// −2 to +1 SD.
    NormalNutrition,
    /// > +1 to +2 SD.
    PossibleRiskOfOverweight,
    /// > +2 to +3 SD.
    Overweight,
    /// > +3 SD.
    Obese,
    // IMT/U 5–18 years.
    /// IMT/U 5–18 years < −3 SD.
    SevereThinness,
    /// IMT/U 5–18 years −3 to < −2 SD.
    Thinness,
    /// IMT/U 5–18 years −2 to +1 SD.
    NormalBmi,
    /// IMT/U 5–18 years > +1 to +2 SD.
    OverweightBmi,
    /// IMT/U 5–18 years > +2 SD.
    ObeseBmi,
}

macro_rules! label {
    ($key:literal, $id:literal, $en:literal) => {
        Label {
            key: $key,
            id: $id,
            en: $en,
        }
    };
}

impl Category {
    /// Indonesian and English label with a stable key.
    pub fn label(self) -> Label {
        use Category::*;
        match self {
            SeverelyUnderweight => label!(
                "growth.wfa.severely_underweight",
                "Berat badan sangat kurang",
                "Severely underweight"
            ),
            Underweight => label!(
                "growth.wfa.underweight",
                "Berat badan kurang",
                "Underweight"
            ),
            NormalWeight => label!("growth.wfa.normal", "Berat badan normal", "Normal weight"),
            RiskOfOverweight => label!(
                "growth.wfa.risk_of_overweight",
                "Risiko berat badan lebih",
                "Risk of overweight"
            ),
            SeverelyStunted => label!(
                "growth.lhfa.severely_stunted",
                "Sangat pendek",
                "Severely stunted"
            ),
            Stunted => label!("growth.lhfa.stunted", "Pendek", "Stunted"),
            NormalHeight => label!("growth.lhfa.normal", "Normal", "Normal"),
            Tall => label!("growth.lhfa.tall", "Tinggi", "Tall"),
            SeverelyWasted => label!(
                "growth.wfl.severely_wasted",
                "Gizi buruk",
                "Severely wasted"
            ),
            Wasted => label!("growth.wfl.wasted", "Gizi kurang", "Wasted"),
            NormalNutrition => label!("growth.wfl.normal", "Gizi baik", "Normal"),
            PossibleRiskOfOverweight => label!(
                "growth.wfl.possible_risk_of_overweight",
                "Berisiko gizi lebih",
                "Possible risk of overweight"
            ),
            Overweight => label!("growth.wfl.overweight", "Gizi lebih", "Overweight"),
            Obese => label!("growth.wfl.obese", "Obesitas", "Obese"),
            SevereThinness => label!(
                "growth.bfa_5_18.severe_thinness",
                "Gizi buruk",
                "Severe thinness"
            ),
            Thinness => label!("growth.bfa_5_18.thinness", "Gizi kurang", "Thinness"),
            NormalBmi => label!("growth.bfa_5_18.normal", "Gizi baik", "Normal"),
            OverweightBmi => label!("growth.bfa_5_18.overweight", "Gizi lebih", "Overweight"),
            ObeseBmi => label!("growth.bfa_5_18.obese", "Obesitas", "Obese"),
        }
    }

    /// BB/U (weight-for-age), 0–60 months.
    pub fn weight_for_age(z: f64) -> Category {
        match z {
            z if z < -3.0 => Category::SeverelyUnderweight,
            z if z < -2.0 => Category::Underweight,
            z if z <= 1.0 => Category::NormalWeight,
            _ => Category::RiskOfOverweight,
        }
    }

    /// PB/U or TB/U (length/height-for-age), 0–60 months.
    pub fn length_height_for_age(z: f64) -> Category {
        match z {
            z if z < -3.0 => Category::SeverelyStunted,
            z if z < -2.0 => Category::Stunted,
            z if z <= 3.0 => Category::NormalHeight,
            _ => Category::Tall,
        }
    }

    /// BB/PB, BB/TB (weight-for-length/height) and IMT/U (BMI-for-age), 0–60 months.
    pub fn weight_for_length_or_bmi_under_five(z: f64) -> Category {
        match z {
            z if z < -3.0 => Category::SeverelyWasted,
            z if z < -2.0 => Category::Wasted,
            z if z <= 1.0 => Category::NormalNutrition,
            z if z <= 2.0 => Category::PossibleRiskOfOverweight,
            z if z <= 3.0 => Category::Overweight,
            _ => Category::Obese,
        }
    }

    /// IMT/U (BMI-for-age), 5–18 years.
    pub fn bmi_for_age_5_to_18(z: f64) -> Category {
        match z {
            z if z < -3.0 => Category::SevereThinness,
            z if z < -2.0 => Category::Thinness,
            z if z <= 1.0 => Category::NormalBmi,
            z if z <= 2.0 => Category::OverweightBmi,
            _ => Category::ObeseBmi,
        }
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.label().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_permenkes_2_2020() {
        use Category::*;
        let wfa = [
            (-3.01, SeverelyUnderweight),
            (-3.0, Underweight),
            (-2.01, Underweight),
            (-2.0, NormalWeight),
            (1.0, NormalWeight),
            (1.01, RiskOfOverweight),
        ];
        for (z, c) in wfa {
            assert_eq!(Category::weight_for_age(z), c, "wfa {z}");
        }
        let lhfa = [
            (-3.01, SeverelyStunted),
            (-3.0, Stunted),
            (-2.0, NormalHeight),
            (3.0, NormalHeight),
            (3.01, Tall),
        ];
        for (z, c) in lhfa {
            assert_eq!(Category::length_height_for_age(z), c, "lhfa {z}");
        }
        let wfl = [
            (-3.01, SeverelyWasted),
            (-3.0, Wasted),
            (-2.0, NormalNutrition),
            (1.0, NormalNutrition),
            (1.01, PossibleRiskOfOverweight),
            (2.0, PossibleRiskOfOverweight),
            (2.01, Overweight),
            (3.0, Overweight),
            (3.01, Obese),
        ];
        for (z, c) in wfl {
            assert_eq!(
                Category::weight_for_length_or_bmi_under_five(z),
                c,
                "wfl {z}"
            );
        }
        let bmi = [
            (-3.01, SevereThinness),
            (-3.0, Thinness),
            (-2.0, NormalBmi),
            (1.0, NormalBmi),
            (1.01, OverweightBmi),
            (2.0, OverweightBmi),
            (2.01, ObeseBmi),
        ];
        for (z, c) in bmi {
            assert_eq!(Category::bmi_for_age_5_to_18(z), c, "bmi {z}");
        }
    }

    #[test]
    fn serialises_as_label() {
        let json = serde_json::to_string(&Category::Stunted).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"key":"growth.lhfa.stunted","id":"Pendek","en":"Stunted"}"#
        );
    }
}
