//! Differential check against an independent verifier, webauthn-rs (kanidm's
//! `webauthn-rs-core` 0.6.2, a dev-dependency).
//!
//! The same inputs go through both verifiers: every W3C vector (vectors/w3c), a few changes to
//! the stored credential record, and deterministic random mutations of the vectors that both
//! sides accept. The verdicts (accept / reject) must agree. Where they do not, the case must be
//! listed here, either per vector in [`DOCUMENTED_DISAGREEMENTS`] or, for mutants, in a
//! [`MUTANT_CATEGORIES`] entry whose predicate matches it. Every entry names the spec step on
//! which the two differ and who is right. vectors/w3c/README.md ("Differential check against
//! webauthn-rs") has the same table with the counts.
//!
//! Both sides are configured alike: RP ID `example.org`, the single origin
//! `https://example.org` (no subdomains, no other ports), user verification "preferred", every
//! algorithm each side knows, synced credentials allowed, and the vector's trust anchor required
//! where `policy_for` requires trusted attestation. webauthn-rs has no clock parameter: it judges
//! certificate validity at the current time (the spec certificates are valid until 3024).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ctapkit::cbor::{self, DecodeOptions, Value};
use ctapkit::webauthn::authentication::{verify_assertion_parts, CredentialRecord};
use ctapkit::webauthn::registration::verify_registration_parts;
use ctapkit::webauthn::{CeremonyError, Step};
use serde_json::json;
use util::{policy_for, w3c_vectors, W3cVector};
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationCaList, AuthenticationState, COSEAlgorithm, Credential, PublicKeyCredential,
    RegisterPublicKeyCredential, RegistrationState, RequestRegistrationExtensions,
    UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

// =============================================================================================
// The documented disagreements.
// =============================================================================================

/// The two ceremonies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ceremony {
    Registration,
    Authentication,
}

/// Which verifier rejects the input the other accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejects {
    Ours,
    Theirs,
}

/// A vector on which the two verifiers disagree.
struct VectorDisagreement {
    vector: &'static str,
    ceremony: Ceremony,
    rejects: Rejects,
    /// The rejecting side's error (webauthn-rs's `WebauthnError` variant, or ctapkit's step).
    error: &'static str,
    /// For a webauthn-rs rejection by its "sticky UV" rule: its error once the stored
    /// credential's registration policy no longer triggers that rule (`None`: it then accepts).
    error_without_sticky_uv: Option<&'static str>,
    /// The WebAuthn L3 step the two differ on.
    step: &'static str,
    /// Who is right, and why.
    why: &'static str,
}

/// Vectors on which ctapkit and webauthn-rs disagree. Everything else agrees: both accept, or
/// both reject (packed-ed448, android-key-es256; see `AGREED_REJECTIONS`).
const DOCUMENTED_DISAGREEMENTS: &[VectorDisagreement] = &[
    VectorDisagreement {
        vector: "none-es256-crossOrigin",
        ceremony: Ceremony::Registration,
        rejects: Rejects::Theirs,
        error: "CredentialCrossOrigin",
        error_without_sticky_uv: None,
        step: "§7.1 step 12 (ctapkit numbering): \"If C.crossOrigin is present and set to true, \
               verify that the Relying Party expects that this credential would have been created \
               within an iframe that is not same-origin with its ancestors\"",
        why: "configuration, not a bug on either side: the vector's policy expects the embedding \
              (policy_for allows top origin https://example.com), but WebauthnCore 0.6.2 has no \
              way to expect it (allow_cross_origin is private and false), so it rejects every \
              crossOrigin:true registration. ctapkit is right under the vector's policy. \
              webauthn-rs does not look at crossOrigin or topOrigin when authenticating.",
    },
    VectorDisagreement {
        vector: "none-es256-topOrigin",
        ceremony: Ceremony::Registration,
        rejects: Rejects::Theirs,
        error: "CredentialCrossOrigin",
        error_without_sticky_uv: None,
        step: "§7.1 step 12 (ctapkit numbering): crossOrigin, then \"If C.topOrigin is present: \
               verify that the Relying Party expects ... an iframe that is not same-origin with \
               its ancestors; verify that C.topOrigin matches the origin of a page that the \
               Relying Party expects to be sub-framed within\"",
        why: "as none-es256-crossOrigin: ctapkit checks topOrigin https://example.com against \
              the policy's allowed top origins and accepts; webauthn-rs cannot be configured to \
              expect an embedding and rejects on crossOrigin:true (it never reads topOrigin).",
    },
    VectorDisagreement {
        vector: "packed-eddsa",
        ceremony: Ceremony::Registration,
        rejects: Rejects::Theirs,
        error: "SshPublicKeyEDUnsupported",
        error_without_sticky_uv: None,
        step: "§7.1 step 21 (ctapkit numbering): \"Verify that the alg parameter in the \
               credential public key in authData matches the alg attribute of one of the items \
               in pkOptions.pubKeyCredParams\"",
        why: "webauthn-rs limitation: it parses OKP/EdDSA COSE keys but cannot verify Ed25519 \
              (COSEKey::validate returns SshPublicKeyEDUnsupported), so it refuses the key even \
              though EdDSA (-8) is in its own pubKeyCredParams. The packed statement and the key \
              are valid; ctapkit is right.",
    },
    VectorDisagreement {
        vector: "packed-rs256",
        ceremony: Ceremony::Registration,
        rejects: Rejects::Theirs,
        error: "COSEKeyRSANEInvalid",
        error_without_sticky_uv: None,
        step: "§7.1 step 21 (ctapkit numbering): credential public key algorithm (RS256, -257)",
        why: "webauthn-rs limitation: it accepts only RSA moduli of exactly 256 bytes (2048 \
              bits); the vector's modulus is 3482 bits. Neither WebAuthn nor RFC 8812 fixes the \
              RSA key size, and the vector's signatures verify; ctapkit is right.",
    },
    VectorDisagreement {
        vector: "tpm-es256",
        ceremony: Ceremony::Registration,
        rejects: Rejects::Theirs,
        error: "COSEKeyInvalidType",
        error_without_sticky_uv: None,
        step: "§7.1 step 24 (ctapkit numbering), §8.3 TPM verification procedure: \"Verify that \
               extraData is set to the hash of attToBeSigned using the hash algorithm employed \
               in alg\"",
        why: "webauthn-rs limitation: its TPM extraData hash (only_hash_from_type) supports no \
              algorithm in 0.6.2 (RS1 is refused as insecure, everything else returns \
              COSEKeyInvalidType), so no TPM attestation can pass. For alg -7 the hash is \
              SHA-256, which the vector uses; ctapkit is right.",
    },
    VectorDisagreement {
        vector: "packed-self-es256",
        ceremony: Ceremony::Authentication,
        rejects: Rejects::Theirs,
        error: "UserNotVerified",
        error_without_sticky_uv: None,
        step: "§7.2 step 17 (ctapkit numbering): \"User verification SHOULD be required if, and \
               only if, pkOptions.userVerification is set to required ... Otherwise, ignore the \
               value of the UV flag\"",
        why: "webauthn-rs's deliberate deviation (\"sticky UV\"): under Preferred it requires UV \
              on every assertion once the registration had UV (flags 0x5d at registration, 0x09 \
              here). The spec says to ignore UV unless required; ctapkit is right. With the \
              rule neutralised webauthn-rs accepts.",
    },
    VectorDisagreement {
        vector: "packed-es512",
        ceremony: Ceremony::Authentication,
        rejects: Rejects::Theirs,
        error: "UserNotVerified",
        error_without_sticky_uv: Some("AuthenticationFailure"),
        step: "§7.2 step 17 (UV, as packed-self-es256), then §7.2 step 23 (ctapkit numbering): \
               \"verify that sig is a valid signature over the binary concatenation of authData \
               and hash\"",
        why: "first the sticky-UV deviation (registration flags 0x4d with UV, assertion 0x19 \
              without); \
              without it, a webauthn-rs limitation: its P-521 verification is not implemented \
              and returns false (it still registers P-521 keys). The ES512 signature is valid; \
              ctapkit is right.",
    },
];

