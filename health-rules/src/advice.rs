//! Results in words a kader understands, each with what to do next.
//!
//! Every rule that judges a measurement ends here as a [`Finding`]: a [`Label`] saying the
//! result ("T: berat badan tidak naik", "Gizi kurang", "Tekanan darah tinggi"), a
//! [`Level`] for the colour of the badge, and the next step as another [`Label`]. The app
//! shows `label` and `action`; the keys are stable for the translation files.
//!
//! This module turns KMS results ([`crate::kms`]) and Permenkes 2/2020 categories
//! ([`crate::growth::Category`]) into findings. The adult and pregnancy checks are in
//! [`crate::checks`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use crate::common::Label;
use crate::growth::{self, Assessment, Category, Indicator};
use crate::kms::{GrowthAction, GrowthActions, KmsResult, MonthResult};

/// How much a finding matters, for the badge colour and the order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Refer today (gizi buruk, hypertensive crisis, danger sign).
    Urgent,
    /// Report to the bidan / home visit / referral within days.
    Act,
    /// Counselling, check again at the next visit.
    Watch,
    /// Nothing to worry about.
    Ok,
}

/// One result in words, with what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The result, e.g. `kms.finding.two_t` ("2T: dua kali berturut-turut tidak naik").
    pub label: Label,
    pub level: Level,
    /// What to do next; `None` when nothing needs doing.
    pub action: Option<Label>,
    /// Values for the texts (e.g. `z` → `-2.31`, `gain_g` → `150`).
    pub params: BTreeMap<&'static str, String>,
}

impl Finding {
    pub(crate) fn new(label: Label, level: Level, action: Option<Label>) -> Self {
        Self {
            label,
            level,
            action,
            params: BTreeMap::new(),
        }
    }

    pub(crate) fn with(mut self, key: &'static str, value: impl ToString) -> Self {
        self.params.insert(key, value.to_string());
        self
    }
}

/// The most pressing of several findings (lowest [`Level`], first on ties): the one whose
/// action is "the next action".
pub fn most_pressing(findings: &[Finding]) -> Option<&Finding> {
    findings.iter().min_by_key(|f| f.level)
}

const fn label(key: &'static str, id: &'static str, en: &'static str) -> Label {
    Label { key, id, en }
}

// ---- KMS --------------------------------------------------------------------------------

const TWO_T: Label = label(
    "kms.finding.two_t",
    "2T: dua kali berturut-turut tidak naik",
    "2T: no weight gain twice in a row",
);
const BGM: Label = label(
    "kms.finding.bgm",
    "BGM: berat badan di bawah garis merah",
    "BGM: weight below the red line",
);
const ABOVE_ORANGE: Label = label(
    "kms.finding.above_orange",
    "Berat badan di atas garis oranye",
    "Weight above the orange line",
);

const ACT_KEEP_GOING: Label = label(
    "action.growth.keep_going",
    "Pertahankan pola makan sesuai umur; timbang lagi bulan depan",
    "Keep feeding as for the age; weigh again next month",
);
const ACT_WEIGH_MONTHLY: Label = label(
    "action.growth.weigh_monthly",
    "Timbang setiap bulan di posyandu agar pertumbuhan bisa dinilai",
    "Weigh every month at the posyandu so growth can be judged",
);
const ACT_HOME_VISIT: Label = label(
    "action.growth.home_visit",
    "Kunjungan rumah dalam 7 hari: konseling pemberian makan, beri tahu bidan",
    "Home visit within 7 days: feeding counselling, tell the bidan",
);
const ACT_REFER: Label = label(
    "action.growth.refer",
    "Lapor bidan dalam 2 hari untuk dirujuk ke puskesmas",
    "Report to the bidan within 2 days for referral to the puskesmas",
);

fn growth_action(a: GrowthAction) -> (Level, Label) {
    match a {
        GrowthAction::HomeVisit => (Level::Act, ACT_HOME_VISIT),
        GrowthAction::Refer => (Level::Act, ACT_REFER),
    }
}

