//! Findings of adults, pregnant women and children beyond growth: LiLA, blood pressure,
//! blood sugar, waist, Hb, temperature, adult IMT.

use super::{CheckInput, Out, Readings, Thresholds, fmt1, label};
use crate::advice::{self, Finding, Level};
use crate::age::UNDER_FIVE_MONTHS;
use crate::common::{Label, Sex};
use crate::pregnancy::{self, AncSchedule};

const KEK: Label = label(
    "checks.lila.kek",
    "KEK: LiLA kurang dari 23,5 cm (kurang energi kronis)",
    "KEK: MUAC below 23.5 cm (chronic energy deficiency)",
);
const ACT_KEK_PREGNANT: Label = label(
    "action.lila.kek_pregnant",
    "Lapor bidan: ibu hamil KEK perlu PMT ibu hamil dan pemeriksaan kehamilan",
    "Report to the bidan: a pregnant woman with KEK needs supplementary food and an antenatal check",
);
const KEK_RISK: Label = label(
    "checks.lila.kek_risk",
    "Risiko KEK: LiLA kurang dari 23,5 cm",
    "Risk of KEK: MUAC below 23.5 cm",
);
const ACT_KEK_RISK: Label = label(
    "action.lila.kek_risk",
    "Konseling gizi seimbang; anjurkan periksa ke pustu sebelum hamil",
    "Counselling on a balanced diet; advise a check at the pustu before a pregnancy",
);
const LILA_OK_PREGNANT: Label = label(
    "checks.lila.normal",
    "LiLA normal (tidak KEK)",
    "MUAC normal (no KEK)",
);
const LILA_CHILD_SEVERE: Label = label(
    "checks.lila.child_severe",
    "LiLA kurang dari 11,5 cm: gizi buruk",
    "MUAC below 11.5 cm: severe acute malnutrition",
);
const LILA_CHILD_MODERATE: Label = label(
    "checks.lila.child_moderate",
    "LiLA 11,5 sampai kurang dari 12,5 cm: gizi kurang",
    "MUAC 11.5 to below 12.5 cm: moderate acute malnutrition",
);
const LILA_CHILD_OK: Label = label("checks.lila.child_normal", "LiLA normal", "MUAC normal");

pub(super) fn lila_findings(
    input: &CheckInput<'_>,
    muac: f64,
    age_months: u32,
    pregnant: bool,
    out: &mut Out,
    t: &Thresholds,
) {
    let l = &t.lila;
    let cm = ("muac_cm", fmt1(muac));
    if pregnant {
        let f = if muac < l.kek_cm {
            Finding::new(KEK, Level::Act, Some(ACT_KEK_PREGNANT))
        } else {
            Finding::new(LILA_OK_PREGNANT, Level::Ok, None)
        };
        out.findings.push(f.with(cm.0, cm.1));
    } else if (6..UNDER_FIVE_MONTHS).contains(&age_months) {
        let f = if muac < l.child_severe_cm {
            Finding::new(
                LILA_CHILD_SEVERE,
                Level::Urgent,
                Some(advice::ACT_SEVERE_WASTING),
            )
        } else if muac < l.child_moderate_cm {
            Finding::new(LILA_CHILD_MODERATE, Level::Act, Some(advice::ACT_WASTING))
        } else {
            Finding::new(LILA_CHILD_OK, Level::Ok, None)
        };
        out.findings.push(f.with(cm.0, cm.1));
    } else if input.sex == Sex::Female && (180..600).contains(&age_months) && muac < l.kek_cm {
        out.findings
            .push(Finding::new(KEK_RISK, Level::Watch, Some(ACT_KEK_RISK)).with(cm.0, cm.1));
    }
}

