//! Ceremony failures: which step of §7.1 / §7.2 failed, what was wrong, and what to do.

use std::fmt;

use super::attestation::AttestationError;
use super::auth_data::{Aaguid, AuthDataError};
use super::client_data::ClientDataError;
use crate::cose::CoseAlgorithm;

/// Which ceremony a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ceremony {
    /// Registering a new credential (§7.1).
    Registration,
    /// Verifying an authentication assertion (§7.2).
    Authentication,
}

/// One numbered step of a ceremony in WebAuthn Level 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Step {
    /// The ceremony.
    pub ceremony: Ceremony,
    /// The step number in §7.1 or §7.2.
    pub number: u8,
    /// What the step checks.
    pub name: &'static str,
}

const fn reg(number: u8, name: &'static str) -> Step {
    Step {
        ceremony: Ceremony::Registration,
        number,
        name,
    }
}

const fn auth(number: u8, name: &'static str) -> Step {
    Step {
        ceremony: Ceremony::Authentication,
        number,
        name,
    }
}

#[allow(missing_docs)]
impl Step {
    pub const REG_RESPONSE: Step = reg(5, "response is an attestation response");
    pub const REG_CLIENT_DATA_UTF8: Step = reg(7, "decode clientDataJSON as UTF-8");
    pub const REG_CLIENT_DATA_PARSE: Step = reg(8, "parse clientDataJSON");
    pub const REG_TYPE: Step = reg(9, "C.type is webauthn.create");
    pub const REG_CHALLENGE: Step = reg(10, "C.challenge matches the options");
    pub const REG_ORIGIN: Step = reg(11, "C.origin is expected");
    pub const REG_TOP_ORIGIN: Step = reg(12, "C.topOrigin is expected");
    pub const REG_ATTESTATION_OBJECT: Step = reg(14, "decode the attestation object");
    pub const REG_RP_ID_HASH: Step = reg(15, "rpIdHash is SHA-256 of the RP ID");
    pub const REG_USER_PRESENT: Step = reg(16, "UP flag is set");
    pub const REG_USER_VERIFIED: Step = reg(17, "UV flag is set when required");
    pub const REG_BACKUP_FLAGS: Step = reg(18, "BS is not set without BE");
    pub const REG_ALGORITHM: Step = reg(21, "credential algorithm is allowed");
    pub const REG_FORMAT: Step = reg(23, "attestation format is supported");
    pub const REG_ATTESTATION_STATEMENT: Step = reg(24, "attestation statement verifies");
    pub const REG_TRUST: Step = reg(26, "attestation is trustworthy");
    pub const REG_CREDENTIAL_ID_LENGTH: Step = reg(27, "credential ID is at most 1023 bytes");
    pub const REG_CREDENTIAL_ID_UNIQUE: Step = reg(28, "credential ID is not yet registered");

    pub const AUTH_ALLOWED_CREDENTIAL: Step = auth(5, "credential is in allowCredentials");
    pub const AUTH_USER_HANDLE: Step = auth(6, "credential belongs to the user");
    pub const AUTH_CREDENTIAL_RECORD: Step = auth(7, "credential record is known");
    pub const AUTH_RESPONSE: Step = auth(8, "read clientDataJSON, authenticatorData, signature");
    pub const AUTH_CLIENT_DATA_UTF8: Step = auth(9, "decode clientDataJSON as UTF-8");
    pub const AUTH_CLIENT_DATA_PARSE: Step = auth(10, "parse clientDataJSON");
    pub const AUTH_TYPE: Step = auth(11, "C.type is webauthn.get");
    pub const AUTH_CHALLENGE: Step = auth(12, "C.challenge matches the options");
    pub const AUTH_ORIGIN: Step = auth(13, "C.origin is expected");
    pub const AUTH_TOP_ORIGIN: Step = auth(14, "C.topOrigin is expected");
    pub const AUTH_RP_ID_HASH: Step = auth(15, "rpIdHash is SHA-256 of the RP ID");
    pub const AUTH_USER_PRESENT: Step = auth(16, "UP flag is set");
    pub const AUTH_USER_VERIFIED: Step = auth(17, "UV flag is set when required");
    pub const AUTH_BACKUP_FLAGS: Step = auth(18, "BS is not set without BE");
    pub const AUTH_BACKUP_ELIGIBILITY: Step = auth(19, "BE matches the credential record");
    pub const AUTH_SIGNATURE: Step = auth(23, "signature verifies with the credential key");
    pub const AUTH_SIGN_COUNT: Step = auth(24, "signature counter increases");
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let section = match self.ceremony {
            Ceremony::Registration => "7.1",
            Ceremony::Authentication => "7.2",
        };
        write!(f, "§{section} step {} ({})", self.number, self.name)
    }
}

