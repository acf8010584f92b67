//! `ctapkit demo`: the README's first command. Starts the enrollment site in-process on a
//! temporary database, creates a sample applicant (QR code shown), and runs the emulated
//! devices through the site's exact flow with `ctapkit enroll`'s runner, under the site's
//! policy, with a summary table. `--serve` keeps the site up for a browser.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use serde::Serialize;

use super::Outcome;
use ctapkit::authenticator::Authenticator;
use ctapkit::enroll::report::pad;
use ctapkit::enroll::{self, EnrollOptions, LocalSite, Report};
use ctapkit::enrollment::qr;
use ctapkit::site::SitePolicy;

/// `ctapkit demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print the results as JSON (each with its full enroll report).
    #[arg(long)]
    json: bool,
    /// Keep the site running afterwards and print the sample applicant's URL to open in a
    /// browser (Ctrl-C stops).
    #[arg(long)]
    serve: bool,
    /// Port of the site (0: any free port; with --serve the default is 8080).
    #[arg(long)]
    port: Option<u16>,
}

/// One demo case: a profile under a policy, with the outcome the manual predicts.
struct Case {
    profile: &'static str,
    policy: SitePolicy,
    pin: Option<&'static str>,
    /// `None`: passes; `Some(step)`: fails at that step.
    expected_failure: Option<&'static str>,
    why: &'static str,
}