/// Vectors both sides reject, with each side's reason (they need not be the same).
const AGREED_REJECTIONS: &[(&str, &str, &str)] = &[
    (
        "packed-ed448",
        "§7.1 step 21: COSE -53 (Ed448) is not an algorithm ctapkit verifies",
        "COSEKeyInvalidAlgorithm: -53 is not in COSEAlgorithm",
    ),
    (
        "android-key-es256",
        "§7.1 step 24: both AuthorizationLists are empty, so no origin is KM_ORIGIN_GENERATED",
        "AttestationStatementX5CInvalid: its key-description parser requires ENUMERATED \
         SecurityLevel and the vector encodes INTEGER, so it never reaches its own \"both \
         software and tee not set\" check",
    ),
];

/// A class of mutant disagreements, matched by a predicate over the run.
struct Category {
    id: &'static str,
    rejects: Rejects,
    step: &'static str,
    what: &'static str,
    verdict: &'static str,
    matches: fn(&Case<'_>) -> bool,
}

/// Every class of mutant on which the two verifiers disagree. A mutant disagreement that no
/// predicate matches fails the test.
const MUTANT_CATEGORIES: &[Category] = &[
    Category {
        id: "rawid-mismatch",
        rejects: Rejects::Ours,
        step: "§7.1 step 5 (ctapkit: response is an attestation response)",
        what: "a bit of the credentialId inside authData flipped (none attestation, so no \
               signature covers it); the response's rawId is still the original ID",
        verdict: "ctapkit is right. §7.1 stores credential.id / rawId as the credential \
                  record's id but checks authData's credentialId for the 1023-byte limit and \
                  for uniqueness (\"Verify that the credentialId is not yet registered\"); a \
                  client sets rawId from that credentialId, so a mismatch is not a response a \
                  conforming client produces, and accepting it lets the uniqueness check run on \
                  a different ID than the one stored. webauthn-rs ignores rawId at \
                  registration (\"NEVER actually used\") and stores authData's ID.",
        matches: rawid_mismatch,
    },
    Category {
        id: "origin-case",
        rejects: Rejects::Ours,
        step: "§7.1 step 11 (ctapkit numbering): \"Verify that the value of C.origin is an \
               origin expected by the Relying Party\"",
        what: "one letter of C.origin upper-cased (e.g. https://exaMple.org, httPs://...) in an \
               unsigned registration clientDataJSON",
        verdict: "ctapkit is right. §13.4.9: \"A web application served only at \
                  https://example.org SHOULD require origin to exactly equal \
                  https://example.org\"; a client serialises origins in lower case, so another \
                  spelling is an unexpected value. webauthn-rs parses C.origin as a URL and \
                  compares the normalised scheme/host/port, which §13.4.9 also permits (\"or \
                  any other method\"): a permitted leniency, not a bug.",
        matches: origin_case,
    },
    Category {
        id: "text-as-bytes",
        rejects: Rejects::Ours,
        step: "§7.1 step 14 (ctapkit: decode the attestation object), §6.5.4 attObj CDDL",
        what: "the CBOR header of a top-level attestation-object key (fmt, attStmt, authData) \
               or of the fmt value changed from major type 3 (text) to 2 (bytes)",
        verdict: "ctapkit is right: §6.5.4 defines attObj with text keys (authData: bytes, fmt: \
                  text, attStmt: ...), so a byte-string key is not the member and a byte-string \
                  fmt is not a format identifier. webauthn-rs decodes with serde, whose \
                  field-name and &str visitors also accept byte strings.",
        matches: text_as_bytes,
    },
    Category {
        id: "none-attstmt-not-map",
        rejects: Rejects::Ours,
        step: "§7.1 step 14 (ctapkit: decode the attestation object), §8.7 none syntax",
        what: "fmt \"none\" with the attStmt value's header (0xa0, the empty map) turned into \
               another one-byte CBOR item: 0x80 (empty array), 0x20 (integer -1)",
        verdict: "ctapkit is right: §8.7 gives the none syntax as attStmt: emptyMap, and \
                  §6.5.4's attStmtTemplate allows only a map (or an array, for compound), never \
                  an integer. webauthn-rs never reads attStmt for none. Harmless either way: \
                  none conveys nothing.",
        matches: none_attstmt_not_map,
    },
    Category {
        id: "packed-alg-mismatch",
        rejects: Rejects::Ours,
        step: "§7.1 step 24 (ctapkit: attestation statement verifies), §8.2 packed, x5c \
               case: \"Verify that sig is a valid signature ... using the attestation public \
               key in attestnCert with the algorithm specified in alg\"",
        what: "packed attestation with x5c, attStmt.alg changed (e.g. -7 to -8, EdDSA) while \
               attestnCert holds a P-256 key; alg is not covered by any signature",
        verdict: "ctapkit is right: the signature must verify with the algorithm alg names, and \
                  an EdDSA signature cannot come from a P-256 key. webauthn-rs only checks that \
                  alg is a known COSE algorithm and verifies with the certificate's own \
                  signature algorithm, so it accepts an attStmt whose alg is wrong.",
        matches: packed_alg_mismatch,
    },
    Category {
        id: "sticky-uv",
        rejects: Rejects::Theirs,
        step: "§7.2 step 17 (ctapkit numbering): \"Otherwise, ignore the value of the UV flag\"",
        what: "credential record that saw UV (ctapkit uvInitialized, webauthn-rs user_verified) \
               and an assertion without UV, user verification preferred",
        verdict: "ctapkit is right (see packed-self-es256): the spec requires UV only when \
                  userVerification is required; webauthn-rs's sticky UV is a documented \
                  deviation of its own.",
        matches: sticky_uv,
    },
];

// =============================================================================================
// The two verifiers, configured alike.
// =============================================================================================

fn b64u(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn theirs_core(v: &W3cVector) -> WebauthnCore {
    let origins = serde_json::from_value(json!([v.origin])).unwrap();
    WebauthnCore::new_unsafe_experts_only(
        "ctapkit differential",
        &v.rp_id,
        origins,
        std::time::Duration::from_secs(60),
        Some(false),
        Some(false),
    )
}

/// The trust anchor as webauthn-rs's CA list (from PEM, so every AAGUID is allowed), when
/// ctapkit's policy for the vector requires trusted attestation.
fn theirs_ca_list(v: &W3cVector) -> Option<AttestationCaList> {
    if !policy_for(v).require_trusted_attestation {
        return None;
    }
    assert_eq!(v.trust_anchors.len(), 1, "{}", v.name);
    let b64 = STANDARD.encode(&v.trust_anchors[0]);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    Some(AttestationCaList::try_from(pem.as_bytes()).unwrap())
}

/// `RegistrationState` (pub(crate) fields) from its serde form with the vector's challenge.
fn theirs_reg_state(challenge: &[u8]) -> RegistrationState {
    serde_json::from_value(json!({
        "policy": UserVerificationPolicy::Preferred,
        "exclude_credentials": [],
        "challenge": b64u(challenge),
        "credential_algorithms": COSEAlgorithm::all_possible_algs(),
        "require_resident_key": false,
        "authenticator_attachment": null,
        "extensions": RequestRegistrationExtensions::default(),
        "allow_synchronised_authenticators": true,
    }))
    .unwrap()
}

fn theirs_auth_state(challenge: &[u8], cred: &Credential) -> AuthenticationState {
    serde_json::from_value(json!({
        "credentials": [cred],
        "policy": UserVerificationPolicy::Preferred,
        "challenge": b64u(challenge),
        "appid": null,
        "allow_backup_eligible_upgrade": false,
    }))
    .unwrap()
}

fn theirs_register(
    v: &W3cVector,
    client_data_json: &[u8],
    attestation_object: &[u8],
) -> Result<Credential, WebauthnError> {
    // The browser's JSON form (RegistrationResponseJSON).
    let reg: RegisterPublicKeyCredential = serde_json::from_value(json!({
        "id": b64u(&v.credential_id),
        "rawId": b64u(&v.credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64u(client_data_json),
            "attestationObject": b64u(attestation_object),
        },
        "clientExtensionResults": {},
    }))
    .unwrap();
    theirs_core(v).register_credential(
        &reg,
        &theirs_reg_state(&v.reg_challenge),
        theirs_ca_list(v).as_ref(),
    )
}

fn theirs_authenticate(
    v: &W3cVector,
    cred: &Credential,
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
) -> Result<(), WebauthnError> {
    // The browser's JSON form (AuthenticationResponseJSON).
    let rsp: PublicKeyCredential = serde_json::from_value(json!({
        "id": b64u(&v.credential_id),
        "rawId": b64u(&v.credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64u(client_data_json),
            "authenticatorData": b64u(authenticator_data),
            "signature": b64u(signature),
            "userHandle": null,
        },
        "clientExtensionResults": {},
    }))
    .unwrap();
    theirs_core(v)
        .authenticate_credential(&rsp, &theirs_auth_state(&v.auth_challenge, cred))
        .map(|_| ())
}

fn ours_register(
    v: &W3cVector,
    client_data_json: &[u8],
    attestation_object: &[u8],
) -> Result<CredentialRecord, CeremonyError> {
    verify_registration_parts(
        &policy_for(v),
        &v.reg_challenge,
        client_data_json,
        attestation_object,
        Some(&v.credential_id),
        vec![],
    )
    .map(|r| r.credential)
}

fn ours_authenticate(
    v: &W3cVector,
    record: &CredentialRecord,
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
) -> Result<(), CeremonyError> {
    verify_assertion_parts(
        &policy_for(v),
        &v.auth_challenge,
        record,
        client_data_json,
        authenticator_data,
        signature,
    )
    .map(|_| ())
}

fn show_ours<T>(r: &Result<T, CeremonyError>) -> String {
    match r {
        Ok(_) => "accept".into(),
        Err(e) => format!("reject: {e}"),
    }
}

fn show_theirs<T>(r: &Result<T, WebauthnError>) -> String {
    match r {
        Ok(_) => "accept".into(),
        Err(e) => format!("reject: {e:?}"),
    }
}

fn theirs_error_is(r: &Result<(), WebauthnError>, name: &str) -> bool {
    matches!(r, Err(e) if format!("{e:?}") == name)
}

fn ours_step_is(r: &Result<(), CeremonyError>, step: Step) -> bool {
    matches!(r, Err(e) if e.step == step)
}

// =============================================================================================
// Mutations and their location.
// =============================================================================================

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random single-bit flips per ceremony and vector (`DIFF_FLIPS` overrides, for deeper runs).
const FLIPS_PER_CEREMONY: usize = 100;
/// Fixed seed: the run, and so the counts in the README, are reproducible (`DIFF_SEED`
/// overrides).
const SEED: u64 = 0x6374_6170_6b69_7401;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The input a mutant changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    /// Registration clientDataJSON.
    RegClientData,
    /// Anywhere in the attestation object.
    AttObj,
    /// Inside the authData byte string of the attestation object.
    AttObjAuthData,
    /// Inside the unsigned envelope of an x5c certificate (exhaustive, not random).
    X5cEnvelope,
    /// Authentication clientDataJSON.
    AuthClientData,
    /// Authentication authenticatorData.
    AuthData,
    /// Assertion signature.
    Signature,
    /// The stored credential record (both sides changed alike).
    Record,
}

impl Field {
    fn ceremony(self) -> Ceremony {
        match self {
            Field::RegClientData | Field::AttObj | Field::AttObjAuthData | Field::X5cEnvelope => {
                Ceremony::Registration
            }
            _ => Ceremony::Authentication,
        }
    }
}

/// A change to one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    Flip {
        offset: usize,
        bit: u8,
    },
    Truncate,
    Append,
    /// Stored signature counter 1, above the assertion's 0.
    RecordCounterAhead,
    /// Backup eligibility in the record flipped.
    RecordBackupEligibleFlipped,
    /// The record saw user verification.
    RecordUvInitialized,
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Flip { offset, bit } => write!(f, "flip byte {offset} bit {bit}"),
            other => write!(f, "{other:?}"),
        }
    }
}

