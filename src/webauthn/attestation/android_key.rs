//! `android-key` attestation (§8.4): the credential key's own certificate, whose Android key
//! attestation extension (§8.4.1, OID 1.3.6.1.4.1.11129.2.1.17) binds it to clientDataHash.
//!
//! The `origin` and `purpose` checks read only `teeEnforced`: §8.4 lets a Relying Party use
//! the union with `softwareEnforced` instead, but ctapkit accepts only keys a trusted
//! execution environment vouches for ([`ACCEPT_SOFTWARE_ENFORCED`]).

use x509_parser::asn1_rs::{Any, Class, FromDer as _, Tag};

use super::{
    cert, stmt_alg, stmt_bytes, stmt_x5c, AttestationError, AttestationFormat, AttestationType,
    StatementInput, VerifiedStatement,
};

#[cfg(test)]
mod tests;

/// The Android key attestation certificate extension (§8.4.1).
const OID_ANDROID_KEY_DESCRIPTION: &str = "1.3.6.1.4.1.11129.2.1.17";
/// `KM_ORIGIN_GENERATED`: the key was generated inside Keymaster.
const KM_ORIGIN_GENERATED: u64 = 0;
/// `KM_PURPOSE_SIGN`.
const KM_PURPOSE_SIGN: u64 = 2;
/// AuthorizationList tags ([1] purpose, [600] allApplications, [702] origin).
const TAG_PURPOSE: u32 = 1;
const TAG_ALL_APPLICATIONS: u32 = 600;
const TAG_ORIGIN: u32 = 702;
/// §8.4: "use only the teeEnforced authorization list if the RP wants to accept only keys
/// from a trusted execution environment, otherwise use the union". ctapkit's choice: TEE only.
const ACCEPT_SOFTWARE_ENFORCED: bool = false;

fn android_err(reason: impl Into<String>) -> AttestationError {
    AttestationError::AndroidKey(reason.into())
}

/// Runs the `android-key` verification procedure (§8.4 "Verification procedure").
pub(super) fn verify(input: &StatementInput<'_>) -> Result<VerifiedStatement, AttestationError> {
    // attStmt is valid CBOR conforming to the syntax: alg, sig, x5c.
    let alg = stmt_alg(input.att_stmt)?;
    let signature = stmt_bytes(input.att_stmt, "sig")?;
    let x5c = stmt_x5c(input.att_stmt)?.ok_or(AttestationError::MissingField("x5c"))?;
    if !alg.is_supported() {
        return Err(AttestationError::UnsupportedAlgorithm(alg.to_i64()));
    }
    let leaf_der = x5c.first().ok_or(AttestationError::MissingField("x5c"))?;
    let leaf = cert::parse(leaf_der, 0)?;

    // sig is a valid signature over authenticatorData || clientDataHash by x5c[0]'s key.
    let key = cert::public_key(&leaf, alg, 0)?;
    key.verify(&input.signed_data(), signature)
        .map_err(|_| AttestationError::BadSignature)?;

    // x5c[0]'s public key matches the credential public key.
    let credential_key = &input.credential.public_key;
    let cert_key = cert::public_key(&leaf, credential_key.alg(), 0)?;
    if cert_key != *credential_key {
        return Err(AttestationError::PublicKeyMismatch);
    }

    // The key description extension: challenge, allApplications, origin, purpose.
    let ext = cert::extension_value(&leaf, OID_ANDROID_KEY_DESCRIPTION)?.ok_or_else(|| {
        AttestationError::CertificateRequirement {
            format: "android-key",
            reason: "credCert lacks the key description extension 1.3.6.1.4.1.11129.2.1.17".into(),
        }
    })?;
    let description = KeyDescription::parse(ext)?;
    check_key_description(
        &description,
        input.client_data_hash,
        ACCEPT_SOFTWARE_ENFORCED,
    )?;

    Ok(VerifiedStatement {
        format: AttestationFormat::AndroidKey,
        kind: AttestationType::Basic,
        trust_path: x5c,
    })
}

