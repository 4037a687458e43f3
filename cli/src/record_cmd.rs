//! `jangkau record weighing|visit|immunisation|pregnancy|referral`: what a kader or bidan
//! records, from a script.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use field_core::{
    HomeVisitInput, ImmunisationInput, MeasurementInput, MemberPanel, PregnancyInput,
    ReferralInput, Services, Store,
};
use sync_protocol::RecordId;

use crate::device::{self, DEVICE_EXIT_CODES, DataArgs, EXIT_REJECTED, Failure, Secrets};
use crate::import_cmd::date;

/// Arguments of `jangkau record`.
#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
pub struct RecordArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// A weighing (and optionally length/height, head and arm circumference) of one person.
    Weighing(WeighingArgs),
    /// A home visit to one person, with findings, counselling and optional measurements.
    Visit(VisitArgs),
    /// Vaccine doses given to one person on one day (e.g. at the puskesmas, or copied from
    /// the KIA book), recorded with a home visit on that day.
    Immunisation(ImmunisationArgs),
    /// A pregnancy of a woman: HPHT (first day of the last period), gravida, para.
    Pregnancy(PregnancyArgs),
    /// Moves a referral forward (what the pustu or puskesmas records): received, then done.
    /// Without --id, lists the referrals of the area (id, status, person, reason).
    Referral(ReferralArgs),
    /// Changes a person's registered data (name, birth date, NIK): an edit that syncs like
    /// any other; two tablets changing one field offline leave a conflict for the bidan.
    Person(PersonArgs),
}

#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
struct PersonArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The person's record id (see `jangkau export`).
    #[arg(long)]
    person: RecordId,
    /// The name.
    #[arg(long)]
    name: Option<String>,
    /// The birth date (YYYY-MM-DD or DD/MM/YYYY).
    #[arg(long)]
    birth_date: Option<String>,
    /// The NIK (16 digits).
    #[arg(long)]
    nik: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
struct PregnancyArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The woman's record id.
    #[arg(long)]
    person: RecordId,
    /// First day of the last menstrual period (YYYY-MM-DD or DD/MM/YYYY).
    #[arg(long)]
    hpht: Option<String>,
    /// Pregnancies so far, this one included.
    #[arg(long)]
    gravida: Option<i64>,
    /// Births so far.
    #[arg(long)]
    para: Option<i64>,
}

#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
struct ImmunisationArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The person's record id (their household is taken from their record).
    #[arg(long)]
    person: RecordId,
    /// A dose, as the card or book writes it (e.g. BCG, OPV1, "DPT-HB-Hib 1"); repeat the
    /// option for several doses given the same day.
    #[arg(long = "vaccine", value_name = "DOSE", required = true)]
    vaccines: Vec<String>,
    /// The vaccine's batch number (applies to every dose given).
    #[arg(long)]
    batch: Option<String>,
    /// The doses were given as catch-up (imunisasi kejar).
    #[arg(long)]
    catch_up: bool,
    /// The day the doses were given (YYYY-MM-DD or DD/MM/YYYY; default: today).
    #[arg(long)]
    date: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
struct ReferralArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The referral's record id; omit to list the area's referrals.
    #[arg(long, requires = "status")]
    id: Option<RecordId>,
    /// The new status.
    #[arg(long, value_parser = ["received", "done"], requires = "id")]
    status: Option<String>,
    /// What happened (e.g. the treatment given).
    #[arg(long)]
    outcome: Option<String>,
    /// The date (YYYY-MM-DD or DD/MM/YYYY; default: today).
    #[arg(long)]
    date: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
