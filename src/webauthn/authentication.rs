//! The authentication ceremony ([WebAuthn L3 §7.2](https://www.w3.org/TR/webauthn-3/#sctn-verifying-assertion)),
//! step by step, and the credential record it checks against (§4 "credential record").

use serde::{Deserialize, Serialize};

use super::auth_data::{Aaguid, AuthenticatorData, Flags};
use super::error::{CeremonyError, Failure, Step};
use super::json::{AuthenticationResponseJson, Base64Url};
use super::policy::{Policy, SignCountPolicy, UserVerification};
use super::registration::{check_client_data, ClientDataSteps};
use super::sha256;
use crate::cose::PublicKey;

/// What the RP stores for a registered credential (§4, "credential record").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRecord {
    /// The credential ID.
    pub id: Base64Url,
    /// The credential public key (COSE, base64url in JSON).
    #[serde(with = "cose_b64")]
    pub public_key: PublicKey,
    /// The last signature counter seen.
    pub sign_count: u32,
    /// Transports reported at registration.
    #[serde(default)]
    pub transports: Vec<String>,
    /// Whether any ceremony verified the user.
    pub uv_initialized: bool,
    /// BE at registration (never changes).
    pub backup_eligible: bool,
    /// BS as last seen.
    pub backup_state: bool,
    /// The authenticator model.
    pub aaguid: Aaguid,
    /// The attestation format at registration.
    pub attestation_format: String,
}

mod cose_b64 {
    use super::*;

    pub fn serialize<S: serde::Serializer>(key: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
        Base64Url(key.to_cose_bytes()).serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        let bytes = Base64Url::deserialize(d)?;
        PublicKey::from_cose_bytes(&bytes.0).map_err(serde::de::Error::custom)
    }
}

impl CredentialRecord {
    /// Applies a successful assertion (§7.2 step 26): counter, backup state, UV seen.
    pub fn update(&mut self, result: &AuthenticationResult) {
        self.sign_count = result.sign_count;
        self.backup_state = result.flags.bs();
        self.uv_initialized |= result.flags.uv();
    }
}

/// What the RP expects of one assertion.
#[derive(Debug, Clone, Copy)]
pub struct AssertionExpectations<'a> {
    /// The challenge issued for this ceremony.
    pub challenge: &'a [u8],
    /// `allowCredentials` IDs; empty when the user was not identified first.
    pub allow_credentials: &'a [Vec<u8>],
    /// The user handle of the credential's owner, when the RP knows it.
    pub user_handle: Option<&'a [u8]>,
}

/// An assertion that passed every step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationResult {
    /// The authenticator data flags.
    pub flags: Flags,
    /// The counter the authenticator reported.
    pub sign_count: u32,
    /// Non-fatal observations (e.g. a counter that did not increase under a warn policy).
    pub warnings: Vec<String>,
}

const AUTHENTICATION_CLIENT_DATA: ClientDataSteps = ClientDataSteps {
    utf8: Step::AUTH_CLIENT_DATA_UTF8,
    parse: Step::AUTH_CLIENT_DATA_PARSE,
    type_: Step::AUTH_TYPE,
    challenge: Step::AUTH_CHALLENGE,
    origin: Step::AUTH_ORIGIN,
    top_origin: Step::AUTH_TOP_ORIGIN,
    expected_type: "webauthn.get",
};

