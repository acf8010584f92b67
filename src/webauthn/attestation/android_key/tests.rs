//! Tests for `android-key` attestation against the W3C WebAuthn L3 test vector
//! `android-key-es256`, mutations of it, and hand-built key descriptions.

use super::*;
use crate::cbor::{MapExt as _, Value};
use crate::webauthn::attestation::AttestationObject;
use crate::webauthn::auth_data::AttestedCredentialData;
use crate::webauthn::sha256;

struct Fixture {
    obj: AttestationObject,
    client_data_hash: [u8; 32],
}

fn load(name: &str) -> Fixture {
    let path = format!("{}/vectors/w3c/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let reg = &json["registration"];
    let hex_field = |v: &serde_json::Value| hex::decode(v.as_str().unwrap()).unwrap();
    let obj = AttestationObject::from_bytes(&hex_field(&reg["attestation_object"])).unwrap();
    Fixture {
        obj,
        client_data_hash: sha256(&hex_field(&reg["client_data_json"])),
    }
}

fn android_vector() -> Fixture {
    let f = load("android-key-es256");
    assert_eq!(f.obj.fmt, "android-key");
    f
}

impl Fixture {
    fn credential(&self) -> &AttestedCredentialData {
        self.obj
            .auth_data
            .attested_credential_data
            .as_ref()
            .unwrap()
    }

    fn run_full(
        &self,
        att_stmt: &[(Value, Value)],
        client_data_hash: &[u8; 32],
        credential: &AttestedCredentialData,
    ) -> Result<VerifiedStatement, AttestationError> {
        let input = StatementInput {
            att_stmt,
            auth_data: &self.obj.auth_data,
            auth_data_raw: &self.obj.auth_data_raw,
            client_data_hash,
            credential,
        };
        verify(&input)
    }

    fn run_with(&self, att_stmt: &[(Value, Value)]) -> Result<VerifiedStatement, AttestationError> {
        self.run_full(att_stmt, &self.client_data_hash, self.credential())
    }

    fn stmt_with(&self, field: &str, value: Option<Value>) -> Vec<(Value, Value)> {
        let mut stmt: Vec<(Value, Value)> = self
            .obj
            .att_stmt
            .iter()
            .filter(|(k, _)| !matches!(k, Value::Text(t) if t == field))
            .cloned()
            .collect();
        if let Some(v) = value {
            stmt.push((Value::Text(field.into()), v));
        }
        stmt
    }

    fn cred_cert(&self) -> Vec<u8> {
        match self.obj.att_stmt.get_text("x5c") {
            Some(Value::Array(items)) => match &items[0] {
                Value::Bytes(b) => b.clone(),
                other => panic!("x5c[0]: {other:?}"),
            },
            other => panic!("x5c: {other:?}"),
        }
    }

    fn with_cred_cert(&self, der: Vec<u8>) -> Vec<(Value, Value)> {
        self.stmt_with("x5c", Some(Value::Array(vec![Value::Bytes(der)])))
    }

    /// The key description extension value and its offset inside credCert's DER.
    fn key_description(&self) -> (Vec<u8>, usize) {
        let der = self.cred_cert();
        let leaf = cert::parse(&der, 0).unwrap();
        let ext = cert::extension_value(&leaf, OID_ANDROID_KEY_DESCRIPTION)
            .unwrap()
            .unwrap()
            .to_vec();
        let offset = der.windows(ext.len()).position(|w| w == ext).unwrap();
        (ext, offset)
    }
}

fn assert_android_err(result: Result<impl std::fmt::Debug, AttestationError>, needle: &str) {
    match result {
        Err(AttestationError::AndroidKey(msg)) => assert!(msg.contains(needle), "{msg}"),
        other => panic!("expected AndroidKey({needle:?}), got {other:?}"),
    }
}

#[test]
fn w3c_vector_passes_every_step_but_origin() {
    // The W3C generator writes KeyDescription [300, 0, 0, 0, challenge, b'', [], []]: both
    // authorization lists are empty, so §8.4's origin/purpose checks cannot succeed. Every
    // earlier step (sig, public key, challenge, allApplications) passes: the procedure
    // fails exactly at the origin check.
    let f = android_vector();
    assert_android_err(f.run_with(&f.obj.att_stmt), "teeEnforced has no origin");
}

#[test]
fn w3c_vector_key_description_parses() {
    let f = android_vector();
    let (ext, _) = f.key_description();
    let description = KeyDescription::parse(&ext).unwrap();
    assert_eq!(
        description.attestation_challenge,
        f.client_data_hash.as_slice()
    );
    assert_eq!(description.software_enforced, AuthorizationList::default());
    assert_eq!(description.tee_enforced, AuthorizationList::default());
    // Even the union of both lists lacks origin.
    assert_android_err(
        check_key_description(&description, &f.client_data_hash, true),
        "teeEnforced or softwareEnforced has no origin",
    );
}

#[test]
fn flipped_sig_byte_is_bad_signature() {
    let f = android_vector();
    let Some(Value::Bytes(mut sig)) = f.obj.att_stmt.get_text("sig").cloned() else {
        panic!("sig")
    };
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    let err = f.run_with(&f.stmt_with("sig", Some(Value::Bytes(sig))));
    assert!(
        matches!(err, Err(AttestationError::BadSignature)),
        "{err:?}"
    );
}

#[test]
fn wrong_client_data_hash_fails_the_signature_first() {
    let f = android_vector();
    let mut cdh = f.client_data_hash;
    cdh[31] ^= 0x01;
    let err = f.run_full(&f.obj.att_stmt, &cdh, f.credential());
    assert!(
        matches!(err, Err(AttestationError::BadSignature)),
        "{err:?}"
    );
}

#[test]
fn challenge_mismatch_is_nonce_mismatch() {
    let f = android_vector();
    let (ext, _) = f.key_description();
    let description = KeyDescription::parse(&ext).unwrap();
    let mut cdh = f.client_data_hash;
    cdh[0] ^= 0x01;
    let err = check_key_description(&description, &cdh, false);
    assert!(
        matches!(err, Err(AttestationError::NonceMismatch)),
        "{err:?}"
    );
}

#[test]
fn challenge_byte_flipped_inside_the_certificate_is_nonce_mismatch() {
    // verify() does not check the CA's signature on credCert (chain validation is the
    // TrustStore's job), so an edited extension reaches the key description checks.
    let f = android_vector();
    let (ext, offset) = f.key_description();
    let challenge_at = ext
        .windows(32)
        .position(|w| w == f.client_data_hash.as_slice())
        .unwrap();
    let mut der = f.cred_cert();
    der[offset + challenge_at + 7] ^= 0x40;
    let err = f.run_with(&f.with_cred_cert(der));
    assert!(
        matches!(err, Err(AttestationError::NonceMismatch)),
        "{err:?}"
    );
}

#[test]
fn credential_key_other_than_the_certificate_key_is_a_mismatch() {
    let f = android_vector();
    let tpm = load("tpm-es256");
    let other = tpm.obj.auth_data.attested_credential_data.as_ref().unwrap();
    let err = f.run_full(&f.obj.att_stmt, &f.client_data_hash, other);
    assert!(
        matches!(err, Err(AttestationError::PublicKeyMismatch)),
        "{err:?}"
    );
}

#[test]
fn statement_syntax_is_enforced() {
    let f = android_vector();
    for field in ["alg", "sig", "x5c"] {
        let err = f.run_with(&f.stmt_with(field, None));
        assert!(
            matches!(err, Err(AttestationError::MissingField(_))),
            "{field}: {err:?}"
        );
    }
    let err = f.run_with(&f.stmt_with("alg", Some(Value::Integer((-65535).into()))));
    assert!(
        matches!(err, Err(AttestationError::UnsupportedAlgorithm(-65535))),
        "{err:?}"
    );
    let err = f.run_with(&f.stmt_with("sig", Some(Value::Text("sig".into()))));
    assert!(
        matches!(err, Err(AttestationError::WrongFieldType("sig"))),
        "{err:?}"
    );
    let err = f.run_with(&f.with_cred_cert(vec![0x30, 0x00]));
    assert!(
        matches!(err, Err(AttestationError::Certificate { index: 0, .. })),
        "{err:?}"
    );
}

#[test]
fn truncated_key_description_is_a_typed_error() {
    let f = android_vector();
    let (ext, _) = f.key_description();
    for len in 0..ext.len() {
        let err = KeyDescription::parse(&ext[..len]);
        assert!(
            matches!(err, Err(AttestationError::AndroidKey(_))),
            "[..{len}]: {err:?}"
        );
    }
    let mut long = ext.clone();
    long.push(0);
    assert_android_err(KeyDescription::parse(&long), "trailing");
}

#[test]
fn every_key_description_mutation_in_the_certificate_is_handled() {
    let f = android_vector();
    let (ext, offset) = f.key_description();
    let der = f.cred_cert();
    for i in 0..ext.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut mutated = der.clone();
            mutated[offset + i] ^= mask;
            // Must not panic; never verifies (the vector already fails at origin).
            assert!(f.run_with(&f.with_cred_cert(mutated)).is_err());
            let mut ext_mutated = ext.clone();
            ext_mutated[i] ^= mask;
            let _ = KeyDescription::parse(&ext_mutated);
        }
    }
}