/// The KMS result of one month in words: N/T/O/B first, then 2T, BGM and "above the
/// orange line" when they apply, each with the district's follow-up ([`GrowthActions`]).
pub fn kms_findings(r: &MonthResult, actions: &GrowthActions) -> Vec<Finding> {
    let mut out = Vec::with_capacity(3);
    let base = match r.result {
        KmsResult::N => Finding::new(r.result.label(), Level::Ok, Some(ACT_KEEP_GOING)),
        KmsResult::O | KmsResult::B => {
            Finding::new(r.result.label(), Level::Ok, Some(ACT_WEIGH_MONTHLY))
        }
        KmsResult::T if r.two_t => {
            // The 2T finding below carries the action; T alone is only the result.
            Finding::new(r.result.label(), Level::Watch, None)
        }
        KmsResult::T => {
            let (level, action) = growth_action(actions.t);
            Finding::new(r.result.label(), level, Some(action))
        }
    };
    let base = match (r.gain_g, r.kbm_g) {
        (Some(g), Some(k)) => base.with("gain_g", g).with("kbm_g", k),
        (Some(g), None) => base.with("gain_g", g),
        _ => base,
    };
    out.push(base.with("weight_g", r.weight_g));
    if r.two_t {
        let (level, action) = growth_action(actions.two_t);
        out.push(Finding::new(TWO_T, level, Some(action)));
    }
    if r.bgm == Some(true) {
        let (level, action) = growth_action(actions.below_red_line);
        out.push(Finding::new(BGM, level, Some(action)));
    }
    if r.above_orange == Some(true) {
        let (level, action) = growth_action(actions.above_orange_line);
        out.push(Finding::new(ABOVE_ORANGE, level, Some(action)));
    }
    out
}

// ---- Permenkes 2/2020 categories ---------------------------------------------------------

const ACT_NONE_NEEDED: Label = label(
    "action.growth.none",
    "Normal: lanjutkan pemantauan setiap bulan",
    "Normal: keep monitoring every month",
);
const ACT_CONFIRM_WFL: Label = label(
    "action.growth.confirm_wfl",
    "Ukur panjang/tinggi badan untuk menilai BB/PB atau BB/TB; beri tahu bidan",
    "Measure length/height to judge weight-for-length/height; tell the bidan",
);
const ACT_STUNTING: Label = label(
    "action.growth.stunting",
    "Lapor bidan: rujuk ke puskesmas untuk konfirmasi dan tata laksana stunting",
    "Report to the bidan: refer to the puskesmas to confirm and treat stunting",
);
const ACT_TALL: Label = label(
    "action.growth.tall",
    "Sangat tinggi untuk umurnya: periksa ulang pengukuran, beri tahu bidan",
    "Very tall for the age: measure again, tell the bidan",
);
pub(crate) const ACT_SEVERE_WASTING: Label = label(
    "action.growth.severe_wasting",
    "Gizi buruk: rujuk segera ke puskesmas hari ini",
    "Severe wasting: refer to the puskesmas today",
);
pub(crate) const ACT_WASTING: Label = label(
    "action.growth.wasting",
    "Gizi kurang: lapor bidan untuk PMT pemulihan dan konseling makan; timbang ulang 2 minggu lagi",
    "Wasting: report to the bidan for supplementary feeding and counselling; weigh again in 2 weeks",
);
const ACT_OVERWEIGHT_RISK: Label = label(
    "action.growth.overweight_risk",
    "Konseling makan sehat dan aktivitas fisik",
    "Counselling on healthy eating and physical activity",
);
const ACT_REPORT_BIDAN: Label = label(
    "action.growth.report_bidan",
    "Lapor bidan untuk dirujuk ke puskesmas",
    "Report to the bidan for referral to the puskesmas",
);
const ACT_THIN: Label = label(
    "action.growth.thin",
    "Konseling makan bergizi seimbang; ukur lagi bulan depan",
    "Counselling on a balanced diet; measure again next month",
);

/// The level and next step of a Permenkes 2/2020 category.
pub fn category_level_and_action(c: Category) -> (Level, Label) {
    use Category::*;
    match c {
        SeverelyUnderweight | Underweight => (Level::Act, ACT_CONFIRM_WFL),
        RiskOfOverweight => (Level::Watch, ACT_CONFIRM_WFL),
        SeverelyStunted | Stunted => (Level::Act, ACT_STUNTING),
        Tall => (Level::Watch, ACT_TALL),
        SeverelyWasted => (Level::Urgent, ACT_SEVERE_WASTING),
        Wasted => (Level::Act, ACT_WASTING),
        PossibleRiskOfOverweight => (Level::Watch, ACT_OVERWEIGHT_RISK),
        Overweight => (Level::Watch, ACT_OVERWEIGHT_RISK),
        Obese => (Level::Act, ACT_REPORT_BIDAN),
        SevereThinness => (Level::Act, ACT_REPORT_BIDAN),
        Thinness => (Level::Watch, ACT_THIN),
        OverweightBmi => (Level::Watch, ACT_OVERWEIGHT_RISK),
        ObeseBmi => (Level::Act, ACT_REPORT_BIDAN),
        NormalWeight | NormalHeight | NormalNutrition | NormalBmi => (Level::Ok, ACT_NONE_NEEDED),
    }
}

