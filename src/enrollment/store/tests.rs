use super::*;
use std::sync::{Arc, Barrier};

const DAY: Duration = Duration::from_secs(86_400);

fn applicant(n: &str) -> NewApplicant {
    NewApplicant {
        registry_number: n.into(),
        name: "Yamada Hanako".into(),
        birth_date: "1990-03-17".into(),
    }
}

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ctapkit-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("site.db")
}

#[test]
fn password_is_the_birth_date_and_username_the_registry_number() {
    let store = SqliteStore::in_memory().unwrap();
    let (a, token) = store
        .add_applicant(&applicant("999999"), DAY, 1000)
        .unwrap();
    assert_eq!(a.username(), "999999-jpa");
    assert_eq!(a.password(), "19900317");
    assert!(store.url_usable(&token, 1000).unwrap());
    assert_eq!(
        store.check_password(&token, "19900317", 1001).unwrap(),
        PasswordOutcome::Accepted(a)
    );
    assert_eq!(
        store.check_password(&token, "1234", 1001).unwrap(),
        PasswordOutcome::Refused
    );
    assert_eq!(
        store.check_password("nope", "19900317", 1001).unwrap(),
        PasswordOutcome::Refused
    );
}

#[test]
fn five_wrong_passwords_lock_the_url_for_good() {
    let store = SqliteStore::in_memory().unwrap();
    let (a, token) = store.add_applicant(&applicant("1"), DAY, 0).unwrap();
    for i in 1..=5 {
        assert_eq!(
            store.check_password(&token, "00000000", i).unwrap(),
            PasswordOutcome::Refused
        );
    }
    assert_eq!(
        store.check_password(&token, "19900317", 10).unwrap(),
        PasswordOutcome::Refused
    );
    assert!(!store.url_usable(&token, 10).unwrap());
    let urls = store.urls(a.id).unwrap();
    assert_eq!(urls[0].invalid, Some(UrlInvalidReason::Locked));
    assert_eq!(urls[0].failed_attempts, 5);
    // The certificates stay valid; a re-issued URL works, the old one does not.
    assert_eq!(
        store.applicant("1").unwrap().second_certificate,
        CertificateStatus::Valid
    );
    let fresh = store.reissue_url("1", DAY, 20).unwrap();
    assert!(matches!(
        store.check_password(&fresh, "19900317", 21).unwrap(),
        PasswordOutcome::Accepted(_)
    ));
    assert_eq!(
        store.check_password(&token, "19900317", 21).unwrap(),
        PasswordOutcome::Refused
    );
    let actions: Vec<String> = store
        .audit_trail()
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"url.locked".to_string()));
    assert!(actions.contains(&"url.reissued".to_string()));
}

#[test]
fn expired_and_superseded_urls_are_refused_alike() {
    let store = SqliteStore::in_memory().unwrap();
    let (_, token) = store
        .add_applicant(&applicant("2"), Duration::from_secs(60), 0)
        .unwrap();
    assert_eq!(
        store.check_password(&token, "19900317", 60).unwrap(),
        PasswordOutcome::Refused
    );
    let (_, token2) = store.add_applicant(&applicant("3"), DAY, 0).unwrap();
    store.reissue_url("3", DAY, 1).unwrap();
    assert_eq!(
        store.check_password(&token2, "19900317", 2).unwrap(),
        PasswordOutcome::Refused
    );
}

/// 50 wrong attempts from 50 threads, each on its own connection to the same database file:
/// exactly five failures are counted, the URL is locked once, and nothing passes afterwards.
#[test]
fn concurrent_wrong_passwords_lock_exactly_once() {
    let path = temp_db("concurrent");
    let (a, token) = {
        let store = SqliteStore::open(&path).unwrap();
        store.add_applicant(&applicant("4"), DAY, 0).unwrap()
    };
    let barrier = Arc::new(Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let (path, token, barrier) = (path.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                let store = SqliteStore::open(&path).unwrap();
                barrier.wait();
                // Every 10th attempt uses the right password: none may pass once 5 failed.
                let password = if i % 10 == 9 { "19900317" } else { "99999999" };
                store.check_password(&token, password, 100).unwrap()
            })
        })
        .collect();
    let outcomes: Vec<PasswordOutcome> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let store = SqliteStore::open(&path).unwrap();
    let urls = store.urls(a.id).unwrap();
    assert_eq!(urls.len(), 1);
    assert_eq!(
        urls[0].failed_attempts, 5,
        "failures beyond the 5th are not counted"
    );
    assert_eq!(urls[0].invalid, Some(UrlInvalidReason::Locked));
    let locks = store
        .audit_trail()
        .unwrap()
        .iter()
        .filter(|e| e.action == "url.locked")
        .count();
    assert_eq!(locks, 1, "exactly one invalidation");
    // Any accepted right password happened before the 5th failure in commit order.
    let trail = store.audit_trail().unwrap();
    let lock_at = trail.iter().position(|e| e.action == "url.locked").unwrap();
    assert!(trail[lock_at..]
        .iter()
        .all(|e| e.action != "password.accepted"));
    let accepted = outcomes
        .iter()
        .filter(|o| matches!(o, PasswordOutcome::Accepted(_)))
        .count();
    assert!(accepted <= 5);
    assert_eq!(
        store.check_password(&token, "19900317", 101).unwrap(),
        PasswordOutcome::Refused
    );
}

