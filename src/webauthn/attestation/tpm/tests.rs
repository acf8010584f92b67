//! Tests for `tpm` attestation against the W3C WebAuthn L3 test vector `tpm-es256`, plus
//! mutations of it.

use super::*;
use crate::webauthn::attestation::AttestationObject;
use crate::webauthn::sha256;

struct Fixture {
    obj: AttestationObject,
    client_data_hash: [u8; 32],
    anchor: Vec<u8>,
}

fn load(name: &str) -> Fixture {
    let path = format!("{}/vectors/w3c/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let reg = &json["registration"];
    let hex_field = |v: &serde_json::Value| hex::decode(v.as_str().unwrap()).unwrap();
    let client_data_json = hex_field(&reg["client_data_json"]);
    let obj = AttestationObject::from_bytes(&hex_field(&reg["attestation_object"])).unwrap();
    Fixture {
        obj,
        client_data_hash: sha256(&client_data_json),
        anchor: hex_field(&reg["attestation_trust_anchors"][0]),
    }
}

fn tpm_vector() -> Fixture {
    let f = load("tpm-es256");
    assert_eq!(f.obj.fmt, "tpm");
    f
}

impl Fixture {
    fn run(&self) -> Result<VerifiedStatement, AttestationError> {
        self.run_with(&self.obj.att_stmt, &self.client_data_hash)
    }

    fn run_with(
        &self,
        att_stmt: &[(Value, Value)],
        client_data_hash: &[u8; 32],
    ) -> Result<VerifiedStatement, AttestationError> {
        let credential = self
            .obj
            .auth_data
            .attested_credential_data
            .as_ref()
            .unwrap();
        let input = StatementInput {
            att_stmt,
            auth_data: &self.obj.auth_data,
            auth_data_raw: &self.obj.auth_data_raw,
            client_data_hash,
            credential,
        };
        verify(&input)
    }

    fn bytes(&self, field: &str) -> Vec<u8> {
        match self.obj.att_stmt.get_text(field) {
            Some(Value::Bytes(b)) => b.clone(),
            other => panic!("{field}: {other:?}"),
        }
    }

    /// attStmt with `field` replaced by `value` (or removed when `None`).
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

    fn stmt_with_bytes(&self, field: &str, bytes: Vec<u8>) -> Vec<(Value, Value)> {
        self.stmt_with(field, Some(Value::Bytes(bytes)))
    }

    fn aik(&self) -> Vec<u8> {
        match self.obj.att_stmt.get_text("x5c") {
            Some(Value::Array(items)) => match &items[0] {
                Value::Bytes(b) => b.clone(),
                other => panic!("x5c[0]: {other:?}"),
            },
            other => panic!("x5c: {other:?}"),
        }
    }
}

// Offsets in the vector's certInfo: magic(4) type(2) qualifiedSigner(2+0) extraData(2+32).
const EXTRA_DATA: std::ops::Range<usize> = 10..42;

#[test]
fn w3c_vector_verifies() {
    let f = tpm_vector();
    let verified = f.run().unwrap();
    assert_eq!(verified.format, AttestationFormat::Tpm);
    assert_eq!(verified.kind, AttestationType::AttCa);
    assert_eq!(verified.trust_path, vec![f.aik()]);
}

#[test]
fn w3c_vector_chain_reaches_its_anchor() {
    let f = tpm_vector();
    let verified = f.run().unwrap();
    let mut store = cert::TrustStore::new();
    store.add_der(f.anchor.clone()).unwrap();
    // 2025-01-01T00:00:00Z, inside the vector certificates' validity.
    store.validate(&verified.trust_path, 1_735_689_600).unwrap();
}

#[test]
fn vector_structures_parse_as_expected() {
    let f = tpm_vector();
    let pub_area_raw = f.bytes("pubArea");
    let pub_area = PubArea::parse(&pub_area_raw).unwrap();
    assert_eq!(pub_area.name_alg, TPM_ALG_SHA256);
    assert!(matches!(
        pub_area.key,
        TpmKey::Ecc { curve_id: TPM_ECC_NIST_P256, x, y } if x.len() == 32 && y.len() == 32
    ));
    let cert_info_raw = f.bytes("certInfo");
    let cert_info = CertInfo::parse(&cert_info_raw).unwrap();
    assert_eq!(cert_info.extra_data, &cert_info_raw[EXTRA_DATA]);
    assert_eq!(
        cert_info.attested_name,
        tpm_name(pub_area.name_alg, &pub_area_raw)
            .unwrap()
            .as_slice()
    );
}

#[test]
fn flipped_sig_byte_is_bad_signature() {
    let f = tpm_vector();
    let mut sig = f.bytes("sig");
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    let err = f.run_with(&f.stmt_with_bytes("sig", sig), &f.client_data_hash);
    assert!(
        matches!(err, Err(AttestationError::BadSignature)),
        "{err:?}"
    );
}

#[test]
fn flipped_extra_data_byte_is_nonce_mismatch() {
    let f = tpm_vector();
    let mut cert_info = f.bytes("certInfo");
    cert_info[EXTRA_DATA.start + 5] ^= 0x80;
    let err = f.run_with(
        &f.stmt_with_bytes("certInfo", cert_info),
        &f.client_data_hash,
    );
    assert!(
        matches!(err, Err(AttestationError::NonceMismatch)),
        "{err:?}"
    );
}

#[test]
fn flipped_clock_info_byte_is_bad_signature() {
    // clockInfo is ignored by the checks but covered by sig.
    let f = tpm_vector();
    let mut cert_info = f.bytes("certInfo");
    cert_info[EXTRA_DATA.end + 3] ^= 0x01;
    let err = f.run_with(
        &f.stmt_with_bytes("certInfo", cert_info),
        &f.client_data_hash,
    );
    assert!(
        matches!(err, Err(AttestationError::BadSignature)),
        "{err:?}"
    );
}

#[test]
fn wrong_magic_and_type_are_tpm_errors() {
    let f = tpm_vector();
    for offset in [0, 4] {
        let mut cert_info = f.bytes("certInfo");
        cert_info[offset] ^= 0x01;
        let err = f.run_with(
            &f.stmt_with_bytes("certInfo", cert_info),
            &f.client_data_hash,
        );
        assert!(
            matches!(err, Err(AttestationError::Tpm(_))),
            "{offset}: {err:?}"
        );
    }
}

#[test]
fn flipped_pub_area_key_byte_is_public_key_mismatch() {
    let f = tpm_vector();
    let mut pub_area = f.bytes("pubArea");
    let last = pub_area.len() - 1; // last byte of unique.y
    pub_area[last] ^= 0x01;
    let err = f.run_with(&f.stmt_with_bytes("pubArea", pub_area), &f.client_data_hash);
    assert!(
        matches!(err, Err(AttestationError::PublicKeyMismatch)),
        "{err:?}"
    );
}

#[test]
fn flipped_pub_area_attribute_byte_breaks_the_name() {
    // objectAttributes (offset 4..8) does not change the key, but it changes the Name.
    let f = tpm_vector();
    let mut pub_area = f.bytes("pubArea");
    pub_area[6] ^= 0x01;
    let err = f.run_with(&f.stmt_with_bytes("pubArea", pub_area), &f.client_data_hash);
    match err {
        Err(AttestationError::Tpm(msg)) => assert!(msg.contains("Name"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_client_data_hash_is_nonce_mismatch() {
    let f = tpm_vector();
    let mut cdh = f.client_data_hash;
    cdh[0] ^= 0x01;
    let err = f.run_with(&f.obj.att_stmt, &cdh);
    assert!(
        matches!(err, Err(AttestationError::NonceMismatch)),
        "{err:?}"
    );
}

#[test]
fn truncated_cert_info_and_pub_area_are_typed_errors() {
    let f = tpm_vector();
    for field in ["certInfo", "pubArea"] {
        let full = f.bytes(field);
        for len in 0..full.len() {
            let stmt = f.stmt_with_bytes(field, full[..len].to_vec());
            let err = f.run_with(&stmt, &f.client_data_hash);
            assert!(
                matches!(err, Err(AttestationError::Tpm(_))),
                "{field}[..{len}]: {err:?}"
            );
        }
        // And one trailing byte too many.
        let mut long = full.clone();
        long.push(0);
        let err = f.run_with(&f.stmt_with_bytes(field, long), &f.client_data_hash);
        assert!(
            matches!(err, Err(AttestationError::Tpm(_))),
            "{field}+1: {err:?}"
        );
    }
}

#[test]
fn every_single_byte_mutation_is_rejected_without_panicking() {
    let f = tpm_vector();
    for field in ["certInfo", "pubArea"] {
        let full = f.bytes(field);
        for offset in 0..full.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut mutated = full.clone();
                mutated[offset] ^= mask;
                let stmt = f.stmt_with_bytes(field, mutated);
                let result = f.run_with(&stmt, &f.client_data_hash);
                assert!(result.is_err(), "{field}[{offset}] ^= {mask:#x} verified");
            }
        }
    }
}

#[test]
fn size_fields_set_to_extremes_do_not_panic() {
    // Every u16 position rewritten to 0x0000 and 0xffff (size fields included).
    let f = tpm_vector();
    for field in ["certInfo", "pubArea"] {
        let full = f.bytes(field);
        for offset in 0..full.len() - 1 {
            for value in [[0x00, 0x00], [0xff, 0xff]] {
                let mut mutated = full.clone();
                mutated[offset..offset + 2].copy_from_slice(&value);
                if mutated == full {
                    continue;
                }
                let stmt = f.stmt_with_bytes(field, mutated);
                assert!(f.run_with(&stmt, &f.client_data_hash).is_err());
            }
        }
    }
}

#[test]
fn statement_syntax_is_enforced() {
    let f = tpm_vector();
    let cdh = &f.client_data_hash;
    for field in ["ver", "alg", "x5c", "sig", "certInfo", "pubArea"] {
        let err = f.run_with(&f.stmt_with(field, None), cdh);
        assert!(
            matches!(err, Err(AttestationError::MissingField(_))),
            "{field}: {err:?}"
        );
    }
    let err = f.run_with(&f.stmt_with("ver", Some(Value::Text("1.2".into()))), cdh);
    assert!(matches!(err, Err(AttestationError::Tpm(_))), "{err:?}");
    let err = f.run_with(&f.stmt_with("ver", Some(Value::Integer(2.into()))), cdh);
    assert!(
        matches!(err, Err(AttestationError::WrongFieldType("ver"))),
        "{err:?}"
    );
    let err = f.run_with(&f.stmt_with("certInfo", Some(Value::Text("x".into()))), cdh);
    assert!(
        matches!(err, Err(AttestationError::WrongFieldType("certInfo"))),
        "{err:?}"
    );
    let err = f.run_with(&f.stmt_with("x5c", Some(Value::Array(vec![]))), cdh);
    assert!(
        matches!(err, Err(AttestationError::WrongFieldType("x5c"))),
        "{err:?}"
    );
}

#[test]
fn unsupported_alg_is_reported() {
    let f = tpm_vector();
    let err = f.run_with(
        &f.stmt_with("alg", Some(Value::Integer((-8).into()))),
        &f.client_data_hash,
    );
    assert!(
        matches!(err, Err(AttestationError::UnsupportedAlgorithm(-8))),
        "{err:?}"
    );
}

#[test]
fn alg_with_another_hash_breaks_extra_data() {
    // ES384 hashes attToBeSigned with SHA-384, which the vector's extraData is not.
    let f = tpm_vector();
    let err = f.run_with(
        &f.stmt_with("alg", Some(Value::Integer((-35).into()))),
        &f.client_data_hash,
    );
    assert!(
        matches!(err, Err(AttestationError::NonceMismatch)),
        "{err:?}"
    );
}

#[test]
fn garbage_aik_certificate_is_a_certificate_error() {
    let f = tpm_vector();
    let stmt = f.stmt_with(
        "x5c",
        Some(Value::Array(vec![Value::Bytes(vec![0x30, 0x03, 1, 2, 3])])),
    );
    let err = f.run_with(&stmt, &f.client_data_hash);
    assert!(
        matches!(err, Err(AttestationError::Certificate { index: 0, .. })),
        "{err:?}"
    );
}

#[test]
fn aik_requirements_reject_certificates_with_a_subject() {
    // The vector's CA certificate has a subject, no SAN and CA=true.
    let f = tpm_vector();
    let ca = cert::parse(&f.anchor, 0).unwrap();
    let err = check_aik_certificate(&ca);
    match err {
        Err(AttestationError::CertificateRequirement {
            format: "tpm",
            reason,
        }) => {
            assert!(reason.contains("subject"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let aik_der = f.aik();
    let aik = cert::parse(&aik_der, 0).unwrap();
    check_aik_certificate(&aik).unwrap();
}

#[test]
fn name_uses_name_alg() {
    let area = [1u8, 2, 3];
    let sha1 = tpm_name(TPM_ALG_SHA1, &area).unwrap();
    assert_eq!(&sha1[..2], &[0x00, 0x04]);
    assert_eq!(sha1.len(), 2 + 20);
    let sha256_name = tpm_name(TPM_ALG_SHA256, &area).unwrap();
    assert_eq!(&sha256_name[..2], &[0x00, 0x0b]);
    assert_eq!(&sha256_name[2..], &sha256(&area));
    assert_eq!(tpm_name(TPM_ALG_SHA384, &area).unwrap().len(), 2 + 48);
    assert_eq!(tpm_name(TPM_ALG_SHA512, &area).unwrap().len(), 2 + 64);
    assert!(matches!(
        tpm_name(0x0012, &area),
        Err(AttestationError::Tpm(_))
    ));
}

/// A TPMT_PUBLIC built field by field.
fn rsa_pub_area(symmetric: &[u8], scheme: &[u8], exponent: u32, modulus: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&TPM_ALG_RSA.to_be_bytes());
    v.extend_from_slice(&TPM_ALG_SHA256.to_be_bytes());
    v.extend_from_slice(&0x0006_0072u32.to_be_bytes());
    v.extend_from_slice(&[0x00, 0x00]); // empty authPolicy
    v.extend_from_slice(symmetric);
    v.extend_from_slice(scheme);
    v.extend_from_slice(&2048u16.to_be_bytes());
    v.extend_from_slice(&exponent.to_be_bytes());
    v.extend_from_slice(&u16::try_from(modulus.len()).unwrap().to_be_bytes());
    v.extend_from_slice(modulus);
    v
}

#[test]
fn rsa_pub_area_parses_with_and_without_scheme_details() {
    let modulus = [0xc5u8; 256];
    // NULL symmetric, NULL scheme, default exponent.
    let plain = rsa_pub_area(&[0x00, 0x10], &[0x00, 0x10], 0, &modulus);
    let parsed = PubArea::parse(&plain).unwrap();
    assert_eq!(
        parsed.key,
        TpmKey::Rsa {
            modulus: &modulus,
            exponent: 0
        }
    );
    // AES-128-CFB symmetric and RSASSA-SHA256 scheme carry details.
    let detailed = rsa_pub_area(
        &[0x00, 0x06, 0x00, 0x80, 0x00, 0x43],
        &[0x00, 0x14, 0x00, 0x0b],
        65537,
        &modulus,
    );
    let parsed = PubArea::parse(&detailed).unwrap();
    assert_eq!(
        parsed.key,
        TpmKey::Rsa {
            modulus: &modulus,
            exponent: 65537
        }
    );
    // An unknown scheme has details of unknown size.
    let unknown = rsa_pub_area(&[0x00, 0x10], &[0x01, 0x23], 0, &modulus);
    assert!(matches!(
        PubArea::parse(&unknown),
        Err(AttestationError::Tpm(_))
    ));
}

#[test]
fn ecc_pub_area_does_not_match_an_rsa_layout_or_unknown_type() {
    let mut v = rsa_pub_area(&[0x00, 0x10], &[0x00, 0x10], 0, &[0xc5; 256]);
    v[1] = 0x25; // TPM_ALG_KEYEDHASH-ish: unsupported type
    assert!(matches!(PubArea::parse(&v), Err(AttestationError::Tpm(_))));
}

#[test]
fn ecc_key_comparison_ignores_leading_zeros_only() {
    let f = tpm_vector();
    let credential = &f
        .obj
        .auth_data
        .attested_credential_data
        .as_ref()
        .unwrap()
        .public_key;
    let KeyMaterial::Ec2 { x, y, .. } = credential.material() else {
        panic!("not EC2")
    };
    let mut padded_x = vec![0u8];
    padded_x.extend_from_slice(x);
    let padded = PubArea {
        name_alg: TPM_ALG_SHA256,
        key: TpmKey::Ecc {
            curve_id: TPM_ECC_NIST_P256,
            x: &padded_x,
            y,
        },
    };
    padded.check_matches(credential).unwrap();
    let wrong_curve = PubArea {
        name_alg: TPM_ALG_SHA256,
        key: TpmKey::Ecc {
            curve_id: TPM_ECC_NIST_P384,
            x,
            y,
        },
    };
    assert!(matches!(
        wrong_curve.check_matches(credential),
        Err(AttestationError::PublicKeyMismatch)
    ));
    let rsa = PubArea {
        name_alg: TPM_ALG_SHA256,
        key: TpmKey::Rsa {
            modulus: &[0xc5; 256],
            exponent: 0,
        },
    };
    assert!(matches!(
        rsa.check_matches(credential),
        Err(AttestationError::PublicKeyMismatch)
    ));
}
