//! `ctapkit verify registration|assertion`: relying-party verification of browser JSON.

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use super::{read_input, Outcome};
use ctapkit::webauthn::authentication::{verify_authentication, AssertionExpectations};
use ctapkit::webauthn::registration::verify_registration;
use ctapkit::webauthn::{
    AuthenticationResponseJson, Base64Url, CeremonyError, CredentialRecord, Policy,
    RegistrationResponseJson, SignCountPolicy, TrustStore, UserVerification,
};

/// `verify` subcommands.
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Verify a RegistrationResponseJSON (what PublicKeyCredential.toJSON() gives after create()).
    Registration(RegistrationArgs),
    /// Verify an AuthenticationResponseJSON against a stored credential record.
    Assertion(AssertionArgs),
}

/// What both ceremonies need.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The relying party ID, e.g. example.org.
    #[arg(long)]
    rp_id: String,
    /// An allowed origin, e.g. https://example.org (repeatable; default https://RP_ID).
    #[arg(long = "origin")]
    origins: Vec<String>,
    /// An allowed top-level origin when the page is embedded cross-origin (repeatable).
    #[arg(long = "top-origin")]
    top_origins: Vec<String>,
    /// The challenge the relying party issued, base64url.
    #[arg(long)]
    challenge: String,
    /// User verification requirement.
    #[arg(long, default_value = "preferred", value_parser = ["required", "preferred", "discouraged"])]
    user_verification: String,
    /// Print JSON instead of a human summary.
    #[arg(long)]
    json: bool,
}

/// `verify registration` arguments.
#[derive(Debug, Args)]
pub struct RegistrationArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// A PEM file of attestation trust anchors (repeatable).
    #[arg(long = "trust-anchor")]
    trust_anchors: Vec<String>,
    /// Fail unless the attestation chains to a trust anchor.
    #[arg(long)]
    require_trusted_attestation: bool,
    /// RegistrationResponseJSON file, or - for standard input.
    file: String,
}

/// `verify assertion` arguments.
#[derive(Debug, Args)]
pub struct AssertionArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The credential record JSON (what `verify registration --json` prints under "credential").
    #[arg(long)]
    credential: String,
    /// What to do when a non-zero signature counter does not increase.
    #[arg(long, default_value = "reject", value_parser = ["reject", "warn"])]
    sign_count: String,
    /// AuthenticationResponseJSON file, or - for standard input.
    file: String,
}

fn policy(common: &CommonArgs) -> Result<Policy> {
    let mut policy = Policy::new(common.rp_id.clone());
    if !common.origins.is_empty() {
        policy = policy.with_origins(common.origins.clone());
    }
    policy.allowed_top_origins = common.top_origins.clone();
    policy.user_verification = common
        .user_verification
        .parse::<UserVerification>()
        .map_err(anyhow::Error::msg)?;
    Ok(policy)
}

fn challenge(common: &CommonArgs) -> Result<Vec<u8>> {
    Base64Url::decode(&common.challenge)
        .map(|b| b.0)
        .with_context(|| format!("--challenge {:?} is not base64url", common.challenge))
}

/// Runs a `verify` subcommand.
pub fn run(cmd: VerifyCommand) -> Result<Outcome> {
    match cmd {
        VerifyCommand::Registration(args) => registration(args),
        VerifyCommand::Assertion(args) => assertion(args),
    }
}

fn registration(args: RegistrationArgs) -> Result<Outcome> {
    let mut policy = policy(&args.common)?;
    let mut store = TrustStore::new();
    for path in &args.trust_anchors {
        let pem = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
        let n = store
            .add_pem(&pem)
            .with_context(|| format!("{path}: invalid certificate"))?;
        anyhow::ensure!(n > 0, "{path}: no PEM CERTIFICATE block found");
    }
    policy.trust_store = store;
    policy.require_trusted_attestation = args.require_trusted_attestation;
    let challenge = challenge(&args.common)?;
    let input = read_input(&args.file)?;
    let response: RegistrationResponseJson = serde_json::from_slice(&input)
        .with_context(|| format!("{} is not a RegistrationResponseJSON", args.file))?;
    match verify_registration(&policy, &challenge, &response) {
        Ok(result) => {
            let summary = result.summary();
            if args.common.json {
                let out = json!({
                    "valid": true,
                    "ceremony": "registration",
                    "summary": summary,
                    "credential": result.credential,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("registration: VALID");
                let trust = match summary.attestation_trusted {
                    Some(true) => "trusted",
                    Some(false) => "NOT trusted",
                    None => "not checked",
                };
                println!(
                    "  format       {} ({:?} attestation, {trust})",
                    summary.fmt, summary.attestation_type
                );
                println!("  algorithm    {}", summary.algorithm);
                println!("  AAGUID       {}", summary.aaguid);
                println!("  flags        {}", summary.flags);
                println!("  sign count   {}", summary.sign_count);
                println!("  credential   {}", result.credential.id.encode());
                for w in &summary.warnings {
                    println!("  warning      {w}");
                }
            }
            Ok(Outcome::Pass)
        }
        Err(err) => report_failure("registration", &err, args.common.json),
    }
}

fn assertion(args: AssertionArgs) -> Result<Outcome> {
    let mut policy = policy(&args.common)?;
    policy.sign_count = match args.sign_count.as_str() {
        "warn" => SignCountPolicy::Warn,
        _ => SignCountPolicy::Reject,
    };
    let challenge = challenge(&args.common)?;
    let record_bytes = read_input(&args.credential)?;
    let record = read_record(&record_bytes)
        .with_context(|| format!("{} is not a credential record", args.credential))?;
    let input = read_input(&args.file)?;
    let response: AuthenticationResponseJson = serde_json::from_slice(&input)
        .with_context(|| format!("{} is not an AuthenticationResponseJSON", args.file))?;
    // The record names the credential: the user was identified before the ceremony.
    let allow = [record.id.0.clone()];
    let expected = AssertionExpectations {
        challenge: &challenge,
        allow_credentials: &allow,
        user_handle: None,
    };
    match verify_authentication(&policy, &expected, &record, &response) {
        Ok(result) => {
            if args.common.json {
                let mut updated = record.clone();
                updated.update(&result);
                let out = json!({
                    "valid": true,
                    "ceremony": "authentication",
                    "flags": result.flags.to_string(),
                    "signCount": result.sign_count,
                    "warnings": result.warnings,
                    "credential": updated,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("assertion: VALID");
                println!("  algorithm    {}", record.public_key.alg());
                println!("  flags        {}", result.flags);
                println!("  sign count   {}", result.sign_count);
                for w in &result.warnings {
                    println!("  warning      {w}");
                }
            }
            Ok(Outcome::Pass)
        }
        Err(err) => report_failure("assertion", &err, args.common.json),
    }
}

/// Reads a credential record, alone or as the "credential" member of `verify registration --json`.
fn read_record(bytes: &[u8]) -> Result<CredentialRecord> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    let record = value.get("credential").cloned().unwrap_or(value);
    Ok(serde_json::from_value(record)?)
}

fn report_failure(what: &str, err: &CeremonyError, json: bool) -> Result<Outcome> {
    if json {
        let out = json!({
            "valid": false,
            "ceremony": what,
            "step": err.step,
            "error": err.failure.to_string(),
            "hint": err.failure.hint(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{what}: INVALID");
        println!("  failed at    {}", err.step);
        println!("  because      {}", err.failure);
        println!("  what to do   {}", err.failure.hint());
    }
    Ok(Outcome::Fail)
}
