//! The registration ceremony ([WebAuthn L3 §7.1](https://www.w3.org/TR/webauthn-3/#sctn-registering-a-new-credential)),
//! step by step, under a [`Policy`].

use serde::Serialize;

use super::attestation::{
    self, AttestationFormat, AttestationObject, AttestationType, StatementInput,
};
use super::auth_data::{Aaguid, CredentialId, Flags};
use super::authentication::CredentialRecord;
use super::client_data::{ClientDataError, CollectedClientData};
use super::error::{CeremonyError, Failure, Step};
use super::json::{Base64Url, RegistrationResponseJson};
use super::policy::{Policy, UserVerification};
use super::sha256;

/// A registration that passed every step.
#[derive(Debug, Clone)]
pub struct RegistrationResult {
    /// The credential record to store (§7.1 step 29).
    pub credential: CredentialRecord,
    /// The attestation format.
    pub attestation_format: AttestationFormat,
    /// The attestation type the statement established.
    pub attestation_type: AttestationType,
    /// The attestation trust path (DER, leaf first).
    pub trust_path: Vec<Vec<u8>>,
    /// Whether the trust path chains to the policy's trust store (`None`: nothing to check).
    pub attestation_trusted: Option<bool>,
    /// Flags of the authenticator data.
    pub flags: Flags,
    /// Non-fatal observations (e.g. why attestation is not trusted).
    pub warnings: Vec<String>,
}

/// A summary that serialises for reports and the CLI.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationSummary {
    /// Attestation format.
    pub fmt: AttestationFormat,
    /// Attestation type.
    pub attestation_type: AttestationType,
    /// Whether the chain is trusted.
    pub attestation_trusted: Option<bool>,
    /// Credential algorithm name.
    pub algorithm: String,
    /// AAGUID.
    pub aaguid: Aaguid,
    /// Flags as names.
    pub flags: String,
    /// Signature counter.
    pub sign_count: u32,
    /// Warnings.
    pub warnings: Vec<String>,
}

impl RegistrationResult {
    /// The summary of this result.
    pub fn summary(&self) -> RegistrationSummary {
        RegistrationSummary {
            fmt: self.attestation_format,
            attestation_type: self.attestation_type,
            attestation_trusted: self.attestation_trusted,
            algorithm: self.credential.public_key.alg().name(),
            aaguid: self.credential.aaguid,
            flags: self.flags.to_string(),
            sign_count: self.credential.sign_count,
            warnings: self.warnings.clone(),
        }
    }
}

/// Checks C.type, C.challenge, C.origin and C.topOrigin, shared by both ceremonies.
pub(crate) struct ClientDataSteps {
    pub utf8: Step,
    pub parse: Step,
    pub type_: Step,
    pub challenge: Step,
    pub origin: Step,
    pub top_origin: Step,
    pub expected_type: &'static str,
}

pub(crate) fn check_client_data(
    steps: &ClientDataSteps,
    policy: &Policy,
    expected_challenge: &[u8],
    client_data_json: &[u8],
) -> Result<CollectedClientData, CeremonyError> {
    // Steps "JSONtext" and "C": decode UTF-8 and parse.
    let c = CollectedClientData::from_json_bytes(client_data_json).map_err(|e| match e {
        ClientDataError::NotUtf8(_) => CeremonyError::new(steps.utf8, e),
        _ => CeremonyError::new(steps.parse, e),
    })?;
    // C.type.
    if c.type_ != steps.expected_type {
        return Err(CeremonyError::new(
            steps.type_,
            Failure::WrongType {
                expected: steps.expected_type,
                found: c.type_.clone(),
            },
        ));
    }
    // C.challenge equals base64url(options.challenge).
    if c.challenge != Base64Url(expected_challenge.to_vec()).encode() {
        return Err(CeremonyError::new(
            steps.challenge,
            Failure::ChallengeMismatch {
                found: c.challenge.clone(),
            },
        ));
    }
    // C.origin is an origin the RP expects.
    if !policy.allowed_origins.contains(&c.origin) {
        return Err(CeremonyError::new(
            steps.origin,
            Failure::OriginNotAllowed {
                origin: c.origin.clone(),
                allowed: policy.allowed_origins.clone(),
            },
        ));
    }
    // C.topOrigin (and crossOrigin): only where the RP expects to be embedded.
    let cross = c.cross_origin == Some(true);
    if cross || c.top_origin.is_some() {
        let top_ok = match &c.top_origin {
            Some(top) => policy.allowed_top_origins.iter().any(|o| o == top),
            None => !policy.allowed_top_origins.is_empty(),
        };
        if !top_ok {
            return Err(CeremonyError::new(
                steps.top_origin,
                Failure::CrossOriginNotAllowed {
                    top_origin: c.top_origin.clone(),
                },
            ));
        }
    }
    Ok(c)
}

