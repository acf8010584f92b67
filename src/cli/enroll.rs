//! `ctapkit enroll`: does this authenticator get through the enrollment site's flow?

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Args;

use super::device;
use super::Outcome;
use ctapkit::authenticator::{Authenticator, Fault, UserAction, UserSimulation};
use ctapkit::enroll::{self, DeviceUnderTest, EnrollOptions, LocalSite, Report};
use ctapkit::site::SitePolicy;
use ctapkit::transport::DeviceSpec;

/// `ctapkit enroll` arguments.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The authenticator: hid, hid:PATH, udp:HOST:PORT, or emulator[:PROFILE].
    #[arg(long, default_value = "hid")]
    device: DeviceSpec,
    /// The applicant's registration URL (…/r/TOKEN, as in the QR code). Without it, the site
    /// runs in-process on a temporary database with a sample applicant.
    #[arg(long)]
    site: Option<String>,
    /// The applicant's registry number (the username is <number>-jpa).
    #[arg(long)]
    registry_number: Option<String>,
    /// The password printed on the QR sheet (needed with --site).
    #[arg(long, env = "CTAPKIT_ENROLL_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Enter this many wrong passwords first (5 rehearse the lockout; the in-process site then
    /// re-issues the URL and the flow goes on).
    #[arg(long, default_value_t = 0)]
    wrong_passwords: u32,
    /// Scan again after enrolment: step 5 must read Sign In, and the sign-in must verify.
    #[arg(long, overrides_with = "no_second_scan")]
    second_scan: bool,
    /// Stop after the first enrolment.
    #[arg(long)]
    no_second_scan: bool,
    /// The device PIN, for keys that verify the user with a PIN (set on a key without one).
    #[arg(long, env = "CTAPKIT_PIN", hide_env_values = true)]
    pin: Option<String>,
    /// The in-process site's policy profile (jpa-hpki, jpa-hpki-cross-platform).
    #[arg(long, default_value = ctapkit::site::policy::DEFAULT_POLICY)]
    policy: SitePolicy,
    /// Emulator only: a fault to inject (repeatable).
    #[arg(long = "fault")]
    faults: Vec<Fault>,
    /// Emulator only: what the simulated user does (approve, deny, timeout, approve-after:MS,
    /// mismatch; repeatable, in order).
    #[arg(long = "user")]
    user: Vec<UserAction>,
    /// Trust only these certificate authorities (PEM) for an https site, e.g. a staging site
    /// with a private CA (default: the public web PKI roots).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Seconds one HTTP exchange with the site may take.
    #[arg(long, default_value_t = 30)]
    http_timeout: u64,
    /// Print the report as JSON (schema ctapkit.enroll.v1).
    #[arg(long)]
    json: bool,
    /// Also write the report as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
}