struct WeighingArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The person's record id (see `jangkau export`).
    #[arg(long)]
    person: RecordId,
    /// Weight in kg.
    #[arg(long, value_name = "KG")]
    kg: f64,
    /// Length or height in cm (needs --position).
    #[arg(long, value_name = "CM", requires = "position")]
    height_cm: Option<f64>,
    /// lying (length) or standing (height).
    #[arg(long, value_parser = ["lying", "standing"])]
    position: Option<String>,
    /// Head circumference in cm.
    #[arg(long, value_name = "CM")]
    head_cm: Option<f64>,
    /// Mid-upper arm circumference in cm.
    #[arg(long, value_name = "CM")]
    muac_cm: Option<f64>,
    /// The date (YYYY-MM-DD or DD/MM/YYYY; default: today).
    #[arg(long)]
    date: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXIT_CODES)]
struct VisitArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The person visited (their household is taken from their record).
    #[arg(long)]
    person: RecordId,
    /// The date (YYYY-MM-DD or DD/MM/YYYY; default: today).
    #[arg(long)]
    date: Option<String>,
    /// What the kader found.
    #[arg(long)]
    findings: Option<String>,
    /// Counselling / education given.
    #[arg(long)]
    education: Option<String>,
    /// When to come back (YYYY-MM-DD).
    #[arg(long)]
    follow_up: Option<String>,
    /// A weighing during the visit, in kg.
    #[arg(long, value_name = "KG")]
    kg: Option<f64>,
    /// Refer the person: to pustu, puskesmas or hospital (needs --refer-reason).
    #[arg(long, value_parser = ["pustu", "puskesmas", "hospital"], requires = "refer_reason")]
    refer_to: Option<String>,
    /// Why the person is referred.
    #[arg(long, requires = "refer_to")]
    refer_reason: Option<String>,
}