/// What was wrong at the failing step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The credential's `type` is not "public-key" or its `rawId` disagrees with `id`.
    #[error("malformed credential: {0}")]
    MalformedCredential(String),
    /// clientDataJSON could not be read.
    #[error(transparent)]
    ClientData(#[from] ClientDataError),
    /// C.type is wrong.
    #[error("clientDataJSON type is {found:?}, expected {expected:?}")]
    WrongType {
        /// The expected type.
        expected: &'static str,
        /// The type found.
        found: String,
    },
    /// C.challenge is not the challenge the RP issued.
    #[error("clientDataJSON challenge {found:?} is not the challenge issued for this ceremony")]
    ChallengeMismatch {
        /// The challenge in the client data.
        found: String,
    },
    /// C.origin is not an allowed origin.
    #[error("origin {origin:?} is not one of the relying party's origins {allowed:?}")]
    OriginNotAllowed {
        /// The origin in the client data.
        origin: String,
        /// The allowed origins.
        allowed: Vec<String>,
    },
    /// The ceremony ran in a cross-origin iframe, which the policy does not allow.
    #[error("cross-origin use (crossOrigin: true, topOrigin {top_origin:?}) is not allowed")]
    CrossOriginNotAllowed {
        /// The top-level origin, if given.
        top_origin: Option<String>,
    },
    /// The attestation object is not valid.
    #[error("attestation object is invalid: {0}")]
    AttestationObject(String),
    /// The authenticator data is not valid.
    #[error(transparent)]
    AuthData(#[from] AuthDataError),
    /// The rpIdHash is not SHA-256 of the RP ID.
    #[error("rpIdHash is not SHA-256 of {rp_id:?}: the credential is scoped to another RP ID")]
    RpIdHashMismatch {
        /// The expected RP ID.
        rp_id: String,
    },
    /// The UP flag is clear.
    #[error("the authenticator did not report user presence (UP flag clear)")]
    UserNotPresent,
    /// The UV flag is clear although the policy requires user verification.
    #[error("user verification is required but the authenticator did not verify the user (UV flag clear)")]
    UserNotVerified,
    /// BS set with BE clear (§6.1.3).
    #[error("backup state (BS) is set but the credential is not backup eligible (BE clear)")]
    BackupStateWithoutEligibility,
    /// BE differs from the value stored at registration.
    #[error("backup eligibility changed: registered BE={registered}, now BE={now}")]
    BackupEligibilityChanged {
        /// BE at registration.
        registered: bool,
        /// BE now.
        now: bool,
    },
    /// No attested credential data in a registration.
    #[error("authenticator data has no attested credential data (AT flag clear)")]
    MissingAttestedCredentialData,
    /// The credential algorithm is not allowed by the policy.
    #[error("credential algorithm {alg} is not among the allowed {allowed:?}")]
    AlgorithmNotAllowed {
        /// The credential's algorithm.
        alg: CoseAlgorithm,
        /// The allowed algorithms.
        allowed: Vec<String>,
    },
    /// The attestation format is unknown or not accepted by the policy.
    #[error("attestation format {fmt:?} is not accepted")]
    FormatNotAccepted {
        /// The fmt value.
        fmt: String,
    },
    /// The attestation statement does not verify.
    #[error(transparent)]
    Attestation(#[from] AttestationError),
    /// The attestation does not chain to a trust anchor the policy requires.
    #[error("attestation is not trusted: {0}")]
    AttestationNotTrusted(String),
    /// The AAGUID is not in the policy's allow-list.
    #[error("authenticator model {aaguid} is not allowed")]
    AaguidNotAllowed {
        /// The AAGUID.
        aaguid: Aaguid,
    },
    /// The credential ID is longer than 1023 bytes.
    #[error("credential ID of {0} bytes exceeds 1023 bytes")]
    CredentialIdTooLong(usize),
    /// The credential ID is already registered.
    #[error("credential ID is already registered")]
    CredentialAlreadyRegistered,
    /// The credential ID in the response does not match the attested one.
    #[error("the credential's rawId does not match the credential ID in the authenticator data")]
    CredentialIdMismatch,
    /// The credential is not in allowCredentials.
    #[error("credential was not in allowCredentials")]
    CredentialNotAllowed,
    /// No allowCredentials were sent, and the response has no userHandle to identify the user.
    #[error("the response has no userHandle, so the user cannot be identified (no allowCredentials were sent)")]
    UserHandleMissing,
    /// The userHandle does not belong to the credential's owner.
    #[error("userHandle does not match the credential's user")]
    UserHandleMismatch,
    /// The signature does not verify.
    #[error("signature does not verify with the registered credential public key")]
    InvalidSignature,
    /// A non-zero signature counter did not increase.
    #[error("signature counter did not increase (stored {stored}, received {received}): possible cloned authenticator")]
    SignCountRegression {
        /// The counter stored with the credential.
        stored: u32,
        /// The counter the authenticator reported.
        received: u32,
    },
}

impl Failure {
    /// What a developer or user should do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Failure::ChallengeMismatch { .. } => {
                "start a new ceremony: challenges are single-use and bound to one session"
            }
            Failure::OriginNotAllowed { .. } | Failure::CrossOriginNotAllowed { .. } => {
                "open the page on the relying party's own origin, or add the origin to the policy"
            }
            Failure::RpIdHashMismatch { .. } => {
                "the credential was made for another RP ID: check --rp-id and the page's rp.id"
            }
            Failure::UserNotVerified => {
                "no biometrics enrolled or user verification unavailable: enroll one, then restart from step 2"
            }
            Failure::UserNotPresent => "touch the authenticator when it asks",
            Failure::AlgorithmNotAllowed { .. } => {
                "the authenticator cannot make a key of an allowed algorithm (ES256 or RS256)"
            }
            Failure::FormatNotAccepted { .. } | Failure::AttestationNotTrusted(_) => {
                "this authenticator model is not accepted by the site's attestation policy"
            }
            Failure::AaguidNotAllowed { .. } => {
                "this authenticator model is not on the site's allow-list"
            }
            Failure::SignCountRegression { .. } => {
                "the authenticator may have been cloned: revoke the credential and re-enroll"
            }
            Failure::InvalidSignature | Failure::Attestation(_) => {
                "the authenticator produced an invalid signature: it is faulty or the data was altered"
            }
            Failure::CredentialAlreadyRegistered => "sign in with the existing credential instead",
            Failure::CredentialNotAllowed
            | Failure::UserHandleMismatch
            | Failure::UserHandleMissing
            | Failure::CredentialIdMismatch => {
                "use the credential registered for this applicant"
            }
            _ => "the client sent malformed data: check the browser and authenticator",
        }
    }
}

/// A ceremony that failed at `step`.
#[derive(Debug, thiserror::Error)]
#[error("{step} failed: {failure}")]
pub struct CeremonyError {
    /// The step that failed.
    pub step: Step,
    /// What was wrong.
    #[source]
    pub failure: Failure,
}

impl CeremonyError {
    /// A failure at `step`.
    pub fn new(step: Step, failure: impl Into<Failure>) -> Self {
        CeremonyError {
            step,
            failure: failure.into(),
        }
    }
}
