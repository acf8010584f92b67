//! The `ctapkit` binary end to end: exit codes, human and JSON output, on W3C vectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

use std::path::Path;
use std::process::{Command, Output};

use ctapkit::webauthn::Base64Url;
use serde_json::json;
use util::{w3c_vectors, W3cVector};

fn ctapkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctapkit"))
        .args(args)
        .output()
        .expect("run ctapkit")
}

fn b64(b: &[u8]) -> String {
    Base64Url(b.to_vec()).encode()
}

fn write_responses(dir: &Path, v: &W3cVector) -> (String, String) {
    let reg = json!({
        "id": b64(&v.credential_id), "rawId": b64(&v.credential_id), "type": "public-key",
        "clientExtensionResults": {},
        "response": {
            "clientDataJSON": b64(&v.reg_client_data_json),
            "attestationObject": b64(&v.attestation_object),
            "transports": ["internal"],
        }
    });
    let auth = json!({
        "id": b64(&v.credential_id), "rawId": b64(&v.credential_id), "type": "public-key",
        "clientExtensionResults": {},
        "response": {
            "clientDataJSON": b64(&v.auth_client_data_json),
            "authenticatorData": b64(&v.authenticator_data),
            "signature": b64(&v.signature),
        }
    });
    let reg_path = dir.join(format!("{}-reg.json", v.name));
    let auth_path = dir.join(format!("{}-auth.json", v.name));
    std::fs::write(&reg_path, reg.to_string()).unwrap();
    std::fs::write(&auth_path, auth.to_string()).unwrap();
    (
        reg_path.to_string_lossy().into_owned(),
        auth_path.to_string_lossy().into_owned(),
    )
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ctapkit-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn registration_then_assertion_round_trip_through_the_cli() {
    let dir = tmpdir("roundtrip");
    let v = w3c_vectors()
        .into_iter()
        .find(|v| v.name == "packed-self-es256")
        .unwrap();
    let (reg, auth) = write_responses(&dir, &v);
    let ch = b64(&v.reg_challenge);
    let out = ctapkit(&[
        "verify",
        "registration",
        "--rp-id",
        "example.org",
        "--challenge",
        &ch,
        &reg,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("registration: VALID"), "{stdout}");
    assert!(stdout.contains("packed (SelfAttestation"), "{stdout}");

    let out = ctapkit(&[
        "verify",
        "registration",
        "--rp-id",
        "example.org",
        "--challenge",
        &ch,
        "--json",
        &reg,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let record_path = dir.join("cred.json");
    std::fs::write(&record_path, &out.stdout).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["algorithm"], "ES256");

    let ach = b64(&v.auth_challenge);
    let out = ctapkit(&[
        "verify",
        "assertion",
        "--credential",
        record_path.to_str().unwrap(),
        "--rp-id",
        "example.org",
        "--challenge",
        &ach,
        &auth,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("assertion: VALID"), "{stdout}");
}

#[test]
fn a_failed_check_exits_1_and_names_the_step() {
    let dir = tmpdir("fail");
    let v = w3c_vectors()
        .into_iter()
        .find(|v| v.name == "none-es256")
        .unwrap();
    let (reg, _) = write_responses(&dir, &v);
    let wrong = b64(&[7u8; 32]);
    let out = ctapkit(&[
        "verify",
        "registration",
        "--rp-id",
        "example.org",
        "--challenge",
        &wrong,
        &reg,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("§7.1 step 10"), "{stdout}");
    let ch = b64(&v.reg_challenge);
    let out = ctapkit(&[
        "verify",
        "registration",
        "--rp-id",
        "example.org",
        "--challenge",
        &ch,
        "--user-verification",
        "required",
        "--json",
        &reg,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["step"]["number"], 17);
    assert!(report["hint"].as_str().unwrap().contains("biometrics"));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let out = ctapkit(&[
        "verify",
        "registration",
        "--rp-id",
        "x",
        "--challenge",
        "AA",
        "/no/such/file",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /no/such/file"));
    let out = ctapkit(&["verify", "registration"]);
    assert_eq!(out.status.code(), Some(2));
    let dir = tmpdir("garbage");
    let garbage = dir.join("g.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let out = ctapkit(&[
        "verify",
        "registration",
        "--rp-id",
        "x",
        "--challenge",
        "AA",
        garbage.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cose_decode_prints_the_key() {
    let key = "a5010203262001215820 65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d 225820 1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c".replace(' ', "");
    let out = ctapkit(&["cose", "decode", &key]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("ES256"), "{stdout}");
    assert!(stdout.contains("P-256"), "{stdout}");
    assert!(
        stdout.contains("Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0"),
        "{stdout}"
    );
    let out = ctapkit(&["cose", "decode", "a1"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn make_credential_on_the_emulator_with_extensions_then_verify() {
    let dir = tmpdir("ext");
    let out = ctapkit(&[
        "make-credential",
        "--device",
        "emulator:security-key",
        "--rp-id",
        "example.org",
        "--rk",
        "--hmac-secret",
        "--cred-protect",
        "2",
        "--cred-blob",
        "aGVsbG8",
        "--challenge",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reg: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ad = Base64Url::decode(reg["response"]["authenticatorData"].as_str().unwrap())
        .unwrap()
        .0;
    assert_eq!(ad[32] & 0x80, 0x80, "ED flag: extension outputs present");
    let file = dir.join("reg.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let out = ctapkit(&[
        "verify",
        "registration",
        "--rp-id",
        "example.org",
        "--challenge",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("packed"), "{stdout}");
    // An out-of-range credProtect level is a usage error.
    let out = ctapkit(&[
        "make-credential",
        "--device",
        "emulator",
        "--rp-id",
        "example.org",
        "--cred-protect",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