pub fn run(args: RecordArgs) -> ExitCode {
    let r = match args.what {
        What::Weighing(a) => weighing(a),
        What::Visit(a) => visit(a),
        What::Immunisation(a) => immunisation(a),
        What::Pregnancy(a) => pregnancy(a),
        What::Referral(a) => referral(a),
        What::Person(a) => person(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}

fn day(store: &Store, given: Option<&str>) -> Result<String, Failure> {
    match given {
        Some(d) => date(d).map_err(|m| Failure::new(EXIT_REJECTED, format!("date: {m}"))),
        None => Ok(store.today()?.format("%Y-%m-%d").to_string()),
    }
}

fn m(kind: &str, value: f64, unit: &str, position: Option<String>) -> MeasurementInput {
    MeasurementInput {
        kind: kind.into(),
        value,
        unit: unit.into(),
        position,
        measured_by: None,
        ..Default::default()
    }
}

fn weighing(a: WeighingArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    let mut store = device::open(&a.data, &mut secrets)?;
    let date = day(&store, a.date.as_deref())?;
    let mut all = vec![m("weight", a.kg, "kg", None)];
    if let Some(h) = a.height_cm {
        all.push(m("length_height", h, "cm", a.position.clone()));
    }
    if let Some(h) = a.head_cm {
        all.push(m("head", h, "cm", None));
    }
    if let Some(x) = a.muac_cm {
        all.push(m("muac", x, "cm", None));
    }
    for x in &all {
        let id = store.save_measurement(a.person, None, &date, x)?;
        println!("{}\t{}\t{}", id, x.kind, x.value);
    }
    Ok(())
}

fn visit(a: VisitArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    let mut store = device::open(&a.data, &mut secrets)?;
    let date = day(&store, a.date.as_deref())?;
    let household = household_of(&store, a.person)?;
    let follow_up = a.follow_up.as_deref().map(date_arg).transpose()?;
    let services = Services {
        measurements: a
            .kg
            .map(|kg| vec![m("weight", kg, "kg", None)])
            .unwrap_or_default(),
        ..Services::default()
    };
    let hv = HomeVisitInput {
        household,
        date,
        panels: vec![MemberPanel {
            person: a.person,
            services,
            findings: a.findings,
            education: a.education,
            follow_up_date: follow_up,
            reminded_to_facility: None,
            reported_to_health_worker: None,
            referral: a
                .refer_to
                .zip(a.refer_reason)
                .map(|(destination, reason)| ReferralInput {
                    reason,
                    destination,
                    destination_name: None,
                }),
        }],
        household_update: None,
        family_acknowledged: None,
    };
    let saved = store.record_home_visit(&hv)?;
    for p in saved.panels {
        println!("{}\tvisit", p.visit);
        for id in p.saved.measurements {
            println!("{id}\tmeasurement");
        }
        if let Some(id) = p.saved.referral {
            println!("{id}\treferral");
        }
    }
    Ok(())
}

/// The household of `person`: a home visit needs one.
fn household_of(store: &Store, person: RecordId) -> Result<RecordId, Failure> {
    let p = store.person(person)?;
    p.household
        .as_deref()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| {
            Failure::new(
                EXIT_REJECTED,
                "this person belongs to no household: a home visit needs one",
            )
        })
}

fn immunisation(a: ImmunisationArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    let mut store = device::open(&a.data, &mut secrets)?;
    let date = day(&store, a.date.as_deref())?;
    let household = household_of(&store, a.person)?;
    let immunisations = a
        .vaccines
        .iter()
        .map(|v| ImmunisationInput {
            vaccine: v.clone(),
            batch: a.batch.clone(),
            catch_up: a.catch_up.then_some(true),
            date: None,
            ..Default::default()
        })
        .collect();
    let hv = HomeVisitInput {
        household,
        date,
        panels: vec![MemberPanel {
            person: a.person,
            services: Services {
                immunisations,
                ..Services::default()
            },
            findings: None,
            education: None,
            follow_up_date: None,
            reminded_to_facility: None,
            reported_to_health_worker: None,
            referral: None,
        }],
        household_update: None,
        family_acknowledged: None,
    };
    let saved = store.record_home_visit(&hv)?;
    for p in saved.panels {
        println!("{}\tvisit", p.visit);
        for (id, vaccine) in p.saved.immunisations.iter().zip(&a.vaccines) {
            println!("{id}\timmunisation\t{vaccine}");
        }
    }
    Ok(())
}

fn date_arg(s: &str) -> Result<String, Failure> {
    date(s).map_err(|m| Failure::new(EXIT_REJECTED, m))
}

fn pregnancy(a: PregnancyArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    let mut store = device::open(&a.data, &mut secrets)?;
    let input = PregnancyInput {
        hpht: a.hpht.as_deref().map(date_arg).transpose()?,
        gravida: a.gravida,
        para: a.para,
    };
    let id = store.start_pregnancy(a.person, &input)?;
    println!("{id}\tpregnancy");
    Ok(())
}

fn referral(a: ReferralArgs) -> Result<(), Failure> {
    let mut secrets = Secrets::new();
    let mut store = device::open(&a.data, &mut secrets)?;
    let (Some(id), Some(status)) = (a.id, a.status.as_deref()) else {
        for r in store.referrals(None)? {
            println!("{}\t{}\t{}\t{}", r.id, r.status, r.person_name, r.reason);
        }
        return Ok(());
    };
    let date = day(&store, a.date.as_deref())?;
    let event = store.advance_referral(id, status, &date, a.outcome.as_deref())?;
    println!("{event}\treferral_event\t{status}");
    Ok(())
}

fn person(a: PersonArgs) -> Result<(), Failure> {
    let mut patch = sync_protocol::Body::new();
    if let Some(n) = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        patch.insert("name".into(), n.into());
    }
    if let Some(d) = a.birth_date.as_deref() {
        patch.insert("birth_date".into(), date_arg(d)?.into());
    }
    if let Some(n) = a.nik.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        patch.insert("nik".into(), n.into());
    }
    if patch.is_empty() {
        return Err(Failure::new(
            EXIT_REJECTED,
            "nothing to change: give --name, --birth-date or --nik".to_string(),
        ));
    }
    let mut secrets = Secrets::new();
    let mut store = device::open(&a.data, &mut secrets)?;
    store.update_person(a.person, patch)?;
    println!("{}\tperson", a.person);
    Ok(())
}