#[test]
fn credentials_are_unique_labelled_and_survive_reopening() {
    let path = temp_db("creds");
    let a = {
        let store = SqliteStore::open(&path).unwrap();
        let (a, _) = store.add_applicant(&applicant("5"), DAY, 0).unwrap();
        let c = EnrolledCredential {
            credential_id: vec![1, 2, 3],
            applicant_id: a.id,
            record_json: "{}".into(),
            alg: -7,
            sign_count: 0,
            aaguid: "00000000-0000-0000-0000-000000000000".into(),
            backup_eligible: true,
            backup_state: true,
            transports: "internal".into(),
            label: "iPhone 2026-11-30".into(),
            created_at: 0,
            last_used_at: None,
        };
        store.add_credential(&c, 5).unwrap();
        assert!(matches!(
            store.add_credential(&c, 6),
            Err(StoreError::DuplicateCredential)
        ));
        let second_device = EnrolledCredential {
            credential_id: vec![4, 5, 6],
            ..c.clone()
        };
        assert!(matches!(
            store.add_credential(&second_device, 6),
            Err(StoreError::AlreadyEnrolled)
        ));
        store.set_label(&[1, 2, 3], "my phone", 7).unwrap();
        assert!(store.set_label(&[1, 2, 3], "  ", 7).is_err());
        store
            .record_sign_in(&[1, 2, 3], 0, true, "{\"x\":1}", 8)
            .unwrap();
        a
    };
    let store = SqliteStore::open(&path).unwrap();
    let creds = store.credentials(a.id).unwrap();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].label, "my phone");
    assert_eq!(creds[0].last_used_at, Some(8));
    assert_eq!(store.delete_credentials("5", 9).unwrap(), 1);
    assert!(store.credentials(a.id).unwrap().is_empty());
}

#[test]
fn revocation_and_validation() {
    let store = SqliteStore::in_memory().unwrap();
    store.add_applicant(&applicant("6"), DAY, 0).unwrap();
    store.revoke("6", true, false, 1).unwrap();
    let a = store.applicant("6").unwrap();
    assert_eq!(
        (a.card_certificate, a.second_certificate),
        (CertificateStatus::Revoked, CertificateStatus::Valid)
    );
    assert!(store.revoke("6", false, false, 1).is_err());
    assert!(matches!(
        store.revoke("404", true, true, 1),
        Err(StoreError::UnknownApplicant(_))
    ));
    for bad in [
        NewApplicant {
            registry_number: "12a".into(),
            ..applicant("")
        },
        NewApplicant {
            birth_date: "1990-13-01".into(),
            ..applicant("7")
        },
        NewApplicant {
            birth_date: "19900317".into(),
            ..applicant("7")
        },
        NewApplicant {
            name: " ".into(),
            ..applicant("7")
        },
    ] {
        assert!(
            matches!(
                store.add_applicant(&bad, DAY, 0),
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    assert!(
        store.add_applicant(&applicant("6"), DAY, 0).is_err(),
        "duplicate registry number"
    );
}

#[test]
fn the_audit_trail_is_append_only() {
    let path = temp_db("audit");
    let store = SqliteStore::open(&path).unwrap();
    store.add_applicant(&applicant("8"), DAY, 0).unwrap();
    let conn = Connection::open(&path).unwrap();
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    assert!(conn.execute("UPDATE audit SET detail = 'x'", []).is_err());
}