const BP_NORMAL: Label = label(
    "checks.bp.normal",
    "Tekanan darah normal",
    "Blood pressure normal",
);
const BP_ELEVATED: Label = label(
    "checks.bp.elevated",
    "Tekanan darah normal tinggi (pra-hipertensi)",
    "Blood pressure high-normal (prehypertension)",
);
const BP_HIGH: Label = label(
    "checks.bp.high",
    "Tekanan darah tinggi (hipertensi)",
    "High blood pressure (hypertension)",
);
const BP_CRISIS: Label = label(
    "checks.bp.crisis",
    "Tekanan darah sangat tinggi (krisis hipertensi)",
    "Very high blood pressure (hypertensive crisis)",
);
const BP_HIGH_PREGNANT: Label = label(
    "checks.bp.high_pregnant",
    "Tekanan darah tinggi pada ibu hamil",
    "High blood pressure in pregnancy",
);
const ACT_BP_ELEVATED: Label = label(
    "action.bp.elevated",
    "Kurangi garam, tidak merokok, aktif bergerak; ukur lagi bulan depan",
    "Less salt, no smoking, be active; measure again next month",
);
const ACT_BP_HIGH: Label = label(
    "action.bp.high",
    "Rujuk ke pustu/puskesmas untuk pemeriksaan dan pengobatan; tanyakan minum obat",
    "Refer to the pustu/puskesmas for a check and treatment; ask about medicines",
);
const ACT_BP_CRISIS: Label = label(
    "action.bp.crisis",
    "Rujuk segera ke puskesmas hari ini dan lapor petugas",
    "Refer to the puskesmas today and tell the health worker",
);
const ACT_BP_PREGNANT: Label = label(
    "action.bp.pregnant",
    "Tanda bahaya: antar ke bidan hari ini (risiko preeklamsia)",
    "Danger sign: take her to the bidan today (risk of pre-eclampsia)",
);

pub(super) fn bp_findings(
    r: &Readings,
    age_months: u32,
    pregnant: bool,
    out: &mut Out,
    t: &Thresholds,
) {
    let bp = &t.blood_pressure;
    if r.bp_systolic.is_none() && r.bp_diastolic.is_none() {
        return;
    }
    if age_months < bp.from_months && !pregnant {
        return;
    }
    let s = r.bp_systolic.unwrap_or(0.0);
    let d = r.bp_diastolic.unwrap_or(0.0);
    let params = |f: Finding| {
        let f = match r.bp_systolic {
            Some(s) => f.with("systolic", format!("{s:.0}")),
            None => f,
        };
        match r.bp_diastolic {
            Some(d) => f.with("diastolic", format!("{d:.0}")),
            None => f,
        }
    };
    let high = s >= bp.high_systolic || d >= bp.high_diastolic;
    let f = if pregnant && high {
        Finding::new(BP_HIGH_PREGNANT, Level::Urgent, Some(ACT_BP_PREGNANT))
    } else if s >= bp.crisis_systolic || d >= bp.crisis_diastolic {
        Finding::new(BP_CRISIS, Level::Urgent, Some(ACT_BP_CRISIS))
    } else if high {
        Finding::new(BP_HIGH, Level::Act, Some(ACT_BP_HIGH))
    } else if s >= bp.elevated_systolic || d >= bp.elevated_diastolic {
        Finding::new(BP_ELEVATED, Level::Watch, Some(ACT_BP_ELEVATED))
    } else {
        Finding::new(BP_NORMAL, Level::Ok, None)
    };
    out.findings.push(params(f));
}

const SUGAR_HIGH: Label = label(
    "checks.sugar.high",
    "Gula darah sewaktu tinggi (200 mg/dL atau lebih)",
    "Random blood sugar high (200 mg/dL or more)",
);
const SUGAR_LOW: Label = label(
    "checks.sugar.low",
    "Gula darah rendah (kurang dari 70 mg/dL)",
    "Low blood sugar (below 70 mg/dL)",
);
const SUGAR_OK: Label = label(
    "checks.sugar.normal",
    "Gula darah sewaktu normal",
    "Random blood sugar normal",
);
const ACT_SUGAR_HIGH: Label = label(
    "action.sugar.high",
    "Rujuk ke puskesmas untuk pemeriksaan diabetes; tanyakan minum obat",
    "Refer to the puskesmas for a diabetes check; ask about medicines",
);
const ACT_SUGAR_LOW: Label = label(
    "action.sugar.low",
    "Beri minum manis sekarang dan lapor petugas kesehatan",
    "Give a sweet drink now and tell the health worker",
);