fn apply(bytes: &[u8], m: Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match m {
        Mutation::Flip { offset, bit } => out[offset] ^= 1 << bit,
        Mutation::Truncate => {
            out.pop();
        }
        Mutation::Append => out.push(0),
        _ => unreachable!("not a byte mutation"),
    }
    out
}

/// Where things are in a vector's registration inputs.
struct Layout {
    /// authData inside the attestation object.
    auth_data: Range<usize>,
    /// The credentialId inside the attestation object.
    credential_id: Range<usize>,
    /// Headers of the top-level keys and of the fmt value (all text strings).
    text_headers: Vec<usize>,
    /// Header of the attStmt value.
    att_stmt_value: usize,
    /// The value of attStmt.alg (a one-byte CBOR negative integer), if there is one.
    stmt_alg_value: Option<usize>,
    /// The fmt value.
    fmt: String,
    /// Unsigned envelopes of the x5c certificates.
    x5c_envelopes: Vec<Range<usize>>,
    /// C.origin's value (between the quotes) in the registration clientDataJSON.
    reg_origin: Range<usize>,
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{} not found", hex::encode(needle)))
}

/// A DER header at `i`: (header length, content length).
fn der_header(b: &[u8], i: usize) -> (usize, usize) {
    let l = b[i + 1] as usize;
    if l & 0x80 == 0 {
        return (2, l);
    }
    let n = l & 0x7f;
    let len = b[i + 2..i + 2 + n]
        .iter()
        .fold(0usize, |acc, x| acc << 8 | *x as usize);
    (2 + n, len)
}