/// Verifies an authentication response for `record` (§7.2 steps 5–24).
pub fn verify_authentication(
    policy: &Policy,
    expected: &AssertionExpectations<'_>,
    record: &CredentialRecord,
    response: &AuthenticationResponseJson,
) -> Result<AuthenticationResult, CeremonyError> {
    if response.type_ != "public-key" {
        return Err(CeremonyError::new(
            Step::AUTH_RESPONSE,
            Failure::MalformedCredential(format!(
                "type is {:?}, not \"public-key\"",
                response.type_
            )),
        ));
    }
    // Step 5: the credential is one of allowCredentials.
    if !expected.allow_credentials.is_empty()
        && !expected.allow_credentials.contains(&response.raw_id.0)
    {
        return Err(CeremonyError::new(
            Step::AUTH_ALLOWED_CREDENTIAL,
            Failure::CredentialNotAllowed,
        ));
    }
    // Step 6: a user not identified beforehand (no allowCredentials) is identified by
    // response.userHandle, which must then be present.
    if expected.allow_credentials.is_empty() && response.response.user_handle.is_none() {
        return Err(CeremonyError::new(
            Step::AUTH_USER_HANDLE,
            Failure::UserHandleMissing,
        ));
    }
    // Step 6: the user handle, when present, is the credential owner's.
    if let (Some(expected_handle), Some(handle)) =
        (expected.user_handle, &response.response.user_handle)
    {
        if expected_handle != handle.0.as_slice() {
            return Err(CeremonyError::new(
                Step::AUTH_USER_HANDLE,
                Failure::UserHandleMismatch,
            ));
        }
    }
    // Step 7: the record is the one for this credential ID.
    if record.id.0 != response.raw_id.0 {
        return Err(CeremonyError::new(
            Step::AUTH_CREDENTIAL_RECORD,
            Failure::CredentialIdMismatch,
        ));
    }
    let r = &response.response;
    verify_assertion_parts(
        policy,
        expected.challenge,
        record,
        &r.client_data_json.0,
        &r.authenticator_data.0,
        &r.signature.0,
    )
}

/// Steps 8–24 of §7.2 on the raw parts of an assertion.
pub fn verify_assertion_parts(
    policy: &Policy,
    expected_challenge: &[u8],
    record: &CredentialRecord,
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
) -> Result<AuthenticationResult, CeremonyError> {
    // Steps 9–14: clientDataJSON.
    check_client_data(
        &AUTHENTICATION_CLIENT_DATA,
        policy,
        expected_challenge,
        client_data_json,
    )?;
    // Step 8: authenticator data.
    let auth_data = AuthenticatorData::from_bytes(authenticator_data)
        .map_err(|e| CeremonyError::new(Step::AUTH_RESPONSE, e))?;
    // Step 15: rpIdHash.
    if auth_data.rp_id_hash != policy.rp_id_hash() {
        return Err(CeremonyError::new(
            Step::AUTH_RP_ID_HASH,
            Failure::RpIdHashMismatch {
                rp_id: policy.rp_id.clone(),
            },
        ));
    }
    let flags = auth_data.flags;
    // Step 16: UP.
    if !flags.up() {
        return Err(CeremonyError::new(
            Step::AUTH_USER_PRESENT,
            Failure::UserNotPresent,
        ));
    }
    // Step 17: UV when required.
    if policy.user_verification == UserVerification::Required && !flags.uv() {
        return Err(CeremonyError::new(
            Step::AUTH_USER_VERIFIED,
            Failure::UserNotVerified,
        ));
    }
    // Step 18: BS only with BE.
    if flags.bs() && !flags.be() {
        return Err(CeremonyError::new(
            Step::AUTH_BACKUP_FLAGS,
            Failure::BackupStateWithoutEligibility,
        ));
    }
    // Step 19: BE never changes for a credential.
    if flags.be() != record.backup_eligible {
        return Err(CeremonyError::new(
            Step::AUTH_BACKUP_ELIGIBILITY,
            Failure::BackupEligibilityChanged {
                registered: record.backup_eligible,
                now: flags.be(),
            },
        ));
    }
    // Steps 22–23: the signature over authenticatorData || SHA-256(clientDataJSON).
    let hash = sha256(client_data_json);
    let mut signed = Vec::with_capacity(authenticator_data.len() + 32);
    signed.extend_from_slice(authenticator_data);
    signed.extend_from_slice(&hash);
    record
        .public_key
        .verify(&signed, signature)
        .map_err(|_| CeremonyError::new(Step::AUTH_SIGNATURE, Failure::InvalidSignature))?;
    // Step 24: signature counter. Zero on both sides is normal (e.g. synced passkeys).
    let mut warnings = Vec::new();
    let received = auth_data.sign_count;
    let stored = record.sign_count;
    if (received != 0 || stored != 0) && received <= stored {
        let failure = Failure::SignCountRegression { stored, received };
        match policy.sign_count {
            SignCountPolicy::Reject => {
                return Err(CeremonyError::new(Step::AUTH_SIGN_COUNT, failure))
            }
            SignCountPolicy::Warn => warnings.push(failure.to_string()),
        }
    }
    Ok(AuthenticationResult {
        flags,
        sign_count: received.max(stored),
        warnings,
    })
}