/// Runs `ctapkit enroll`.
pub fn run(args: EnrollArgs) -> Result<Outcome> {
    let emulator = matches!(args.device, DeviceSpec::Emulator(_));
    if !emulator && (!args.faults.is_empty() || !args.user.is_empty()) {
        bail!("--fault and --user apply to emulator devices only (--device emulator:PROFILE)");
    }
    let device_name = device_label(&args.device);
    let trusted_ca_pem = match &args.ca_file {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("cannot read the CA file {}", path.display()))?,
        ),
        None => None,
    };
    let mut dut = open_device(&args)?;

    let local = match &args.site {
        Some(_) => None,
        None => Some(LocalSite::start(args.policy.clone(), 0).map_err(anyhow::Error::msg)?),
    };
    let (url, password, registry_number, policy) = match (&args.site, &local) {
        (Some(url), _) => {
            if enroll::browser::origin_of(url).is_none() || !url.contains("/r/") {
                bail!("--site must be the applicant's registration URL (http(s)://HOST/r/TOKEN), as in the QR code");
            }
            let password = args.password.clone().context(
                "--password is needed with --site: the password printed on the QR sheet",
            )?;
            (url.clone(), password, args.registry_number.clone(), None)
        }
        (None, Some(site)) => {
            let number = args
                .registry_number
                .clone()
                .unwrap_or_else(|| enroll::SAMPLE_REGISTRY_NUMBER.into());
            let applicant = site
                .add_applicant(
                    &number,
                    "薬剤 太郎",
                    enroll::SAMPLE_BIRTH_DATE,
                    Duration::from_secs(30 * 86_400),
                )
                .map_err(anyhow::Error::msg)?;
            if !args.json {
                eprintln!(
                    "in-process site {} (policy {}), applicant {} ({}-jpa)",
                    site.site.base_url(),
                    args.policy.name,
                    applicant.registry_number,
                    applicant.registry_number
                );
            }
            let password = args.password.clone().unwrap_or(applicant.password.clone());
            (
                applicant.url,
                password,
                Some(number),
                Some(args.policy.name.to_string()),
            )
        }
        (None, None) => bail!("no site"),
    };
    let options = EnrollOptions {
        device_name,
        registration_url: url,
        password,
        registry_number: registry_number.clone(),
        wrong_passwords: args.wrong_passwords,
        second_scan: !args.no_second_scan,
        pin: args.pin.clone(),
        policy,
        http_timeout: Duration::from_secs(args.http_timeout),
        trusted_ca_pem,
    };
    let number = registry_number.unwrap_or_default();
    let mut reissue_local = || match &local {
        Some(site) => site.reissue(&number),
        None => Err("only the in-process site can re-issue a URL".to_string()),
    };
    let reissue_fn: Option<&mut dyn FnMut() -> Result<String, String>> = match &local {
        Some(_) => Some(&mut reissue_local),
        None => None,
    };
    let quiet = args.json;
    let mut progress = |line: &str| {
        if !quiet {
            eprintln!("  … {line}");
        }
    };
    let report = enroll::enroll(&mut dut, &options, reissue_fn, &mut progress);
    write_report(&report, args.json, args.junit.as_deref())?;
    Ok(match report.authenticator_failed() {
        None => Outcome::Pass,
        Some(true) => Outcome::Fail,
        // The site, the network or the arguments failed, not the authenticator.
        Some(false) => Outcome::Error,
    })
}

/// `--device` as written.
fn device_label(spec: &DeviceSpec) -> String {
    match spec {
        DeviceSpec::Hid => "hid".into(),
        DeviceSpec::HidPath(p) => format!("hid:{p}"),
        DeviceSpec::Udp(a) => format!("udp:{a}"),
        DeviceSpec::Emulator(p) => format!("emulator:{p}"),
    }
}

fn open_device(
    args: &EnrollArgs,
) -> Result<DeviceUnderTest<Box<dyn ctapkit::transport::CtapDevice>>> {
    let (device, profile) = device::open_with(&args.device, |name| {
        let user = UserSimulation::from_actions(&args.user, Duration::from_secs(30));
        Ok(Authenticator::with_profile_name(name)?
            .with_user(user)
            .with_faults(args.faults.iter().copied()))
    })?;
    // Chromium's CTAP2 CBOR reader refuses non-canonical answers: so does this client.
    let ctap = device::client_on(device)?.strict(true);
    let platform = profile.as_ref().is_some_and(|p| p.platform);
    let model = profile.as_ref().map(|p| p.model.to_string());
    let browser_user_agent = profile
        .as_ref()
        .and_then(|p| p.browser_user_agent.map(str::to_string));
    Ok(DeviceUnderTest {
        ctap,
        platform,
        model,
        browser_user_agent,
    })
}

/// Prints the report (text or JSON) and writes the JUnit file.
pub fn write_report(report: &Report, json: bool, junit: Option<&std::path::Path>) -> Result<()> {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text(std::io::stdout().is_terminal()));
    }
    if let Some(path) = junit {
        std::fs::write(path, report.to_junit())
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))?;
    }
    Ok(())
}