impl Layout {
    fn of(v: &W3cVector) -> Layout {
        let att = &v.attestation_object;
        let Value::Map(top) = cbor::decode(att, DecodeOptions::STRUCTURAL).unwrap() else {
            unreachable!()
        };
        let member = |name: &str| {
            top.iter()
                .find(|(k, _)| *k == Value::Text(name.into()))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let Value::Bytes(ad) = member("authData") else {
            unreachable!()
        };
        let Value::Text(fmt) = member("fmt") else {
            unreachable!()
        };
        let start = find(att, &ad);
        let auth_data = start..start + ad.len();
        let id_len = u16::from_be_bytes([ad[53], ad[54]]) as usize;
        let credential_id = start + 55..start + 55 + id_len;
        let fmt_key = find(att, b"\x63fmt");
        let att_stmt_key = find(att, b"\x67attStmt");
        let text_headers = vec![
            fmt_key,
            fmt_key + 4,
            att_stmt_key,
            find(att, b"\x68authData"),
        ];
        let mut x5c_envelopes = Vec::new();
        if let Value::Map(stmt) = member("attStmt") {
            for (k, val) in stmt {
                if let (Value::Text(k), Value::Array(certs)) = (k, val) {
                    if k != "x5c" {
                        continue;
                    }
                    for cert in certs {
                        let Value::Bytes(der) = cert else { continue };
                        let c = find(att, &der);
                        let (h, _) = der_header(att, c);
                        let tbs = c + h;
                        let (th, tl) = der_header(att, tbs);
                        let alg = tbs + th + tl;
                        let (ah, al) = der_header(att, alg);
                        let sig = alg + ah + al;
                        let (sh, _) = der_header(att, sig);
                        x5c_envelopes.push(c..tbs);
                        // signatureAlgorithm, the BIT STRING header and its unused-bits byte.
                        x5c_envelopes.push(alg..sig + sh + 1);
                    }
                }
            }
        }
        let stmt_alg_value = att
            .windows(4)
            .position(|w| w == b"\x63alg")
            .map(|p| p + 4)
            .filter(|p| att[*p] >> 5 == 1 && att[*p] & 0x1f < 24);
        let cdj = &v.reg_client_data_json;
        let o = find(cdj, b"\"origin\":\"") + 10;
        let o_end = o + cdj[o..].iter().position(|b| *b == b'"').unwrap();
        Layout {
            auth_data,
            credential_id,
            text_headers,
            att_stmt_value: att_stmt_key + 8,
            stmt_alg_value,
            fmt,
            x5c_envelopes,
            reg_origin: o..o_end,
        }
    }
}

/// One input run through both verifiers.
struct Run {
    vector: String,
    field: Field,
    mutation: Mutation,
    ours: Result<(), CeremonyError>,
    theirs: Result<(), WebauthnError>,
}

/// A disagreeing run with what the predicates need.
struct Case<'a> {
    v: &'a W3cVector,
    layout: &'a Layout,
    run: &'a Run,
}

