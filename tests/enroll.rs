//! `ctapkit enroll` through the real site (in-process, real HTTP, real SQLite file): every
//! emulator profile under each policy, every emulator fault, the simulated user's refusals,
//! the lockout rehearsal, the report formats, the CLI's exit codes, and a device that
//! disappears mid-flow.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ctapkit::authenticator::{Authenticator, Fault, UserAction, UserSimulation};
use ctapkit::enroll::{self, guidance, EnrollOptions, LocalSite, Report, Status};
use ctapkit::enrollment::{Store, UrlInvalidReason};
use ctapkit::site::SitePolicy;

fn options(applicant: &enroll::LocalApplicant, device: &str, policy: &SitePolicy) -> EnrollOptions {
    EnrollOptions {
        device_name: device.into(),
        registration_url: applicant.url.clone(),
        password: applicant.password.clone(),
        registry_number: Some(applicant.registry_number.clone()),
        wrong_passwords: 0,
        second_scan: true,
        pin: None,
        policy: Some(policy.name.into()),
        http_timeout: Duration::from_secs(20),
        trusted_ca_pem: None,
    }
}

fn run(site: &LocalSite, number: &str, auth: Authenticator, pin: Option<&str>) -> Report {
    let applicant = site
        .add_applicant(number, "試験 太郎", "1990-03-17", Duration::from_secs(3600))
        .unwrap();
    let name = format!("emulator:{}", auth.profile().name);
    let mut device = enroll::emulated(auth).unwrap();
    let mut opts = options(&applicant, &name, &site.site.config.policy);
    opts.pin = pin.map(str::to_string);
    enroll::enroll(&mut device, &opts, None, &mut |_| {})
}

fn failed_step(report: &Report) -> Option<String> {
    report.first_failure().map(|s| s.id.clone())
}

fn profile(name: &str) -> Authenticator {
    Authenticator::with_profile_name(name).unwrap()
}

