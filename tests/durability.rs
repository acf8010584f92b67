//! Durability: `ctapkit site serve` killed with SIGKILL in the middle of a stream of
//! registrations loses no committed credential and leaves no half-written one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ctapkit::authenticator::Authenticator;
use ctapkit::enroll::{self, EnrollOptions, Status};
use ctapkit::enrollment::store::NewApplicant;
use ctapkit::enrollment::{now, SqliteStore, Store};
use ctapkit::webauthn::{Base64Url, CredentialRecord};

const APPLICANTS: usize = 60;
const WORKERS: usize = 3;
/// Registrations the site must have confirmed before the kill.
const KILL_AFTER: usize = 12;

#[test]
fn sigkill_mid_stream_loses_no_committed_credential_and_leaves_none_half_written() {
    let dir = std::env::temp_dir().join(format!("ctapkit-durability-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("site.db");

    // The office adds the applicants before the site starts.
    let tokens: Vec<(String, String, String)> = {
        let store = SqliteStore::open(&db).unwrap();
        (0..APPLICANTS)
            .map(|i| {
                let number = format!("{}", 700_000 + i);
                let new = NewApplicant {
                    registry_number: number.clone(),
                    name: format!("耐久 {i}"),
                    birth_date: "1980-05-05".into(),
                };
                let (applicant, token) = store
                    .add_applicant(&new, Duration::from_secs(3600), now())
                    .unwrap();
                (number, token, applicant.password())
            })
            .collect()
    };

    let mut server = Command::new(env!("CARGO_BIN_EXE_ctapkit"))
        .args([
            "site",
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let origin = line
        .split_whitespace()
        .find(|w| w.starts_with("http://localhost:"))
        .unwrap_or_else(|| panic!("no origin in {line:?}"))
        .to_string();
    std::thread::spawn(move || for _ in stderr.lines() {});

    // A stream of registrations from several phones at once; each confirmed one is noted.
    let confirmed = Arc::new(Mutex::new(Vec::<(String, Vec<u8>)>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(tokens);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (confirmed, next, tokens, origin) = (
                confirmed.clone(),
                next.clone(),
                tokens.clone(),
                origin.clone(),
            );
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((number, token, password)) = tokens.get(i) else {
                    return;
                };
                let mut device =
                    enroll::emulated(Authenticator::with_profile_name("android").unwrap()).unwrap();
                let options = EnrollOptions {
                    device_name: "emulator:android".into(),
                    registration_url: format!("{origin}/r/{token}"),
                    password: password.clone(),
                    registry_number: Some(number.clone()),
                    wrong_passwords: 0,
                    second_scan: false,
                    pin: None,
                    policy: None,
                    http_timeout: Duration::from_secs(10),
                    trusted_ca_pem: None,
                };
                let report = enroll::enroll(&mut device, &options, None, &mut |_| {});
                // Step 6 passes only once the site answered that the credential is stored.
                if report
                    .steps
                    .iter()
                    .any(|s| s.id == "6" && s.status == Status::Pass)
                {
                    let id = report.registration.as_ref().unwrap().credential_id.clone();
                    confirmed
                        .lock()
                        .unwrap()
                        .push((number.clone(), Base64Url::decode(&id).unwrap().0));
                }
            })
        })
        .collect();

    // Kill the server (SIGKILL: no shutdown, no flush) once enough registrations are confirmed.
    let mut waited = 0;
    while confirmed.lock().unwrap().len() < KILL_AFTER {
        std::thread::sleep(Duration::from_millis(5));
        waited += 1;
        assert!(waited < 12_000, "registrations did not get confirmed");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    let confirmed = confirmed.lock().unwrap().clone();
    assert!(confirmed.len() >= KILL_AFTER);
    assert!(confirmed.len() < APPLICANTS, "the kill came mid-stream");

    // The database after the crash: intact, every confirmed credential there, none half-written.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let store = SqliteStore::open(&db).unwrap();
    let mut stored = 0;
    let audit = store.audit_trail().unwrap();
    for applicant in store.applicants().unwrap() {
        for c in store.credentials(applicant.id).unwrap() {
            stored += 1;
            let record: CredentialRecord = serde_json::from_str(&c.record_json).unwrap();
            assert_eq!(record.id.0, c.credential_id, "record and row agree");
            assert_eq!(record.public_key.alg().to_i64(), c.alg);
            assert!(!c.label.is_empty(), "labelled");
            assert!(audit.iter().any(
                |e| e.action == "credential.registered" && e.applicant_id == Some(applicant.id)
            ));
        }
    }
    for (number, id) in &confirmed {
        let applicant = store.applicant(number).unwrap();
        let creds = store.credentials(applicant.id).unwrap();
        assert!(
            creds.iter().any(|c| &c.credential_id == id),
            "confirmed credential of {number} lost"
        );
    }
    // At most the registrations in flight at the kill were stored without the client hearing.
    assert!(
        stored >= confirmed.len() && stored <= confirmed.len() + WORKERS,
        "{stored} stored, {} confirmed",
        confirmed.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