impl Case<'_> {
    fn flip(&self) -> Option<(usize, u8)> {
        match self.run.mutation {
            Mutation::Flip { offset, bit } => Some((offset, bit)),
            _ => None,
        }
    }

    fn ours_only_rejects_at(&self, step: Step) -> bool {
        ours_step_is(&self.run.ours, step) && self.run.theirs.is_ok()
    }

    fn theirs_only_rejects_with(&self, error: &str) -> bool {
        self.run.ours.is_ok() && theirs_error_is(&self.run.theirs, error)
    }
}

fn rawid_mismatch(c: &Case<'_>) -> bool {
    matches!(c.run.field, Field::AttObj | Field::AttObjAuthData)
        && c.layout.fmt == "none"
        && c.flip()
            .is_some_and(|(o, _)| c.layout.credential_id.contains(&o))
        && c.ours_only_rejects_at(Step::REG_RESPONSE)
}

fn origin_case(c: &Case<'_>) -> bool {
    let (Field::RegClientData, Some((o, bit))) = (c.run.field, c.flip()) else {
        return false;
    };
    let original = c.v.reg_client_data_json[o];
    let mutated = original ^ (1 << bit);
    c.layout.reg_origin.contains(&o)
        && original.is_ascii_lowercase()
        && mutated == original.to_ascii_uppercase()
        && c.ours_only_rejects_at(Step::REG_ORIGIN)
}

fn text_as_bytes(c: &Case<'_>) -> bool {
    let (Field::AttObj, Some((o, bit))) = (c.run.field, c.flip()) else {
        return false;
    };
    bit == 5
        && c.layout.text_headers.contains(&o)
        && c.v.attestation_object[o] >> 5 == 3
        && c.ours_only_rejects_at(Step::REG_ATTESTATION_OBJECT)
}

fn none_attstmt_not_map(c: &Case<'_>) -> bool {
    c.run.field == Field::AttObj
        && c.layout.fmt == "none"
        && c.flip().is_some_and(|(o, _)| o == c.layout.att_stmt_value)
        && c.v.attestation_object[c.layout.att_stmt_value] == 0xa0
        && c.ours_only_rejects_at(Step::REG_ATTESTATION_OBJECT)
}

fn packed_alg_mismatch(c: &Case<'_>) -> bool {
    c.run.field == Field::AttObj
        && c.layout.fmt == "packed"
        && !c.layout.x5c_envelopes.is_empty()
        && c.layout.stmt_alg_value.is_some()
        && c.flip().map(|(o, _)| o) == c.layout.stmt_alg_value
        && c.ours_only_rejects_at(Step::REG_ATTESTATION_STATEMENT)
}

