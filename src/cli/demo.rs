//! `ctapkit demo`: every emulated device through a registration and a sign-in under the
//! enrollment site's WebAuthn policy (user verification required, ES256/RS256, platform
//! authenticators), with a summary table. The enrollment site itself joins in a later
//! release; until then the ceremonies run directly against the verification core.

use std::io::IsTerminal as _;
use std::time::Instant;

use anyhow::Result;
use clap::Args;

use super::Outcome;
use ctapkit::authenticator::Authenticator;
use ctapkit::cose::CoseAlgorithm;
use ctapkit::ctap2::client::Ctap2;
use ctapkit::ctap2::client_pin::permission;
use ctapkit::platform::{self, CreateOptions, GetOptions, PlatformError};
use ctapkit::transport::{loopback, CtapDevice as _};
use ctapkit::webauthn::authentication::{verify_authentication, AssertionExpectations};
use ctapkit::webauthn::registration::verify_registration;
use ctapkit::webauthn::{Policy, UserVerification};

/// `ctapkit demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Admit cross-platform keys (USB security keys), as a relaxed policy would.
    #[arg(long)]
    allow_cross_platform: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

const RP_ID: &str = "localhost";
const ORIGIN: &str = "http://localhost:8080";

#[derive(Debug, serde::Serialize)]
struct Row {
    profile: String,
    model: String,
    passed: bool,
    step: String,
    detail: String,
    format: String,
    algorithm: String,
    flags: String,
    sign_count: String,
    millis: u128,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<Outcome> {
    let profiles = ["ios", "android", "security-key", "no-biometric", "u2f"];
    let mut rows = Vec::new();
    for name in profiles {
        if !args.json {
            eprintln!("running the flow for the {name} emulator…");
        }
        rows.push(run_profile(name, args.allow_cross_platform)?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&rows);
    }
    Ok(Outcome::Pass)
}

fn run_profile(name: &str, allow_cross_platform: bool) -> Result<Row> {
    let auth = Authenticator::with_profile_name(name)?;
    let model = auth.profile().model.to_string();
    let platform_device = auth.profile().platform;
    let faults = auth.hid_faults();
    let mut ctap = Ctap2::new(loopback::connect(name, auth, faults)?);
    let started = Instant::now();
    let mut row = Row {
        profile: name.to_string(),
        model,
        passed: false,
        step: String::new(),
        detail: String::new(),
        format: "-".into(),
        algorithm: "-".into(),
        flags: "-".into(),
        sign_count: "-".into(),
        millis: 0,
    };
    let finish = |mut row: Row, step: &str, detail: String, passed: bool| {
        row.step = step.to_string();
        row.detail = detail;
        row.passed = passed;
        row.millis = started.elapsed().as_millis();
        row
    };
    // Step 5 policy: platform attachment. A USB key is not offered by the browser at all.
    if !platform_device && !allow_cross_platform {
        return Ok(finish(
            row,
            "5 Register",
            "cross-platform key: the site asks for a platform authenticator (phone); use HPKI card authentication, or run with --allow-cross-platform".into(),
            false,
        ));
    }
    let policy = Policy::new(RP_ID)
        .with_origins([ORIGIN])
        .with_user_verification(UserVerification::Required);
    let options = CreateOptions {
        rp_id: RP_ID.into(),
        rp_name: "HPKI second certificate (demo)".into(),
        user_id: b"999999".to_vec(),
        user_name: "999999-jpa".into(),
        user_display_name: "Pharmacist 999999".into(),
        challenge: random32(),
        algorithms: vec![CoseAlgorithm::Es256, CoseAlgorithm::Rs256],
        resident_key: true,
        user_verification_required: true,
        exclude: vec![],
    };
    // A PIN-capable key verifies the user with its PIN.
    let token = if !platform_device
        && ctap.device_mut().capabilities() & ctapkit::ctaphid::capability::CBOR != 0
    {
        let info = ctap.get_info()?;
        let p =
            Ctap2::<ctapkit::transport::CtapHid<loopback::ChannelReports>>::preferred_pin_protocol(
                &info,
            );
        ctap.set_pin(p, "1234")?;
        Some(ctap.pin_token(
            p,
            "1234",
            permission::MAKE_CREDENTIAL | permission::GET_ASSERTION,
            Some(RP_ID),
            true,
        )?)
    } else {
        None
    };
    let reg = match platform::create(&mut ctap, ORIGIN, &options, token.as_ref()) {
        Ok(r) => r,
        Err(e) => return Ok(finish(row, "5 Register", guidance(&e), false)),
    };
    let result = match verify_registration(&policy, &options.challenge, &reg) {
        Ok(r) => r,
        Err(e) => {
            return Ok(finish(
                row,
                "5 Register",
                format!("{e}; {}", e.failure.hint()),
                false,
            ))
        }
    };
    let summary = result.summary();
    row.format = summary.fmt.to_string();
    row.algorithm = summary.algorithm.clone();
    row.flags = summary.flags.clone();
    let get = GetOptions {
        rp_id: RP_ID.into(),
        challenge: random32(),
        allow: vec![result.credential.id.0.clone()],
        user_verification_required: true,
    };
    let assertion = match platform::get(&mut ctap, ORIGIN, &get, token.as_ref()) {
        Ok(a) => a,
        Err(e) => return Ok(finish(row, "second scan: Sign In", guidance(&e), false)),
    };
    let expected = AssertionExpectations {
        challenge: &get.challenge,
        allow_credentials: &get.allow,
        user_handle: Some(&options.user_id),
    };
    match verify_authentication(&policy, &expected, &result.credential, &assertion) {
        Ok(r) => {
            row.sign_count = r.sign_count.to_string();
            Ok(finish(
                row,
                "8 + second scan",
                "registered and signed in".into(),
                true,
            ))
        }
        Err(e) => Ok(finish(row, "second scan: Sign In", e.to_string(), false)),
    }
}

/// The enrollment manual's guidance for what the device or client refused.
fn guidance(e: &PlatformError) -> String {
    let text = e.to_string();
    if text.contains("INVALID_OPTION") || text.contains("UV_") {
        format!("Security Key Error ({text}): no biometrics enrolled — enroll one, then restart from step 2")
    } else if matches!(e, PlatformError::UvUnavailable) {
        format!("{text}: not usable for this site — use HPKI card authentication")
    } else {
        text
    }
}

fn random32() -> Vec<u8> {
    let mut b = vec![0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b
}

fn print_table(rows: &[Row]) {
    let color = std::io::stdout().is_terminal();
    println!();
    println!(
        "{:<13} {:<6} {:<18} {:<8} {:<6} {:<18} {:<5} {:>6}  reason",
        "profile", "result", "step", "format", "alg", "flags", "count", "ms"
    );
    for r in rows {
        let verdict = match (r.passed, color) {
            (true, true) => "\x1b[32mPASS\x1b[0m  ".to_string(),
            (false, true) => "\x1b[31mFAIL\x1b[0m  ".to_string(),
            (true, false) => "PASS  ".to_string(),
            (false, false) => "FAIL  ".to_string(),
        };
        println!(
            "{:<13} {} {:<18} {:<8} {:<6} {:<18} {:<5} {:>6}  {}",
            r.profile,
            verdict,
            r.step,
            r.format,
            r.algorithm,
            r.flags,
            r.sign_count,
            r.millis,
            r.detail
        );
    }
    println!();
    println!("policy: rp.id {RP_ID}, origin {ORIGIN}, user verification required, ES256/RS256, platform attachment");
}