const REGISTRATION_CLIENT_DATA: ClientDataSteps = ClientDataSteps {
    utf8: Step::REG_CLIENT_DATA_UTF8,
    parse: Step::REG_CLIENT_DATA_PARSE,
    type_: Step::REG_TYPE,
    challenge: Step::REG_CHALLENGE,
    origin: Step::REG_ORIGIN,
    top_origin: Step::REG_TOP_ORIGIN,
    expected_type: "webauthn.create",
};

/// Verifies a registration response against the challenge issued for it (§7.1 steps 5–27).
///
/// Step 28 (the credential ID is not registered yet) needs the RP's store: check
/// `result.credential.id` there before saving.
pub fn verify_registration(
    policy: &Policy,
    expected_challenge: &[u8],
    response: &RegistrationResponseJson,
) -> Result<RegistrationResult, CeremonyError> {
    // Step 5: a public-key credential with an attestation response.
    if response.type_ != "public-key" {
        return Err(CeremonyError::new(
            Step::REG_RESPONSE,
            Failure::MalformedCredential(format!(
                "type is {:?}, not \"public-key\"",
                response.type_
            )),
        ));
    }
    verify_registration_parts(
        policy,
        expected_challenge,
        &response.response.client_data_json.0,
        &response.response.attestation_object.0,
        Some(&response.raw_id.0),
        response.response.transports.clone(),
    )
}