fn cases() -> Vec<Case> {
    let strict = SitePolicy::jpa_hpki;
    let relaxed = SitePolicy::jpa_hpki_cross_platform;
    vec![
        Case {
            profile: "ios",
            policy: strict(),
            pin: None,
            expected_failure: None,
            why: "iPhone with Face ID / Touch ID",
        },
        Case {
            profile: "android",
            policy: strict(),
            pin: None,
            expected_failure: None,
            why: "Android with fingerprint",
        },
        Case {
            profile: "no-biometric",
            policy: strict(),
            pin: None,
            expected_failure: Some("5"),
            why: "phone without biometrics enrolled",
        },
        Case {
            profile: "security-key",
            policy: strict(),
            pin: None,
            expected_failure: Some("5"),
            why: "USB key: the site admits platform authenticators only",
        },
        Case {
            profile: "security-key",
            policy: relaxed(),
            pin: Some("1234"),
            expected_failure: None,
            why: "USB key with a PIN, under a policy that admits it",
        },
        Case {
            profile: "u2f",
            policy: relaxed(),
            pin: None,
            expected_failure: Some("5"),
            why: "U2F-only key: cannot verify the user",
        },
    ]
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    profile: String,
    policy: String,
    passed: bool,
    as_expected: bool,
    expected: String,
    step: String,
    reason: String,
    report: Report,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<Outcome> {
    let port = args.port.unwrap_or(if args.serve { 8080 } else { 0 });
    let site = LocalSite::start(SitePolicy::jpa_hpki(), port).map_err(anyhow::Error::msg)?;
    let relaxed =
        LocalSite::start(SitePolicy::jpa_hpki_cross_platform(), 0).map_err(anyhow::Error::msg)?;
    let sample = site
        .add_applicant(
            enroll::SAMPLE_REGISTRY_NUMBER,
            "薬剤 太郎",
            enroll::SAMPLE_BIRTH_DATE,
            Duration::from_secs(30 * 86_400),
        )
        .map_err(anyhow::Error::msg)?;
    if !args.json {
        println!(
            "enrollment site running at {} (policy jpa-hpki, database {})",
            site.site.base_url(),
            site.db_path.display()
        );
        println!(
            "sample applicant {0}: username {0}-jpa, password {1}",
            sample.registry_number, sample.password
        );
        println!("registration URL (the QR sheet):");
        println!("{}", qr::terminal(&sample.url).unwrap_or_default());
        println!("{}", sample.url);
        if !args.serve {
            println!("(the site stops when the demo ends: `ctapkit demo --serve` keeps it up for a browser)");
        }
        println!();
    }
    let mut rows = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        let target = if case.policy.name == site.site.config.policy.name {
            &site
        } else {
            &relaxed
        };
        let number = format!("90000{}", i + 1);
        let applicant = target
            .add_applicant(
                &number,
                "デモ 申請者",
                "1985-04-01",
                Duration::from_secs(86_400),
            )
            .map_err(anyhow::Error::msg)?;
        let mut device = enroll::emulated(Authenticator::with_profile_name(case.profile)?)
            .with_context(|| format!("cannot start the {} emulator", case.profile))?;
        let options = EnrollOptions {
            device_name: format!("emulator:{}", case.profile),
            registration_url: applicant.url.clone(),
            password: applicant.password.clone(),
            registry_number: Some(number.clone()),
            wrong_passwords: 0,
            second_scan: true,
            pin: case.pin.map(str::to_string),
            policy: Some(case.policy.name.to_string()),
            http_timeout: Duration::from_secs(30),
            trusted_ca_pem: None,
        };
        if !args.json {
            eprintln!(
                "running the flow for {} under {}…",
                case.profile, case.policy.name
            );
        }
        let report = enroll::enroll(&mut device, &options, None, &mut |_| {});
        let failure = report.first_failure();
        let step = failure
            .map(|f| f.id.clone())
            .unwrap_or_else(|| "8 + 2nd scan".into());
        let reason = match failure {
            Some(f) => format!(
                "{}: {}",
                case.why,
                f.guidance.clone().unwrap_or_else(|| f.detail.clone())
            ),
            None => format!(
                "registered ({}), label {:?}; second scan signed in — {}",
                report
                    .registration
                    .as_ref()
                    .and_then(|r| r.attestation_format.clone())
                    .unwrap_or_default(),
                report
                    .registration
                    .as_ref()
                    .and_then(|r| r.label.clone())
                    .unwrap_or_default(),
                case.why
            ),
        };
        let as_expected = failure.map(|f| f.id.as_str()) == case.expected_failure;
        rows.push(Row {
            profile: case.profile.into(),
            policy: case.policy.name.into(),
            passed: report.passed,
            as_expected,
            expected: match case.expected_failure {
                None => "pass".into(),
                Some(step) => format!("fail at step {step}"),
            },
            step,
            reason,
            report,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(&rows);
    }
    let all_expected = rows.iter().all(|r| r.as_expected);
    if args.serve {
        println!(
            "\nthe site stays up: open {} in a browser (password {}); Ctrl-C stops",
            sample.url, sample.password
        );
        let (tx, rx) = std::sync::mpsc::channel();
        ctrlc::set_handler(move || {
            let _ = tx.send(());
        })
        .context("cannot install the Ctrl-C handler")?;
        let _ = rx.recv();
    }
    Ok(if all_expected {
        Outcome::Pass
    } else {
        Outcome::Fail
    })
}

fn print_table(rows: &[Row]) {
    let color = std::io::stdout().is_terminal();
    let paint = |passed: bool| {
        let (word, code) = if passed {
            ("PASS", "32")
        } else {
            ("FAIL", "31")
        };
        if color {
            format!("\x1b[{code}m{word}\x1b[0m")
        } else {
            word.to_string()
        }
    };
    println!();
    println!(
        "{} {} {:<6} {:<13} {:<6} {:<6} {:<11} {:>5} {:>5}  reason",
        pad("profile", 13),
        pad("policy", 24),
        "result",
        "step",
        "format",
        "alg",
        "flags",
        "count",
        "ms"
    );
    for r in rows {
        let reg = r.report.registration.as_ref();
        println!(
            "{} {} {}{} {:<13} {:<6} {:<6} {:<11} {:>5} {:>5}  {}",
            pad(&r.profile, 13),
            pad(&r.policy, 24),
            paint(r.passed),
            if r.as_expected { "  " } else { "!!" },
            r.step,
            reg.and_then(|s| s.attestation_format.clone())
                .unwrap_or_else(|| "-".into()),
            reg.and_then(|s| s.algorithm.clone())
                .unwrap_or_else(|| "-".into()),
            reg.map(|s| s.flags().replace(' ', ""))
                .unwrap_or_else(|| "-".into()),
            r.report
                .sign_in
                .as_ref()
                .map(|s| s.sign_count.to_string())
                .unwrap_or_else(|| "-".into()),
            r.report.total_millis,
            r.reason
        );
    }
    println!();
    let unexpected = rows.iter().filter(|r| !r.as_expected).count();
    if unexpected == 0 {
        println!("every outcome is what the manual predicts (ios/android pass; no biometrics and USB keys fail at step 5 under jpa-hpki)");
    } else {
        println!("{unexpected} outcome(s) marked !! differ from what the manual predicts");
    }
    println!("run one device yourself: ctapkit enroll --device emulator:ios   (or --device hid for a USB key)");
}