/// §8.4's checks on the key description: the challenge, then the authorization lists.
fn check_key_description(
    description: &KeyDescription<'_>,
    client_data_hash: &[u8; 32],
    accept_software_enforced: bool,
) -> Result<(), AttestationError> {
    // attestationChallenge is identical to clientDataHash.
    if description.attestation_challenge != client_data_hash.as_slice() {
        return Err(AttestationError::NonceMismatch);
    }
    // allApplications is present in neither list: the credential is scoped to the RP ID.
    if description.software_enforced.all_applications {
        return Err(android_err("softwareEnforced has allApplications"));
    }
    if description.tee_enforced.all_applications {
        return Err(android_err("teeEnforced has allApplications"));
    }
    // origin == KM_ORIGIN_GENERATED and purpose includes KM_PURPOSE_SIGN, in teeEnforced or,
    // if the RP accepts software-enforced keys, in the union of both lists.
    let lists: &[(&str, &AuthorizationList)] = if accept_software_enforced {
        &[
            ("teeEnforced", &description.tee_enforced),
            ("softwareEnforced", &description.software_enforced),
        ]
    } else {
        &[("teeEnforced", &description.tee_enforced)]
    };
    let where_ = if accept_software_enforced {
        "teeEnforced or softwareEnforced"
    } else {
        "teeEnforced"
    };
    let mut origin_seen = false;
    for (name, list) in lists {
        if let Some(origin) = list.origin {
            if origin != KM_ORIGIN_GENERATED {
                return Err(android_err(format!(
                    "{name}.origin is {origin}, not KM_ORIGIN_GENERATED"
                )));
            }
            origin_seen = true;
        }
    }
    if !origin_seen {
        return Err(android_err(format!(
            "{where_} has no origin (KM_ORIGIN_GENERATED required)"
        )));
    }
    let can_sign = lists
        .iter()
        .any(|(_, list)| list.purpose.contains(&KM_PURPOSE_SIGN));
    if !can_sign {
        return Err(android_err(format!(
            "{where_} purpose does not include KM_PURPOSE_SIGN"
        )));
    }
    Ok(())
}

/// The fields of the KeyDescription SEQUENCE (§8.4.1) that §8.4 reads.
#[derive(Debug)]
struct KeyDescription<'a> {
    /// `attestationChallenge` (OCTET STRING).
    attestation_challenge: &'a [u8],
    /// `softwareEnforced`.
    software_enforced: AuthorizationList,
    /// `teeEnforced` (a.k.a. hardwareEnforced).
    tee_enforced: AuthorizationList,
}

/// The AuthorizationList fields §8.4 reads.
#[derive(Debug, Default, PartialEq, Eq)]
struct AuthorizationList {
    /// `[1] purpose SET OF INTEGER` (empty when absent).
    purpose: Vec<u64>,
    /// `[600] allApplications NULL` is present.
    all_applications: bool,
    /// `[702] origin INTEGER`.
    origin: Option<u64>,
}

/// Reads the next element of a constructed value's contents.
fn next_item<'a>(rest: &mut &'a [u8], field: &str) -> Result<Any<'a>, AttestationError> {
    if rest.is_empty() {
        return Err(android_err(format!("key description lacks {field}")));
    }
    let (tail, any) =
        Any::from_der(rest).map_err(|e| android_err(format!("{field} is not DER: {e}")))?;
    *rest = tail;
    Ok(any)
}

fn expect_universal<'a>(
    any: Any<'a>,
    tags: &[Tag],
    field: &str,
) -> Result<&'a [u8], AttestationError> {
    let header = &any.header;
    if header.class() != Class::Universal || !tags.contains(&header.tag()) {
        return Err(android_err(format!(
            "{field} has the wrong ASN.1 type ({:?} {})",
            header.class(),
            header.tag()
        )));
    }
    Ok(any.data)
}

