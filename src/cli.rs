//! Command-line interface: one module per subcommand.

use std::io::Read as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cose;
mod ctap;
mod demo;
mod device;
mod emulate;
mod enroll;
mod site;
mod verify;

/// ctapkit: does this authenticator get through the site's exact WebAuthn flow?
#[derive(Debug, Parser)]
#[command(name = "ctapkit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every emulated device through the site's registration and sign-in, with a summary.
    Demo(demo::DemoArgs),
    /// Drive an authenticator through the enrollment site's flow (steps 1-8, then the second
    /// scan) and report every step.
    Enroll(enroll::EnrollArgs),
    /// Verify a browser's registration or assertion JSON as a relying party would.
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    /// Inspect COSE keys.
    #[command(subcommand)]
    Cose(cose::CoseCommand),
    /// List FIDO HID devices (usage page 0xF1D0).
    Devices {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what an authenticator reports about itself (authenticatorGetInfo).
    Info(ctap::InfoArgs),
    /// Make the device blink (CTAPHID_WINK).
    Wink(ctap::DeviceArgs),
    /// Register a credential as a browser would; prints RegistrationResponseJSON.
    MakeCredential(ctap::MakeCredentialArgs),
    /// Sign in as a browser would; prints AuthenticationResponseJSON.
    GetAssertion(ctap::GetAssertionArgs),
    /// Manage the device PIN.
    #[command(subcommand)]
    Pin(ctap::PinCommand),
    /// List or delete the discoverable credentials on a device (credential management).
    #[command(subcommand)]
    Creds(ctap::CredsCommand),
    /// Delete every credential and the PIN (authenticatorReset).
    Reset(ctap::ResetArgs),
    /// Run the software authenticator for other programs (UDP simulator convention).
    Emulate(emulate::EmulateArgs),
    /// Registration office operations on the enrollment site's database.
    #[command(subcommand)]
    Site(site::SiteCommand),
}

/// The outcome of a command, mapped to the exit code.
pub enum Outcome {
    /// Everything checked out (exit 0).
    Pass,
    /// A check failed (exit 1).
    Fail,
    /// Something other than what was checked failed, already reported (exit 2).
    Error,
}

/// Parses the arguments, runs the command and maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Enroll(args) => enroll::run(args),
        Command::Verify(cmd) => verify::run(cmd),
        Command::Cose(cmd) => cose::run(cmd),
        Command::Devices { json } => ctap::devices(json),
        Command::Info(args) => ctap::info(args),
        Command::Wink(args) => ctap::wink(args),
        Command::MakeCredential(args) => ctap::make_credential(args),
        Command::GetAssertion(args) => ctap::get_assertion(args),
        Command::Pin(cmd) => ctap::pin(cmd),
        Command::Creds(cmd) => ctap::creds(cmd),
        Command::Reset(args) => ctap::reset(args),
        Command::Emulate(args) => emulate::run(args),
        Command::Site(cmd) => site::run(cmd),
    };
    match result {
        Ok(Outcome::Pass) => ExitCode::SUCCESS,
        Ok(Outcome::Fail) => ExitCode::from(1),
        Ok(Outcome::Error) => ExitCode::from(2),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &str) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {path}"))
    }
}
