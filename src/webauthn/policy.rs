//! What a relying party accepts: RP ID, origins, user verification, algorithms, attestation.

use serde::{Deserialize, Serialize};

use super::attestation::{AttestationFormat, TrustStore};
use super::auth_data::Aaguid;
use crate::cose::CoseAlgorithm;

/// `UserVerificationRequirement` (§5.8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UserVerification {
    /// UV must be set.
    Required,
    /// UV is asked for but not checked.
    #[default]
    Preferred,
    /// UV is not asked for.
    Discouraged,
}

impl std::str::FromStr for UserVerification {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "required" => Ok(UserVerification::Required),
            "preferred" => Ok(UserVerification::Preferred),
            "discouraged" => Ok(UserVerification::Discouraged),
            other => Err(format!(
                "unknown user verification {other:?}: use required, preferred or discouraged"
            )),
        }
    }
}

/// `AttestationConveyancePreference` (§5.4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AttestationConveyance {
    /// The RP does not want attestation.
    #[default]
    None,
    /// The RP wants attestation but lets the client anonymise it.
    Indirect,
    /// The RP wants the authenticator's attestation.
    Direct,
    /// The RP wants uniquely identifying attestation.
    Enterprise,
}

/// What to do with a non-zero signature counter that does not increase (§7.2 step 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SignCountPolicy {
    /// Fail the ceremony.
    #[default]
    Reject,
    /// Accept, with a warning in the result.
    Warn,
}

/// A relying party's verification policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The RP ID credentials are scoped to (a registrable domain, e.g. "example.org").
    pub rp_id: String,
    /// Origins the ceremonies may run on, e.g. "https://example.org".
    pub allowed_origins: Vec<String>,
    /// Top-level origins allowed when the RP is embedded cross-origin; empty: no embedding.
    pub allowed_top_origins: Vec<String>,
    /// User verification requirement.
    pub user_verification: UserVerification,
    /// Credential algorithms accepted, in preference order (the `pubKeyCredParams`).
    pub allowed_algorithms: Vec<CoseAlgorithm>,
    /// Attestation the RP asks for.
    pub attestation: AttestationConveyance,
    /// Attestation formats accepted.
    pub accepted_formats: Vec<AttestationFormat>,
    /// Trust anchors for attestation chains.
    pub trust_store: TrustStore,
    /// Require an attestation that chains to `trust_store` (self and none attestation fail).
    pub require_trusted_attestation: bool,
    /// If set, only these authenticator models may register.
    pub allowed_aaguids: Option<Vec<Aaguid>>,
    /// Non-increasing signature counters: reject or warn.
    pub sign_count: SignCountPolicy,
    /// Time (Unix seconds) at which certificate validity is judged; `None`: now.
    pub attestation_time: Option<i64>,
}

impl Policy {
    /// A policy for `rp_id` on `https://{rp_id}` that accepts every supported format and
    /// algorithm, prefers user verification and does not require trusted attestation.
    pub fn new(rp_id: impl Into<String>) -> Self {
        let rp_id = rp_id.into();
        Policy {
            allowed_origins: vec![format!("https://{rp_id}")],
            rp_id,
            allowed_top_origins: Vec::new(),
            user_verification: UserVerification::Preferred,
            allowed_algorithms: vec![
                CoseAlgorithm::Es256,
                CoseAlgorithm::EdDsa,
                CoseAlgorithm::Ed25519,
                CoseAlgorithm::Es384,
                CoseAlgorithm::Es512,
                CoseAlgorithm::Ps256,
                CoseAlgorithm::Rs256,
            ],
            attestation: AttestationConveyance::None,
            accepted_formats: AttestationFormat::ALL.to_vec(),
            trust_store: TrustStore::default(),
            require_trusted_attestation: false,
            allowed_aaguids: None,
            sign_count: SignCountPolicy::Reject,
            attestation_time: None,
        }
    }

    /// Replaces the allowed origins.
    pub fn with_origins(mut self, origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the user verification requirement.
    pub fn with_user_verification(mut self, uv: UserVerification) -> Self {
        self.user_verification = uv;
        self
    }

    /// SHA-256 of the RP ID, as authenticator data must carry it.
    pub fn rp_id_hash(&self) -> [u8; 32] {
        super::sha256(self.rp_id.as_bytes())
    }
}