pub(super) fn sugar_findings(r: &Readings, out: &mut Out, t: &Thresholds) {
    let Some(g) = r.blood_sugar else { return };
    let s = &t.blood_sugar;
    let f = if g >= s.high_mg_dl {
        Finding::new(SUGAR_HIGH, Level::Act, Some(ACT_SUGAR_HIGH))
    } else if g < s.low_mg_dl {
        Finding::new(SUGAR_LOW, Level::Urgent, Some(ACT_SUGAR_LOW))
    } else {
        Finding::new(SUGAR_OK, Level::Ok, None)
    };
    out.findings.push(f.with("mg_dl", format!("{g:.0}")));
}

const WAIST_HIGH: Label = label(
    "checks.waist.central_obesity",
    "Obesitas sentral (lingkar perut berlebih)",
    "Central obesity (waist too large)",
);
const WAIST_OK: Label = label(
    "checks.waist.normal",
    "Lingkar perut normal",
    "Waist circumference normal",
);
const ACT_WAIST: Label = label(
    "action.waist.central_obesity",
    "Konseling: kurangi gula, garam, lemak; aktif bergerak 30 menit sehari; periksa gula darah dan tekanan darah",
    "Counselling: less sugar, salt and fat; 30 minutes of activity a day; check blood sugar and pressure",
);

pub(super) fn waist_findings(
    r: &Readings,
    sex: Sex,
    age_months: u32,
    pregnant: bool,
    out: &mut Out,
    t: &Thresholds,
) {
    let w = &t.waist;
    let Some(cm) = r.waist_cm else { return };
    if pregnant || age_months < w.from_months {
        return;
    }
    let limit = match sex {
        Sex::Male => w.male_cm,
        Sex::Female => w.female_cm,
    };
    let f = if cm > limit {
        Finding::new(WAIST_HIGH, Level::Watch, Some(ACT_WAIST))
    } else {
        Finding::new(WAIST_OK, Level::Ok, None)
    };
    out.findings
        .push(f.with("waist_cm", fmt1(cm)).with("limit_cm", fmt1(limit)));
}

const ANAEMIA: Label = label(
    "checks.hb.anaemia",
    "Anemia (Hb rendah)",
    "Anaemia (low Hb)",
);
const HB_OK: Label = label("checks.hb.normal", "Hb normal", "Hb normal");
const ACT_ANAEMIA: Label = label(
    "action.hb.anaemia",
    "Lapor bidan: pemeriksaan dan tablet tambah darah; konseling makan sumber zat besi",
    "Report to the bidan: a check and iron tablets; counselling on iron-rich food",
);

pub(super) fn hb_findings(
    input: &CheckInput<'_>,
    age_months: u32,
    pregnant: bool,
    out: &mut Out,
    t: &Thresholds,
    anc: &AncSchedule,
) {
    let Some(hb) = input.readings.hb else { return };
    let anaemic = if pregnant {
        let trimester = input
            .pregnancy
            .flatten()
            .and_then(|hpht| pregnancy::gestational_age(hpht, input.date).ok())
            .map(|ga| anc.trimester(ga))
            .unwrap_or(pregnancy::Trimester::First);
        match anc.anaemia(hb, trimester) {
            Ok(a) => Some(a),
            Err(e) => {
                out.problem(e.key(), e.params());
                None
            }
        }
    } else {
        t.hb.rows
            .iter()
            .find(|row| {
                age_months >= row.from_months
                    && row.to_months.is_none_or(|to| age_months < to)
                    && row.sex.is_none_or(|s| s == input.sex)
            })
            .map(|row| hb < row.below)
    };
    let Some(anaemic) = anaemic else { return };
    let f = if anaemic {
        Finding::new(ANAEMIA, Level::Act, Some(ACT_ANAEMIA))
    } else {
        Finding::new(HB_OK, Level::Ok, None)
    };
    out.findings.push(f.with("hb", fmt1(hb)));
}