fn sticky_uv(c: &Case<'_>) -> bool {
    c.run.mutation == Mutation::RecordUvInitialized
        && c.v.authenticator_data[32] & 0x04 == 0
        && c.theirs_only_rejects_with("UserNotVerified")
}

// =============================================================================================
// The test.
// =============================================================================================

/// The vector's webauthn-rs credential for authentication: registered as is, or, where the
/// registration disagreement is only webauthn-rs's missing cross-origin setting, registered from
/// the same attestation object with `"crossOrigin":false` (none attestation signs no
/// clientDataJSON, so that is the same credential).
fn theirs_credential(v: &W3cVector, reg: &Result<Credential, WebauthnError>) -> Option<Credential> {
    match reg {
        Ok(c) => Some(c.clone()),
        Err(WebauthnError::CredentialCrossOrigin) => {
            let cdj = String::from_utf8(v.reg_client_data_json.clone())
                .unwrap()
                .replace("\"crossOrigin\":true", "\"crossOrigin\":false");
            Some(theirs_register(v, cdj.as_bytes(), &v.attestation_object).unwrap())
        }
        Err(_) => None,
    }
}

/// A credential on which webauthn-rs's sticky-UV rule does not fire.
fn without_sticky_uv(cred: &Credential) -> Credential {
    let mut c = cred.clone();
    c.registration_policy = UserVerificationPolicy::Discouraged_DO_NOT_USE;
    c
}

fn registration_mutants(v: &W3cVector, layout: &Layout, rng: &mut Rng) -> Vec<(Field, Mutation)> {
    let mut out = Vec::new();
    for _ in 0..env_or("DIFF_FLIPS", FLIPS_PER_CEREMONY) {
        let field = match rng.below(3) {
            0 => Field::RegClientData,
            1 => Field::AttObj,
            _ => Field::AttObjAuthData,
        };
        let range = match field {
            Field::RegClientData => 0..v.reg_client_data_json.len(),
            Field::AttObj => 0..v.attestation_object.len(),
            _ => layout.auth_data.clone(),
        };
        let offset = range.start + rng.below(range.len());
        let bit = rng.below(8) as u8;
        out.push((field, Mutation::Flip { offset, bit }));
    }
    for field in [Field::RegClientData, Field::AttObj] {
        out.push((field, Mutation::Truncate));
        out.push((field, Mutation::Append));
    }
    // Structured flips, so that every category is exercised on every run: each lower-case
    // letter of C.origin upper-cased, each top-level text header turned into a byte-string
    // header, the attStmt header turned into an array or integer header, attStmt.alg -7 into
    // -8.
    for offset in layout.reg_origin.clone() {
        if v.reg_client_data_json[offset].is_ascii_lowercase() {
            out.push((Field::RegClientData, Mutation::Flip { offset, bit: 5 }));
        }
    }
    for offset in layout.text_headers.iter().copied() {
        out.push((Field::AttObj, Mutation::Flip { offset, bit: 5 }));
    }
    for bit in [5, 7] {
        out.push((
            Field::AttObj,
            Mutation::Flip {
                offset: layout.att_stmt_value,
                bit,
            },
        ));
    }
    if let Some(offset) = layout.stmt_alg_value {
        out.push((Field::AttObj, Mutation::Flip { offset, bit: 0 }));
    }
    for range in &layout.x5c_envelopes {
        for offset in range.clone() {
            for bit in 0..8 {
                out.push((Field::X5cEnvelope, Mutation::Flip { offset, bit }));
            }
        }
    }
    out
}

fn authentication_mutants(v: &W3cVector, rng: &mut Rng) -> Vec<(Field, Mutation)> {
    let mut out = Vec::new();
    for _ in 0..env_or("DIFF_FLIPS", FLIPS_PER_CEREMONY) {
        let field = match rng.below(3) {
            0 => Field::AuthClientData,
            1 => Field::AuthData,
            _ => Field::Signature,
        };
        let len = match field {
            Field::AuthClientData => v.auth_client_data_json.len(),
            Field::AuthData => v.authenticator_data.len(),
            _ => v.signature.len(),
        };
        let offset = rng.below(len);
        let bit = rng.below(8) as u8;
        out.push((field, Mutation::Flip { offset, bit }));
    }
    for field in [Field::AuthClientData, Field::AuthData, Field::Signature] {
        out.push((field, Mutation::Truncate));
        out.push((field, Mutation::Append));
    }
    for m in [
        Mutation::RecordCounterAhead,
        Mutation::RecordBackupEligibleFlipped,
        Mutation::RecordUvInitialized,
    ] {
        out.push((Field::Record, m));
    }
    out
}