// --- Hand-built key descriptions (DER) for the authorization list rules. ---

fn tlv(tag: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xff => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn int(v: u8) -> Vec<u8> {
    tlv(&[0x02], &[v])
}

fn purpose(values: &[u8]) -> Vec<u8> {
    let set: Vec<u8> = values.iter().flat_map(|&v| int(v)).collect();
    tlv(&[0xa1], &tlv(&[0x31], &set))
}

fn all_applications() -> Vec<u8> {
    // [600] EXPLICIT NULL: high tag number 600 = 0x04 * 128 + 0x58.
    tlv(&[0xbf, 0x84, 0x58], &[0x05, 0x00])
}

fn origin(v: u8) -> Vec<u8> {
    // [702] EXPLICIT INTEGER: 702 = 0x05 * 128 + 0x3e.
    tlv(&[0xbf, 0x85, 0x3e], &int(v))
}

fn other_field() -> Vec<u8> {
    // [503] EXPLICIT INTEGER (e.g. rollbackResistant-like fields are skipped).
    tlv(&[0xbf, 0x83, 0x77], &int(1))
}

fn list(fields: &[Vec<u8>]) -> Vec<u8> {
    tlv(&[0x30], &fields.concat())
}

fn description(challenge: &[u8], software: &[Vec<u8>], tee: &[Vec<u8>]) -> Vec<u8> {
    let body = [
        tlv(&[0x02], &[0x01, 0x2c]), // attestationVersion 300
        tlv(&[0x0a], &[0x01]),       // attestationSecurityLevel TrustedEnvironment
        tlv(&[0x02], &[0x01, 0x2c]), // keymasterVersion 300
        tlv(&[0x0a], &[0x01]),       // keymasterSecurityLevel TrustedEnvironment
        tlv(&[0x04], challenge),
        tlv(&[0x04], &[]),
        list(software),
        list(tee),
    ]
    .concat();
    tlv(&[0x30], &body)
}

const CDH: [u8; 32] = [0x5a; 32];

fn check(
    software: &[Vec<u8>],
    tee: &[Vec<u8>],
    accept_software: bool,
) -> Result<(), AttestationError> {
    let der = description(&CDH, software, tee);
    let parsed = KeyDescription::parse(&der)?;
    check_key_description(&parsed, &CDH, accept_software)
}

#[test]
fn tee_enforced_generated_signing_key_is_accepted() {
    check(&[], &[purpose(&[2]), origin(0)], false).unwrap();
    check(
        &[other_field()],
        &[purpose(&[2, 3]), other_field(), origin(0)],
        false,
    )
    .unwrap();
}

#[test]
fn tee_enforced_list_must_say_generated_and_sign() {
    assert_android_err(
        check(&[], &[purpose(&[3]), origin(0)], false),
        "KM_PURPOSE_SIGN",
    );
    assert_android_err(check(&[], &[origin(0)], false), "KM_PURPOSE_SIGN");
    assert_android_err(
        check(&[], &[purpose(&[2]), origin(2)], false),
        "origin is 2",
    );
    assert_android_err(check(&[], &[purpose(&[2])], false), "no origin");
}

#[test]
fn software_enforced_values_count_only_when_accepted() {
    let software = [purpose(&[2]), origin(0)];
    assert_android_err(check(&software, &[], false), "teeEnforced has no origin");
    check(&software, &[], true).unwrap();
    // In the union, every origin present must be KM_ORIGIN_GENERATED.
    assert_android_err(
        check(&[origin(1)], &[purpose(&[2]), origin(0)], true),
        "origin is 1",
    );
}

#[test]
fn all_applications_is_refused_in_either_list() {
    let tee = [purpose(&[2]), origin(0)];
    assert_android_err(
        check(&[all_applications()], &tee, false),
        "softwareEnforced has allApplications",
    );
    let tee_all = [purpose(&[2]), all_applications(), origin(0)];
    assert_android_err(
        check(&[], &tee_all, false),
        "teeEnforced has allApplications",
    );
}

#[test]
fn malformed_authorization_lists_are_refused() {
    // Repeated field.
    assert_android_err(check(&[], &[origin(0), origin(0)], false), "repeats");
    // Untagged element.
    assert_android_err(check(&[], &[int(1)], false), "EXPLICIT context-specific");
    // origin that is not an INTEGER.
    let bad_origin = tlv(&[0xbf, 0x85, 0x3e], &tlv(&[0x04], &[0]));
    assert_android_err(check(&[], &[bad_origin], false), "wrong ASN.1 type");
    // Negative purpose.
    let negative = tlv(&[0xa1], &tlv(&[0x31], &tlv(&[0x02], &[0xfe])));
    assert_android_err(check(&[], &[negative], false), "negative");
    // Two elements inside one EXPLICIT tag.
    let doubled = tlv(&[0xbf, 0x85, 0x3e], &[int(0), int(0)].concat());
    assert_android_err(check(&[], &[doubled], false), "trailing");
}