/// A z-score category in words: the category's label, its level and next step, with the
/// indicator (`indicator` param: `wfa`, `lhfa`, …) and the z (`z` param) when known.
pub fn category_finding(indicator: Indicator, category: Category, z: Option<f64>) -> Finding {
    let (level, action) = category_level_and_action(category);
    let action = (level != Level::Ok).then_some(action);
    let f = Finding::new(category.label(), level, action).with("indicator", indicator.code());
    match z {
        Some(z) => f.with("z", format!("{z:.2}")),
        None => f,
    }
}

/// A child's growth result in words: the KMS findings of the weighing first (when given),
/// then the Permenkes categories of BB/U, PB/U-TB/U and BB/PB-BB/TB (under five) or IMT/U
/// (from five years).
pub fn growth_findings(
    kms: Option<&MonthResult>,
    assessment: Option<&Assessment>,
    actions: &GrowthActions,
) -> Vec<Finding> {
    let mut out = kms.map(|k| kms_findings(k, actions)).unwrap_or_default();
    let Some(a) = assessment else { return out };
    let under_five = a.age_days <= growth::WHO2006_MAX_AGE_DAYS;
    let wfl = if a.age_days < growth::STANDING_FROM_DAY {
        Indicator::WeightForLength
    } else {
        Indicator::WeightForHeight
    };
    let indicators: &[Indicator] = if under_five {
        &[Indicator::WeightForAge, Indicator::LengthHeightForAge, wfl]
    } else {
        &[Indicator::BmiForAge]
    };
    for &i in indicators {
        if let Some(res) = a.get(i)
            && let Some(c) = res.category
        {
            out.push(category_finding(i, c, res.z));
        }
    }
    out
}

const NOT_WEIGHED: Label = label(
    "growth.latest.not_weighed_recently",
    "Belum ditimbang bulan ini dan bulan lalu",
    "Not weighed this month or last month",
);

/// The last weighing is older than last month: weigh at the next posyandu (`last_weighed`
/// param).
pub fn not_weighed_recently(last: NaiveDate) -> Finding {
    Finding::new(NOT_WEIGHED, Level::Watch, Some(ACT_WEIGH_MONTHLY)).with("last_weighed", last)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::kms::YearMonth;
    use chrono::NaiveDate;

    fn month(result: KmsResult, two_t: bool, bgm: Option<bool>) -> MonthResult {
        MonthResult {
            month: YearMonth::new(2025, 5).unwrap(),
            date: NaiveDate::from_ymd_opt(2025, 5, 10).unwrap(),
            weight_g: 8000,
            age_months: 10,
            result,
            gain_g: Some(100),
            kbm_g: Some(300),
            two_t,
            bgm,
            above_orange: Some(false),
        }
    }

    #[test]
    fn kms_results_in_words_follow_the_district_actions() {
        let a = GrowthActions::buku_kia();
        let t = kms_findings(&month(KmsResult::T, false, Some(false)), a);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].label.key, "kms.result.t");
        assert_eq!(
            t[0].action.as_ref().unwrap().key,
            "action.growth.home_visit"
        );
        assert_eq!(t[0].params["gain_g"], "100");
        let two_t = kms_findings(&month(KmsResult::T, true, Some(true)), a);
        let keys: Vec<_> = two_t.iter().map(|f| f.label.key).collect();
        assert_eq!(
            keys,
            ["kms.result.t", "kms.finding.two_t", "kms.finding.bgm"]
        );
        assert_eq!(
            most_pressing(&two_t).unwrap().action.as_ref().unwrap().key,
            "action.growth.refer"
        );
        let n = kms_findings(&month(KmsResult::N, false, None), a);
        assert_eq!(n[0].level, Level::Ok);
    }

    #[test]
    fn every_category_has_a_level_and_normal_needs_no_action() {
        let f = category_finding(Indicator::WeightForLength, Category::SeverelyWasted, None);
        assert_eq!(f.level, Level::Urgent);
        let f = category_finding(Indicator::WeightForAge, Category::NormalWeight, Some(0.1));
        assert_eq!(f.level, Level::Ok);
        assert!(f.action.is_none());
        assert_eq!(f.params["z"], "0.10");
    }
}