/// A non-negative INTEGER (or ENUMERATED) that fits in 64 bits.
fn small_uint(any: Any<'_>, tags: &[Tag], field: &str) -> Result<u64, AttestationError> {
    let data = expect_universal(any, tags, field)?;
    match data {
        [] => Err(android_err(format!("{field} is an empty INTEGER"))),
        [first, ..] if first & 0x80 != 0 => Err(android_err(format!("{field} is negative"))),
        _ => {
            let digits = match data {
                [0, rest @ ..] => rest,
                all => all,
            };
            if digits.len() > 8 {
                return Err(android_err(format!("{field} does not fit in 64 bits")));
            }
            Ok(digits
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }
    }
}

impl<'a> KeyDescription<'a> {
    /// Parses the extension value: `KeyDescription ::= SEQUENCE { attestationVersion,
    /// attestationSecurityLevel, keymasterVersion, keymasterSecurityLevel,
    /// attestationChallenge, uniqueId, softwareEnforced, teeEnforced }`.
    fn parse(ext: &'a [u8]) -> Result<Self, AttestationError> {
        let (trailing, seq) = Any::from_der(ext)
            .map_err(|e| android_err(format!("key description is not DER: {e}")))?;
        if !trailing.is_empty() {
            return Err(android_err("trailing bytes after the key description"));
        }
        let mut rest = expect_universal(seq, &[Tag::Sequence], "KeyDescription")?;
        // Security levels are ENUMERATED; INTEGER is tolerated (the W3C test vector uses it).
        let int_or_enum = [Tag::Integer, Tag::Enumerated];
        let items = &mut rest;
        small_uint(
            next_item(items, "attestationVersion")?,
            &[Tag::Integer],
            "attestationVersion",
        )?;
        small_uint(
            next_item(items, "attestationSecurityLevel")?,
            &int_or_enum,
            "attestationSecurityLevel",
        )?;
        small_uint(
            next_item(items, "keymasterVersion")?,
            &[Tag::Integer],
            "keymasterVersion",
        )?;
        small_uint(
            next_item(items, "keymasterSecurityLevel")?,
            &int_or_enum,
            "keymasterSecurityLevel",
        )?;
        let attestation_challenge = expect_universal(
            next_item(items, "attestationChallenge")?,
            &[Tag::OctetString],
            "attestationChallenge",
        )?;
        expect_universal(
            next_item(items, "uniqueId")?,
            &[Tag::OctetString],
            "uniqueId",
        )?;
        let software_enforced =
            AuthorizationList::parse(next_item(items, "softwareEnforced")?, "softwareEnforced")?;
        let tee_enforced =
            AuthorizationList::parse(next_item(items, "teeEnforced")?, "teeEnforced")?;
        // Later schema versions may append fields; they are not read.
        Ok(KeyDescription {
            attestation_challenge,
            software_enforced,
            tee_enforced,
        })
    }
}

impl AuthorizationList {
    /// Parses `AuthorizationList ::= SEQUENCE { [n] EXPLICIT ... OPTIONAL, ... }`, reading
    /// purpose, allApplications and origin and skipping the other tagged fields.
    fn parse(any: Any<'_>, list: &str) -> Result<Self, AttestationError> {
        let mut rest = expect_universal(any, &[Tag::Sequence], list)?;
        let mut out = AuthorizationList::default();
        let mut seen: Vec<u32> = Vec::new();
        while !rest.is_empty() {
            let item = next_item(&mut rest, list)?;
            let header = &item.header;
            if header.class() != Class::ContextSpecific || !header.is_constructed() {
                return Err(android_err(format!(
                    "{list} has an element that is not an EXPLICIT context-specific field"
                )));
            }
            let tag = header.tag().0;
            if seen.contains(&tag) {
                return Err(android_err(format!("{list} repeats field [{tag}]")));
            }
            seen.push(tag);
            let field = match tag {
                TAG_PURPOSE => "purpose",
                TAG_ALL_APPLICATIONS => "allApplications",
                TAG_ORIGIN => "origin",
                _ => continue,
            };
            let name = format!("{list}.{field}");
            let mut content = item.data;
            let inner = next_item(&mut content, &name)?;
            if !content.is_empty() {
                return Err(android_err(format!("{name} has trailing bytes")));
            }
            match tag {
                TAG_PURPOSE => {
                    let mut set = expect_universal(inner, &[Tag::Set], &name)?;
                    while !set.is_empty() {
                        let value = next_item(&mut set, &name)?;
                        out.purpose.push(small_uint(value, &[Tag::Integer], &name)?);
                    }
                }
                TAG_ALL_APPLICATIONS => {
                    expect_universal(inner, &[Tag::Null], &name)?;
                    out.all_applications = true;
                }
                _ => out.origin = Some(small_uint(inner, &[Tag::Integer], &name)?),
            }
        }
        Ok(out)
    }
}