/// [`verify_registration`] on the raw parts: clientDataJSON, the attestation object, and
/// the credential's rawId when the client gave one.
pub fn verify_registration_parts(
    policy: &Policy,
    expected_challenge: &[u8],
    client_data_json: &[u8],
    attestation_object: &[u8],
    raw_id: Option<&[u8]>,
    transports: Vec<String>,
) -> Result<RegistrationResult, CeremonyError> {
    // Steps 7–12: clientDataJSON.
    check_client_data(
        &REGISTRATION_CLIENT_DATA,
        policy,
        expected_challenge,
        client_data_json,
    )?;
    // Step 13: hash = SHA-256(clientDataJSON).
    let client_data_hash = sha256(client_data_json);
    // Step 14: decode the attestation object.
    let att = AttestationObject::from_bytes(attestation_object).map_err(|e| match e {
        attestation::AttestationObjectError::AuthData(inner) => {
            let step = match inner {
                super::auth_data::AuthDataError::CredentialIdTooLong(_) => {
                    Step::REG_CREDENTIAL_ID_LENGTH
                }
                super::auth_data::AuthDataError::PublicKey(
                    crate::cose::CoseError::UnsupportedAlgorithm(_),
                ) => Step::REG_ALGORITHM,
                _ => Step::REG_ATTESTATION_OBJECT,
            };
            CeremonyError::new(step, Failure::AuthData(inner))
        }
        other => CeremonyError::new(
            Step::REG_ATTESTATION_OBJECT,
            Failure::AttestationObject(error_chain(&other)),
        ),
    })?;
    let auth_data = &att.auth_data;
    // Step 15: rpIdHash.
    if auth_data.rp_id_hash != policy.rp_id_hash() {
        return Err(CeremonyError::new(
            Step::REG_RP_ID_HASH,
            Failure::RpIdHashMismatch {
                rp_id: policy.rp_id.clone(),
            },
        ));
    }
    // Step 16: UP.
    if !auth_data.flags.up() {
        return Err(CeremonyError::new(
            Step::REG_USER_PRESENT,
            Failure::UserNotPresent,
        ));
    }
    // Step 17: UV when required.
    if policy.user_verification == UserVerification::Required && !auth_data.flags.uv() {
        return Err(CeremonyError::new(
            Step::REG_USER_VERIFIED,
            Failure::UserNotVerified,
        ));
    }
    // Step 18: BS only with BE.
    if auth_data.flags.bs() && !auth_data.flags.be() {
        return Err(CeremonyError::new(
            Step::REG_BACKUP_FLAGS,
            Failure::BackupStateWithoutEligibility,
        ));
    }
    let credential = auth_data.attested_credential_data.as_ref().ok_or_else(|| {
        CeremonyError::new(
            Step::REG_ATTESTATION_OBJECT,
            Failure::MissingAttestedCredentialData,
        )
    })?;
    if let Some(raw_id) = raw_id {
        if raw_id != credential.credential_id.as_bytes() {
            return Err(CeremonyError::new(
                Step::REG_RESPONSE,
                Failure::CredentialIdMismatch,
            ));
        }
    }
    // Step 21: the credential algorithm is one of pubKeyCredParams.
    let alg = credential.public_key.alg();
    if !policy.allowed_algorithms.contains(&alg) {
        return Err(CeremonyError::new(
            Step::REG_ALGORITHM,
            Failure::AlgorithmNotAllowed {
                alg,
                allowed: policy.allowed_algorithms.iter().map(|a| a.name()).collect(),
            },
        ));
    }
    // Step 23: the format is supported and accepted.
    let format = AttestationFormat::from_fmt(&att.fmt)
        .filter(|f| policy.accepted_formats.contains(f))
        .ok_or_else(|| {
            CeremonyError::new(
                Step::REG_FORMAT,
                Failure::FormatNotAccepted {
                    fmt: att.fmt.clone(),
                },
            )
        })?;
    // Step 24: the statement verifies.
    let input = StatementInput {
        att_stmt: &att.att_stmt,
        auth_data,
        auth_data_raw: &att.auth_data_raw,
        client_data_hash: &client_data_hash,
        credential,
    };
    let statement = attestation::verify_statement(format, &input)
        .map_err(|e| CeremonyError::new(Step::REG_ATTESTATION_STATEMENT, e))?;
    // Steps 25–26: trust anchors and trustworthiness.
    let mut warnings = Vec::new();
    let time = policy.attestation_time.unwrap_or_else(unix_now);
    let attestation_trusted = if statement.trust_path.is_empty() || policy.trust_store.is_empty() {
        None
    } else {
        match policy.trust_store.validate(&statement.trust_path, time) {
            Ok(()) => Some(true),
            Err(e) => {
                warnings.push(format!("attestation not trusted: {e}"));
                Some(false)
            }
        }
    };
    if policy.require_trusted_attestation && attestation_trusted != Some(true) {
        let reason = match (&statement.kind, attestation_trusted) {
            (AttestationType::None | AttestationType::SelfAttestation, _) => {
                format!(
                    "{:?} attestation carries no certificate chain",
                    statement.kind
                )
            }
            (_, None) => "no trust anchors are configured".to_string(),
            _ => warnings.last().cloned().unwrap_or_default(),
        };
        return Err(CeremonyError::new(
            Step::REG_TRUST,
            Failure::AttestationNotTrusted(reason),
        ));
    }
    if let Some(allowed) = &policy.allowed_aaguids {
        if !allowed.contains(&credential.aaguid) {
            return Err(CeremonyError::new(
                Step::REG_TRUST,
                Failure::AaguidNotAllowed {
                    aaguid: credential.aaguid,
                },
            ));
        }
    }
    // Step 27: credential ID length (also enforced while parsing).
    let id = CredentialId::new(credential.credential_id.as_bytes().to_vec()).ok_or_else(|| {
        CeremonyError::new(
            Step::REG_CREDENTIAL_ID_LENGTH,
            Failure::CredentialIdTooLong(credential.credential_id.as_bytes().len()),
        )
    })?;
    // Step 29: the credential record.
    let record = CredentialRecord {
        id: Base64Url(id.as_bytes().to_vec()),
        public_key: credential.public_key.clone(),
        sign_count: auth_data.sign_count,
        transports,
        uv_initialized: auth_data.flags.uv(),
        backup_eligible: auth_data.flags.be(),
        backup_state: auth_data.flags.bs(),
        aaguid: credential.aaguid,
        attestation_format: format.as_str().to_string(),
    };
    Ok(RegistrationResult {
        credential: record,
        attestation_format: format,
        attestation_type: statement.kind,
        trust_path: statement.trust_path,
        attestation_trusted,
        flags: auth_data.flags,
        warnings,
    })
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An error and its sources, joined with ": ".
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