const FEVER: Label = label("checks.temperature.fever", "Demam", "Fever");
const HIGH_FEVER: Label = label(
    "checks.temperature.high_fever",
    "Demam tinggi",
    "High fever",
);
const YOUNG_INFANT_FEVER: Label = label(
    "checks.temperature.young_infant_fever",
    "Bayi muda demam: tanda bahaya",
    "Fever in a young infant: danger sign",
);
const ACT_FEVER: Label = label(
    "action.temperature.fever",
    "Tanyakan keluhan; bila demam lebih dari 2 hari, periksa ke pustu",
    "Ask about complaints; if the fever lasts more than 2 days, see the pustu",
);
const ACT_HIGH_FEVER: Label = label(
    "action.temperature.high_fever",
    "Periksa ke pustu/puskesmas hari ini",
    "See the pustu/puskesmas today",
);
const ACT_YOUNG_INFANT: Label = label(
    "action.temperature.young_infant",
    "Rujuk segera ke puskesmas hari ini",
    "Refer to the puskesmas today",
);

pub(super) fn temperature_findings(r: &Readings, age_days: u32, out: &mut Out, t: &Thresholds) {
    let Some(c) = r.temperature else { return };
    let tp = &t.temperature;
    let f = if c < tp.fever_c {
        return;
    } else if age_days < tp.young_infant_days {
        Finding::new(YOUNG_INFANT_FEVER, Level::Urgent, Some(ACT_YOUNG_INFANT))
    } else if c >= tp.high_fever_c {
        Finding::new(HIGH_FEVER, Level::Act, Some(ACT_HIGH_FEVER))
    } else {
        Finding::new(FEVER, Level::Watch, Some(ACT_FEVER))
    };
    out.findings.push(f.with("celsius", fmt1(c)));
}

const BMI_SEVERE_THIN: Label = label(
    "checks.bmi.severe_thin",
    "Kurus tingkat berat (IMT kurang dari 17)",
    "Severely thin (BMI below 17)",
);
const BMI_THIN: Label = label(
    "checks.bmi.thin",
    "Kurus (IMT 17 sampai 18,4)",
    "Thin (BMI 17 to 18.4)",
);
const BMI_NORMAL: Label = label("checks.bmi.normal", "IMT normal", "BMI normal");
const BMI_OVERWEIGHT: Label = label(
    "checks.bmi.overweight",
    "Gemuk (IMT 25,1 sampai 27)",
    "Overweight (BMI 25.1 to 27)",
);
const BMI_OBESE: Label = label(
    "checks.bmi.obese",
    "Obesitas (IMT lebih dari 27)",
    "Obese (BMI above 27)",
);
const ACT_BMI_THIN: Label = label(
    "action.bmi.thin",
    "Konseling makan bergizi seimbang; lapor petugas bila berat badan terus turun",
    "Counselling on a balanced diet; tell the health worker if the weight keeps falling",
);
const ACT_BMI_HEAVY: Label = label(
    "action.bmi.heavy",
    "Konseling: kurangi gula, garam, lemak; aktif bergerak 30 menit sehari",
    "Counselling: less sugar, salt and fat; 30 minutes of activity a day",
);

pub(super) fn adult_bmi_findings(
    r: &Readings,
    age_months: u32,
    pregnant: bool,
    out: &mut Out,
    t: &Thresholds,
) {
    let b = &t.adult_bmi;
    let (Some(w), Some(h)) = (r.weight_kg, r.length_height_cm) else {
        return;
    };
    if pregnant || age_months < b.from_months || h <= 0.0 {
        return;
    }
    let bmi = (w / (h / 100.0).powi(2) * 10.0).round() / 10.0;
    if !bmi.is_finite() {
        return;
    }
    let f = if bmi < b.severe_thin_below {
        Finding::new(BMI_SEVERE_THIN, Level::Act, Some(ACT_BMI_THIN))
    } else if bmi < b.thin_below {
        Finding::new(BMI_THIN, Level::Watch, Some(ACT_BMI_THIN))
    } else if bmi <= b.overweight_above {
        Finding::new(BMI_NORMAL, Level::Ok, None)
    } else if bmi <= b.obese_above {
        Finding::new(BMI_OVERWEIGHT, Level::Watch, Some(ACT_BMI_HEAVY))
    } else {
        Finding::new(BMI_OBESE, Level::Act, Some(ACT_BMI_HEAVY))
    };
    out.findings.push(f.with("bmi", fmt1(bmi)));
}
