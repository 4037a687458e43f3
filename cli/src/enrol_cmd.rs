//! `jangkau enrol`: exchange a one-time code for a device identity, log in, and create the
//! encrypted data directory.

use std::process::ExitCode;

use clap::Args;
use field_core::OpenOptions;
use field_core::sync::Enrolment;

use crate::device::{self, DB_FILE, DEVICE_EXIT_CODES, EXIT_USAGE, Failure, Secrets, TlsArgs};

const HELP_SECRETS: &str = "\
Reads two lines from standard input (or JANGKAU_PIN and JANGKAU_PASSWORD): first the new
PIN that will unlock this device's data offline (at least 6 digits, not trivial; or a passphrase of at least 12 characters), then the
user's server password or PIN for the login. The enrolment code is used up by the first
request: if the login then fails, ask the admin for a new code.";

/// Arguments of `jangkau enrol`.
#[derive(Debug, Args)]
#[command(after_help = format!("{HELP_SECRETS}\n\n{DEVICE_EXIT_CODES}"))]
pub struct EnrolArgs {
    /// The directory to create the device's encrypted data in.
    #[arg(long, value_name = "DIR")]
    data: std::path::PathBuf,
    /// The district server, e.g. https://jangkau.belu.go.id (http:// only to localhost).
    #[arg(long, value_name = "URL")]
    server: String,
    /// The one-time enrolment code from the admin, e.g. K7F-3QX-9M2.
    #[arg(long)]
    code: String,
    /// The user who will use this device.
    #[arg(long)]
    username: String,
    /// A name for this device, shown to admins.
    #[arg(long, default_value = "jangkau CLI")]
    device_name: String,
    #[command(flatten)]
    tls: TlsArgs,
}

pub fn run(args: EnrolArgs) -> ExitCode {
    match enrol(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}

fn enrol(args: EnrolArgs) -> Result<(), Failure> {
    // 0700 whatever the umask: the tablet's health data and keyring live here.
    field_core::store::files::create_private_dir(&args.data).map_err(|e| {
        Failure::new(
            EXIT_USAGE,
            format!("cannot create {}: {e}", args.data.display()),
        )
    })?;
    let db = args.data.join(DB_FILE);
    if db.exists() {
        return Err(Failure::new(
            EXIT_USAGE,
            format!(
                "{} already holds an enrolled device: use another --data directory",
                args.data.display()
            ),
        ));
    }
    let client = args.tls.client()?;
    let mut secrets = Secrets::new();
    let pin = secrets.pin()?;
    let password = secrets.password().ok_or_else(|| {
        Failure::new(
            device::EXIT_LOGIN,
            "no server password given: set JANGKAU_PASSWORD or write it on the second line of standard input",
        )
    })?;
    let e = Enrolment {
        server_url: args.server.clone(),
        code: args.code.clone(),
        device_name: args.device_name.clone(),
        username: args.username.clone(),
        secret: password.into(),
        pin: pin.into(),
    };
    let rt = device::runtime()?;
    let store = rt.block_on(client.enrol(&db, &e, OpenOptions::default()))?;
    let user = store.user();
    println!(
        "Enrolled device {} for {} ({}, {}) with {}.",
        store.device_id(),
        user.display_name,
        user.username,
        user.role,
        args.server
    );
    println!("Next: jangkau sync --data {}", args.data.display());
    Ok(())
}