#[test]
fn every_profile_under_each_policy_meets_the_manual() {
    let strict = LocalSite::start(SitePolicy::jpa_hpki(), 0).unwrap();
    let relaxed = LocalSite::start(SitePolicy::jpa_hpki_cross_platform(), 0).unwrap();
    // (profile, policy is relaxed, PIN, expected failed step, expected guidance)
    type Case = (
        &'static str,
        bool,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: [Case; 9] = [
        ("ios", false, None, None, None),
        ("android", false, None, None, None),
        (
            "no-biometric",
            false,
            None,
            Some("5"),
            Some(guidance::NO_BIOMETRICS),
        ),
        (
            "security-key",
            false,
            Some("1234"),
            Some("5"),
            Some(guidance::NOT_PLATFORM),
        ),
        ("u2f", false, None, Some("5"), Some(guidance::NOT_PLATFORM)),
        ("ios", true, None, None, None),
        ("security-key", true, Some("1234"), None, None),
        (
            "no-biometric",
            true,
            None,
            Some("5"),
            Some(guidance::NO_BIOMETRICS),
        ),
        ("u2f", true, None, Some("5"), Some(guidance::NOT_FIDO2)),
    ];
    for (i, (name, relaxed_policy, pin, step, guidance)) in cases.into_iter().enumerate() {
        let site = if relaxed_policy { &relaxed } else { &strict };
        let report = run(site, &format!("10000{i}"), profile(name), pin);
        let label = format!("{name} under {}", site.site.config.policy.name);
        assert_eq!(
            failed_step(&report).as_deref(),
            step,
            "{label}:\n{}",
            report.to_text(false)
        );
        assert_eq!(report.passed, step.is_none(), "{label}");
        if let Some(g) = guidance {
            assert_eq!(
                report.first_failure().unwrap().guidance.as_deref(),
                Some(g),
                "{label}"
            );
        }
        if step.is_none() {
            // The site stored exactly one credential, labelled, and recorded the sign-in.
            let applicant = site.store.applicant(&format!("10000{i}")).unwrap();
            let creds = site.store.credentials(applicant.id).unwrap();
            assert_eq!(creds.len(), 1, "{label}");
            assert!(!creds[0].label.is_empty());
            assert!(creds[0].last_used_at.is_some(), "{label}: sign-in recorded");
            let reg = report.registration.as_ref().unwrap();
            assert!(reg.up && reg.uv, "{label}: UP and UV");
            assert_eq!(reg.label.as_deref(), Some(creds[0].label.as_str()));
            assert!(
                report.steps.iter().all(|s| s.status == Status::Pass),
                "{label}"
            );
            assert_eq!(report.steps.len(), 14, "steps 1-8 and 2.2-2.8");
        } else {
            let applicant = site.store.applicant(&format!("10000{i}")).unwrap();
            assert!(
                site.store.credentials(applicant.id).unwrap().is_empty(),
                "{label}: nothing stored"
            );
            // Everything after the failure is skipped, nothing passes after it.
            let at = report
                .steps
                .iter()
                .position(|s| s.status == Status::Fail)
                .unwrap();
            assert!(report.steps[at + 1..]
                .iter()
                .all(|s| s.status == Status::Skip));
        }
    }
    // The failed ceremonies were reported by the "page" and audited.
    let audit = strict.store.audit_trail().unwrap();
    assert!(audit.iter().any(|e| e.action == "ceremony.client-error"));
}

/// Every emulator fault, on a phone under jpa-hpki and on a USB key with a PIN under the
/// cross-platform policy: (fault, failed step on the phone, on the key, spec step named).
const FAULTS: [(Fault, Option<&str>, Option<&str>, &str); 12] = [
    // The phone's `none` attestation carries no signature: the sign-in catches it.
    (Fault::BadSignature, Some("2.6"), Some("6"), "signature"),
    (Fault::WrongRpIdHash, Some("6"), Some("6"), "§7.1 step 15"),
    (
        Fault::SignCountRegression,
        Some("2.6"),
        Some("2.6"),
        "§7.2 step 24",
    ),
    (Fault::ClearUp, Some("6"), Some("6"), "§7.1 step 16"),
    (Fault::ClearUv, Some("6"), Some("6"), "§7.1 step 17"),
    (Fault::BsWithoutBe, Some("6"), Some("6"), "§7.1 step 18"),
    // Under `none` attestation nothing vouches for the AAGUID: the site cannot tell.
    (Fault::WrongAaguid, None, Some("6"), "AAGUID"),
    (Fault::NonCanonicalCbor, Some("1"), Some("1"), "canonical"),
    (Fault::DuplicateKeyCbor, Some("1"), Some("1"), "canonical"),
    (Fault::NoKeepalive, None, None, ""),
    (Fault::BusyStorm, None, None, ""),
    (Fault::TruncatedResponse, Some("1"), Some("1"), "answer"),
];

fn faults_through_the_flow(phone: bool) {
    let site = LocalSite::start(
        if phone {
            SitePolicy::jpa_hpki()
        } else {
            SitePolicy::jpa_hpki_cross_platform()
        },
        0,
    )
    .unwrap();
    for (i, (fault, on_phone, on_key, mentions)) in FAULTS.into_iter().enumerate() {
        let (name, pin, expected) = if phone {
            ("ios", None, on_phone)
        } else {
            ("security-key", Some("1234"), on_key)
        };
        let started = Instant::now();
        let report = run(
            &site,
            &format!("20000{i}"),
            profile(name).with_faults([fault]),
            pin,
        );
        let label = format!("{name} with {fault}");
        assert_eq!(
            failed_step(&report).as_deref(),
            expected,
            "{label}:\n{}",
            report.to_text(false)
        );
        if let Some(failure) = report.first_failure() {
            assert!(
                failure.detail.contains(mentions),
                "{label}: {:?} should mention {mentions:?}",
                failure.detail
            );
            assert!(
                failure.guidance.is_some(),
                "{label}: a failure says what to do"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{label} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn every_fault_on_a_phone() {
    faults_through_the_flow(true);
}

#[test]
fn every_fault_on_a_usb_key() {
    faults_through_the_flow(false);
}

#[test]
fn the_simulated_user_refusing_fails_at_step_5_with_the_manuals_guidance() {
    let site = LocalSite::start(SitePolicy::jpa_hpki(), 0).unwrap();
    for (i, (action, guidance)) in [
        (UserAction::Deny, guidance::USER_DENIED),
        (UserAction::Timeout, guidance::USER_DENIED),
        (UserAction::BiometricMismatch, guidance::NO_BIOMETRICS),
    ]
    .into_iter()
    .enumerate()
    {
        let mut user = UserSimulation::always(action);
        user.timeout = Duration::from_millis(300);
        let report = run(
            &site,
            &format!("30000{i}"),
            profile("android").with_user(user),
            None,
        );
        let failure = report
            .first_failure()
            .unwrap_or_else(|| panic!("{action:?} passed"));
        assert_eq!(failure.id, "5", "{action:?}: {}", report.to_text(false));
        assert!(
            failure.detail.starts_with("Security Key Error"),
            "{}",
            failure.detail
        );
        assert_eq!(failure.guidance.as_deref(), Some(guidance), "{action:?}");
    }
}

#[test]
fn lockout_rehearsal_locks_then_the_reissued_url_works() {
    let site = LocalSite::start(SitePolicy::jpa_hpki(), 0).unwrap();
    let applicant = site
        .add_applicant(
            "400001",
            "試験 花子",
            "1988-12-01",
            Duration::from_secs(3600),
        )
        .unwrap();
    let mut device = enroll::emulated(profile("ios")).unwrap();
    let mut opts = options(&applicant, "emulator:ios", &SitePolicy::jpa_hpki());
    opts.wrong_passwords = 5;
    let mut reissued = Vec::new();
    let mut reissue = || {
        let url = site.reissue("400001")?;
        reissued.push(url.clone());
        Ok(url)
    };
    let report = enroll::enroll(&mut device, &opts, Some(&mut reissue), &mut |_| {});
    assert!(report.passed, "{}", report.to_text(false));
    let rehearsal = report.steps.iter().find(|s| s.id == "3a").unwrap();
    assert!(
        rehearsal.detail.contains("re-issued"),
        "{}",
        rehearsal.detail
    );
    assert_eq!(reissued.len(), 1);
    let urls = site
        .store
        .urls(site.store.applicant("400001").unwrap().id)
        .unwrap();
    assert_eq!(urls.len(), 2);
    // Newest first: the re-issued one works; the old one was locked after 5 failures.
    assert_eq!(urls[0].invalid, None);
    assert_eq!(urls[1].invalid, Some(UrlInvalidReason::Locked));
    assert_eq!(urls[1].failed_attempts, 5);
}

#[test]
fn lockout_rehearsal_without_reissue_stops_and_fewer_wrong_passwords_go_on() {
    let site = LocalSite::start(SitePolicy::jpa_hpki(), 0).unwrap();
    let locked = site
        .add_applicant(
            "400002",
            "試験 次郎",
            "1970-01-02",
            Duration::from_secs(3600),
        )
        .unwrap();
    let mut device = enroll::emulated(profile("ios")).unwrap();
    let mut opts = options(&locked, "emulator:ios", &SitePolicy::jpa_hpki());
    opts.wrong_passwords = 7;
    let report = enroll::enroll(&mut device, &opts, None, &mut |_| {});
    assert!(report.passed, "the lockout behaved as the manual says");
    assert!(report
        .steps
        .iter()
        .skip_while(|s| s.id != "3a")
        .skip(1)
        .all(|s| s.status == Status::Skip));
    let id = site.store.applicant("400002").unwrap().id;
    assert_eq!(
        site.store.urls(id).unwrap()[0].invalid,
        Some(UrlInvalidReason::Locked)
    );
    assert!(site.store.credentials(id).unwrap().is_empty());

    let two = site
        .add_applicant(
            "400003",
            "試験 三郎",
            "1970-01-03",
            Duration::from_secs(3600),
        )
        .unwrap();
    let mut device = enroll::emulated(profile("android")).unwrap();
    let mut opts = options(&two, "emulator:android", &SitePolicy::jpa_hpki());
    opts.wrong_passwords = 2;
    let report = enroll::enroll(&mut device, &opts, None, &mut |_| {});
    assert!(report.passed, "{}", report.to_text(false));
    let url = &site
        .store
        .urls(site.store.applicant("400003").unwrap().id)
        .unwrap()[0];
    assert_eq!((url.failed_attempts, url.invalid), (2, None));
}

#[test]
fn an_expired_url_fails_at_step_3_with_the_reissue_guidance() {
    let site = LocalSite::start(SitePolicy::jpa_hpki(), 0).unwrap();
    let applicant = site
        .add_applicant("400004", "試験 四郎", "1970-01-04", Duration::ZERO)
        .unwrap();
    let mut device = enroll::emulated(profile("ios")).unwrap();
    let report = enroll::enroll(
        &mut device,
        &options(&applicant, "emulator:ios", &SitePolicy::jpa_hpki()),
        None,
        &mut |_| {},
    );
    let failure = report.first_failure().unwrap();
    assert_eq!(failure.id, "3");
    assert_eq!(failure.guidance.as_deref(), Some(guidance::URL_INVALID));
}

#[test]
fn json_and_junit_reports_are_well_formed() {
    let site = LocalSite::start(SitePolicy::jpa_hpki(), 0).unwrap();
    for (number, name, passed) in [("500001", "ios", true), ("500002", "no-biometric", false)] {
        let report = run(&site, number, profile(name), None);
        assert_eq!(report.passed, passed);
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["schema"], "ctapkit.enroll.v1");
        assert_eq!(json["passed"], passed);
        assert_eq!(json["username"], format!("{number}-jpa"));
        let steps = json["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 14);
        for step in steps {
            for key in ["id", "name", "status", "millis", "detail"] {
                assert!(step.get(key).is_some(), "step lacks {key}: {step}");
            }
            assert!(["pass", "fail", "skip"].contains(&step["status"].as_str().unwrap()));
        }
        if passed {
            let reg = &json["registration"];
            assert_eq!(reg["attestationFormat"], "none");
            assert_eq!(reg["algorithm"], "ES256");
            assert_eq!(reg["uv"], true);
            assert!(json["signIn"]["credentialId"] == reg["credentialId"]);
        } else {
            assert_eq!(json["failedStep"], "5");
            assert_eq!(
                steps.iter().find(|s| s["status"] == "fail").unwrap()["cause"],
                "authenticator"
            );
        }
        let xml = report.to_junit();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 14);
        let failures = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        assert_eq!(failures, usize::from(!passed));
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(
            suite.attribute("failures"),
            Some(if passed { "0" } else { "1" })
        );
    }
}

fn ctapkit(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ctapkit"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_exits_0_1_2_and_writes_junit() {
    let dir = std::env::temp_dir().join(format!("ctapkit-enroll-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("report.xml");
    let out = ctapkit(&[
        "enroll",
        "--device",
        "emulator:android",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["passed"], true);
    roxmltree::Document::parse(&std::fs::read_to_string(&junit).unwrap()).unwrap();

    // Not the authenticator's fault: the site is unreachable, or the password is wrong. The
    // report still says where and why, and the exit code is 2.
    for (args, step) in [
        (
            &[
                "--site",
                "http://localhost:1/r/abc",
                "--password",
                "19900317",
            ][..],
            "2",
        ),
        (&["--password", "12345678"][..], "3"),
    ] {
        let mut all = vec!["enroll", "--device", "emulator:ios", "--json"];
        all.extend_from_slice(args);
        let out = ctapkit(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["failedStep"], step, "{args:?}");
        let failed = json["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["status"] == "fail")
            .unwrap();
        assert_eq!(failed["cause"], "site", "{args:?}");
    }

    let out = ctapkit(&["enroll", "--device", "emulator:no-biometric"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL at step 5"), "{text}");
    assert!(text.contains("no biometrics enrolled"), "{text}");

    for bad in [
        &["enroll", "--device", "emulator:ios", "--site", "not a url"][..],
        &[
            "enroll",
            "--device",
            "emulator:ios",
            "--site",
            "http://localhost:1/r/abc",
        ],
        &[
            "enroll",
            "--device",
            "hid:/nonexistent",
            "--fault",
            "clear-uv",
        ],
        &["enroll", "--device", "emulator:nope"],
    ] {
        let out = ctapkit(bad);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two free UDP ports on loopback.
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_device_that_disappears_mid_flow_gives_a_clear_error_not_a_hang() {
    let (device_port, client_port) = (free_udp_port(), free_udp_port());
    let mut emulator = Command::new(env!("CARGO_BIN_EXE_ctapkit"))
        .args([
            "emulate",
            "--profile",
            "security-key",
            "--user",
            "approve-after:60000",
        ])
        .args([
            "--udp",
            &format!("127.0.0.1:{device_port}"),
            "--peer",
            &format!("127.0.0.1:{client_port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut hid = None;
    for _ in 0..100 {
        match ctapkit::transport::udp::connect(
            format!("127.0.0.1:{device_port}").parse().unwrap(),
            format!("127.0.0.1:{client_port}").parse().unwrap(),
        ) {
            Ok(h) => {
                hid = Some(h);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let hid = hid.expect("the UDP emulator answered");
    let site = LocalSite::start(SitePolicy::jpa_hpki_cross_platform(), 0).unwrap();
    let applicant = site
        .add_applicant(
            "600001",
            "試験 五郎",
            "1970-01-05",
            Duration::from_secs(3600),
        )
        .unwrap();
    let mut opts = options(&applicant, "udp", &SitePolicy::jpa_hpki_cross_platform());
    opts.pin = Some("1234".into());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut device = enroll::DeviceUnderTest {
            ctap: ctapkit::ctap2::client::Ctap2::new(hid),
            platform: false,
            model: None,
            browser_user_agent: None,
        };
        let mut progress = |line: &str| {
            if line.starts_with("step 5") {
                let _ = tx.send(None);
            }
        };
        let report = enroll::enroll(&mut device, &opts, None, &mut progress);
        let _ = tx.send(Some(report));
    });
    // Step 5 started: the key now waits for a touch that never comes. Pull the plug.
    assert!(rx.recv_timeout(Duration::from_secs(30)).unwrap().is_none());
    std::thread::sleep(Duration::from_millis(500));
    emulator.kill().unwrap();
    let _ = emulator.wait();
    let started = Instant::now();
    let report = loop {
        match rx
            .recv_timeout(Duration::from_secs(30))
            .expect("enroll ended instead of hanging")
        {
            Some(report) => break report,
            None => continue,
        }
    };
    assert!(started.elapsed() < Duration::from_secs(30));
    let failure = report.first_failure().expect("the flow failed");
    assert_eq!(failure.id, "5", "{}", report.to_text(false));
    assert!(
        failure.detail.contains("did not answer") || failure.detail.contains("stopped answering"),
        "{}",
        failure.detail
    );
    assert_eq!(failure.guidance.as_deref(), Some(guidance::DEVICE_GONE));
}

/// An https "site" (a TLS server with a certificate from a private CA) that answers every
/// request with a password screen.
fn tls_site() -> (u16, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use std::io::{Read as _, Write as _};

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &Issuer::new(ca_params, ca_key))
        .unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
        )
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut buf = [0u8; 4096];
            // Handshake and request; a client that refuses the certificate ends here.
            let Ok(n) = tls.read(&mut buf) else { continue };
            if n == 0 {
                continue;
            }
            let page = "<form method=\"post\" action=\"/r/abc\"><input type=\"hidden\" name=\"csrf\" value=\"t\">\
                        <input id=\"password\" name=\"password\"><button id=\"password-submit\">OK</button></form>";
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (port, ca_cert.pem())
}

#[test]
fn https_sites_are_verified_against_the_given_ca_or_the_public_roots() {
    let (port, ca_pem) = tls_site();
    let url = format!("https://localhost:{port}/r/abc");
    let run = |ca: Option<&str>| {
        let mut device = enroll::emulated(profile("ios")).unwrap();
        let options = EnrollOptions {
            device_name: "emulator:ios".into(),
            registration_url: url.clone(),
            password: "19900317".into(),
            registry_number: Some("999999".into()),
            wrong_passwords: 0,
            second_scan: false,
            pin: None,
            policy: None,
            http_timeout: Duration::from_secs(10),
            trusted_ca_pem: ca.map(|c| c.as_bytes().to_vec()),
        };
        enroll::enroll(&mut device, &options, None, &mut |_| {})
    };
    // Trusting the site's CA: the password screen is read over TLS (step 2 passes).
    let report = run(Some(&ca_pem));
    let step2 = report.steps.iter().find(|s| s.id == "2").unwrap();
    assert_eq!(step2.status, Status::Pass, "{}", report.to_text(false));
    // With the public roots only, the private CA is refused: step 2 fails, not the device's fault.
    let report = run(None);
    let failure = report.first_failure().unwrap();
    assert_eq!(failure.id, "2", "{}", report.to_text(false));
    assert_eq!(report.authenticator_failed(), Some(false));
    // A CA file without a certificate is a clear step-2 failure too.
    let report = run(Some("not a PEM"));
    assert_eq!(report.first_failure().unwrap().id, "2");
    assert!(
        report.first_failure().unwrap().detail.contains("CA"),
        "{}",
        report.to_text(false)
    );
}