#[test]
fn verdicts_agree_with_webauthn_rs() {
    let vectors = w3c_vectors();
    let names: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    let mut rng = Rng(env_or("DIFF_SEED", SEED));
    let mut runs: Vec<(usize, Run)> = Vec::new();
    let mut vector_inputs = 0;
    let mut vector_agreements = 0;
    let mut seen_vector_disagreements = Vec::new();
    let mut problems: Vec<String> = Vec::new();

    for (vi, v) in vectors.iter().enumerate() {
        // 1. The vector as published.
        let ours_reg = ours_register(v, &v.reg_client_data_json, &v.attestation_object);
        let theirs_reg = theirs_register(v, &v.reg_client_data_json, &v.attestation_object);
        println!(
            "{:34} registration:   ctapkit {} | webauthn-rs {}",
            v.name,
            show_ours(&ours_reg),
            show_theirs(&theirs_reg)
        );
        let mut verdicts = vec![(
            Ceremony::Registration,
            ours_reg.is_ok(),
            theirs_reg.as_ref().err().map(|e| format!("{e:?}")),
            ours_reg.as_ref().err().map(|e| e.step),
        )];
        let theirs_cred = theirs_credential(v, &theirs_reg);
        let mut auth_base = None;
        if let (Ok(record), Some(cred)) = (&ours_reg, &theirs_cred) {
            let ours_auth = ours_authenticate(
                v,
                record,
                &v.auth_client_data_json,
                &v.authenticator_data,
                &v.signature,
            );
            let theirs_auth = theirs_authenticate(
                v,
                cred,
                &v.auth_client_data_json,
                &v.authenticator_data,
                &v.signature,
            );
            println!(
                "{:34} authentication: ctapkit {} | webauthn-rs {}",
                v.name,
                show_ours(&ours_auth),
                show_theirs(&theirs_auth)
            );
            verdicts.push((
                Ceremony::Authentication,
                ours_auth.is_ok(),
                theirs_auth.as_ref().err().map(|e| format!("{e:?}")),
                ours_auth.as_ref().err().map(|e| e.step),
            ));
            let mut cred = cred.clone();
            if theirs_error_is(&theirs_auth, "UserNotVerified") {
                cred = without_sticky_uv(&cred);
                let again = theirs_authenticate(
                    v,
                    &cred,
                    &v.auth_client_data_json,
                    &v.authenticator_data,
                    &v.signature,
                );
                println!(
                    "{:34} authentication without sticky UV: webauthn-rs {}",
                    v.name,
                    show_theirs(&again)
                );
                let expected = DOCUMENTED_DISAGREEMENTS
                    .iter()
                    .find(|d| d.vector == v.name && d.ceremony == Ceremony::Authentication)
                    .and_then(|d| d.error_without_sticky_uv);
                let got = again.as_ref().err().map(|e| format!("{e:?}"));
                if got.as_deref() != expected {
                    problems.push(format!(
                        "{}: without sticky UV webauthn-rs gives {got:?}, table says {expected:?}",
                        v.name
                    ));
                }
                if again.is_ok() {
                    auth_base = Some((record.clone(), cred));
                }
            } else if ours_auth.is_ok() && theirs_auth.is_ok() {
                auth_base = Some((record.clone(), cred));
            }
        }
        for (ceremony, ours_ok, theirs_err, ours_step) in verdicts {
            vector_inputs += 1;
            let theirs_ok = theirs_err.is_none();
            let documented = DOCUMENTED_DISAGREEMENTS
                .iter()
                .find(|d| d.vector == v.name && d.ceremony == ceremony);
            if ours_ok == theirs_ok {
                vector_agreements += 1;
                if let Some(d) = documented {
                    problems.push(format!(
                        "{} {ceremony:?}: documented as a disagreement but both sides {}",
                        d.vector,
                        if ours_ok { "accept" } else { "reject" }
                    ));
                }
                if !ours_ok && !AGREED_REJECTIONS.iter().any(|(n, _, _)| *n == v.name) {
                    problems.push(format!("{}: both reject, not in AGREED_REJECTIONS", v.name));
                }
                continue;
            }
            let (rejects, error) = if ours_ok {
                (Rejects::Theirs, theirs_err.unwrap_or_default())
            } else {
                (
                    Rejects::Ours,
                    ours_step.map(|s| s.to_string()).unwrap_or_default(),
                )
            };
            match documented {
                Some(d) if d.rejects == rejects && d.error == error => {
                    seen_vector_disagreements.push((v.name.clone(), ceremony));
                }
                _ => problems.push(format!(
                    "{} {ceremony:?}: undocumented disagreement, {rejects:?} rejects ({error})",
                    v.name
                )),
            }
        }

        // 2. Mutants of what both accept.
        let layout = Layout::of(v);
        let reg_mutants = registration_mutants(v, &layout, &mut rng);
        if ours_reg.is_ok() && theirs_reg.is_ok() {
            for (field, m) in reg_mutants {
                let (cdj, att) = match field {
                    Field::RegClientData => (
                        apply(&v.reg_client_data_json, m),
                        v.attestation_object.clone(),
                    ),
                    _ => (
                        v.reg_client_data_json.clone(),
                        apply(&v.attestation_object, m),
                    ),
                };
                let run = Run {
                    vector: v.name.clone(),
                    field,
                    mutation: m,
                    ours: ours_register(v, &cdj, &att).map(|_| ()),
                    theirs: theirs_register(v, &cdj, &att).map(|_| ()),
                };
                runs.push((vi, run));
            }
        }
        let auth_mutants = authentication_mutants(v, &mut rng);
        if let Some((record, cred)) = auth_base {
            for (field, m) in auth_mutants {
                let mut cdj = v.auth_client_data_json.clone();
                let mut ad = v.authenticator_data.clone();
                let mut sig = v.signature.clone();
                let mut record = record.clone();
                let mut cred = cred.clone();
                match (field, m) {
                    (Field::AuthClientData, _) => cdj = apply(&cdj, m),
                    (Field::AuthData, _) => ad = apply(&ad, m),
                    (Field::Signature, _) => sig = apply(&sig, m),
                    (_, Mutation::RecordCounterAhead) => {
                        record.sign_count = 1;
                        cred.counter = 1;
                    }
                    (_, Mutation::RecordBackupEligibleFlipped) => {
                        record.backup_eligible = !record.backup_eligible;
                        cred.backup_eligible = !cred.backup_eligible;
                    }
                    (_, Mutation::RecordUvInitialized) => {
                        record.uv_initialized = true;
                        cred.user_verified = true;
                        cred.registration_policy = UserVerificationPolicy::Preferred;
                    }
                    _ => unreachable!(),
                }
                let run = Run {
                    vector: v.name.clone(),
                    field,
                    mutation: m,
                    ours: ours_authenticate(v, &record, &cdj, &ad, &sig),
                    theirs: theirs_authenticate(v, &cred, &cdj, &ad, &sig),
                };
                // The record changes that both must reject, each at its own step.
                let expected = match m {
                    Mutation::RecordCounterAhead => {
                        Some((Step::AUTH_SIGN_COUNT, "CredentialPossibleCompromise"))
                    }
                    Mutation::RecordBackupEligibleFlipped => Some((
                        Step::AUTH_BACKUP_ELIGIBILITY,
                        "CredentialBackupEligibilityInconsistent",
                    )),
                    _ => None,
                };
                if let Some((step, error)) = expected {
                    if !ours_step_is(&run.ours, step) || !theirs_error_is(&run.theirs, error) {
                        problems.push(format!(
                            "{} {m:?}: ctapkit {} | webauthn-rs {}",
                            v.name,
                            show_ours(&run.ours),
                            show_theirs(&run.theirs)
                        ));
                    }
                }
                runs.push((vi, run));
            }
        }
    }

    // Every documented vector disagreement was seen (unless its vector was skipped).
    for d in DOCUMENTED_DISAGREEMENTS {
        if names.contains(&d.vector)
            && !seen_vector_disagreements
                .iter()
                .any(|(n, c)| n == d.vector && *c == d.ceremony)
        {
            problems.push(format!(
                "{} {:?}: documented disagreement not observed",
                d.vector, d.ceremony
            ));
        }
    }

    // Classify the mutant disagreements.
    let layouts: Vec<Layout> = vectors.iter().map(Layout::of).collect();
    let mut by_category: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_field: BTreeMap<(Ceremony, Field), (usize, usize)> = BTreeMap::new();
    let mut undocumented = Vec::new();
    for (vi, run) in &runs {
        let entry = by_field
            .entry((run.field.ceremony(), run.field))
            .or_default();
        entry.0 += 1;
        if run.ours.is_ok() == run.theirs.is_ok() {
            entry.1 += 1;
            continue;
        }
        let case = Case {
            v: &vectors[*vi],
            layout: &layouts[*vi],
            run,
        };
        match MUTANT_CATEGORIES.iter().find(|c| (c.matches)(&case)) {
            Some(c) => *by_category.entry(c.id).or_default() += 1,
            None => undocumented.push(run),
        }
    }

    let mutant_agreements: usize = by_field.values().map(|(_, a)| a).sum();
    println!();
    println!("== differential check against webauthn-rs-core 0.6.2 ==");
    println!(
        "vector ceremonies: {vector_inputs} run, {vector_agreements} agree, {} documented \
         disagreements",
        seen_vector_disagreements.len()
    );
    println!(
        "mutants and record changes: {} run, {mutant_agreements} agree, {} disagree",
        runs.len(),
        runs.len() - mutant_agreements
    );
    for ((ceremony, field), (n, agree)) in &by_field {
        println!("  {ceremony:?} / {field:?}: {n} run, {agree} agree");
    }
    for c in MUTANT_CATEGORIES {
        println!(
            "  disagreement {:20} ({:?} rejects): {}",
            c.id,
            c.rejects,
            by_category.get(c.id).copied().unwrap_or(0)
        );
    }
    println!("  undocumented disagreements: {}", undocumented.len());
    println!();
    println!("documented vector disagreements:");
    for d in DOCUMENTED_DISAGREEMENTS {
        println!(
            "  {} {:?}: {:?} rejects ({}{}) at {}\n    {}",
            d.vector,
            d.ceremony,
            d.rejects,
            d.error,
            d.error_without_sticky_uv
                .map(|e| format!(", then {e} without sticky UV"))
                .unwrap_or_default(),
            d.step,
            d.why
        );
    }
    println!("agreed rejections:");
    for (name, ours, theirs) in AGREED_REJECTIONS {
        println!("  {name}: ctapkit {ours}; webauthn-rs {theirs}");
    }
    println!("mutant disagreement categories:");
    for c in MUTANT_CATEGORIES {
        println!(
            "  {} ({:?} rejects) at {}: {}\n    {}",
            c.id, c.rejects, c.step, c.what, c.verdict
        );
    }
    for run in &undocumented {
        println!(
            "UNDOCUMENTED {} {:?} {}: ctapkit {} | webauthn-rs {}",
            run.vector,
            run.field,
            run.mutation,
            show_ours(&run.ours),
            show_theirs(&run.theirs)
        );
    }
    for run in runs.iter().map(|(_, r)| r).filter(|r| {
        r.ours.is_ok() != r.theirs.is_ok() && std::env::var_os("DIFF_VERBOSE").is_some()
    }) {
        println!(
            "  {} {:?} {}: ctapkit {} | webauthn-rs {}",
            run.vector,
            run.field,
            run.mutation,
            show_ours(&run.ours),
            show_theirs(&run.theirs)
        );
    }
    for p in &problems {
        println!("PROBLEM {p}");
    }
    assert!(
        problems.is_empty(),
        "{} problems, see above",
        problems.len()
    );
    assert_eq!(
        undocumented.len(),
        0,
        "undocumented disagreements, see above"
    );
    assert!(
        runs.len() >= 1500,
        "only {} mutants ran: too few vectors accepted by both",
        runs.len()
    );
}
