//! The site's WebAuthn policy profiles: what the enrollment site asks of the browser and what
//! it accepts, as configuration (`--policy`).

use std::time::Duration;

use serde::Serialize;

use crate::cose::CoseAlgorithm;
use crate::webauthn::{Policy, UserVerification};

/// Which authenticators the site admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attachment {
    /// Only the device's own (platform) authenticator: a phone's biometrics.
    Platform,
    /// Any authenticator, USB security keys included.
    Any,
}

/// A named policy profile.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SitePolicy {
    /// Profile name (`--policy`).
    pub name: &'static str,
    /// What this profile is for.
    pub description: &'static str,
    /// Authenticator attachment asked for and enforced.
    pub attachment: Attachment,
    /// User verification asked for and enforced.
    pub user_verification: UserVerification,
    /// Credential algorithms offered, in order of preference.
    pub algorithms: Vec<CoseAlgorithm>,
    /// How long the browser may take for one ceremony; challenges expire after it.
    #[serde(with = "millis")]
    pub timeout: Duration,
}

mod millis {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

/// The default profile: the HPKI second-certificate site as the manual describes it.
pub const DEFAULT_POLICY: &str = "jpa-hpki";

impl SitePolicy {
    /// `jpa-hpki`: platform attachment, user verification required, ES256 and RS256,
    /// attestation `none` accepted, 2-minute timeout.
    pub fn jpa_hpki() -> Self {
        SitePolicy {
            name: "jpa-hpki",
            description: "HPKI second certificate: phone biometrics only (platform, UV required, ES256/RS256)",
            attachment: Attachment::Platform,
            user_verification: UserVerification::Required,
            algorithms: vec![CoseAlgorithm::Es256, CoseAlgorithm::Rs256],
            timeout: Duration::from_secs(120),
        }
    }

    /// `jpa-hpki-cross-platform`: the same, but USB security keys are admitted too.
    pub fn jpa_hpki_cross_platform() -> Self {
        SitePolicy {
            name: "jpa-hpki-cross-platform",
            description: "as jpa-hpki, but any authenticator (USB security keys with a PIN too)",
            attachment: Attachment::Any,
            ..Self::jpa_hpki()
        }
    }

    /// Every profile.
    pub fn all() -> Vec<SitePolicy> {
        vec![Self::jpa_hpki(), Self::jpa_hpki_cross_platform()]
    }

    /// The profile called `name`.
    pub fn by_name(name: &str) -> Option<SitePolicy> {
        Self::all().into_iter().find(|p| p.name == name)
    }

    /// The verification core's policy for `rp_id` and `origin`.
    pub fn verification_policy(&self, rp_id: &str, origin: &str) -> Policy {
        let mut policy = Policy::new(rp_id)
            .with_origins([origin])
            .with_user_verification(self.user_verification);
        policy.allowed_algorithms = self.algorithms.clone();
        policy
    }

    /// `authenticatorSelection.authenticatorAttachment`, when the profile asks for one.
    pub fn attachment_option(&self) -> Option<&'static str> {
        match self.attachment {
            Attachment::Platform => Some("platform"),
            Attachment::Any => None,
        }
    }
}

impl std::str::FromStr for SitePolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::by_name(s).ok_or_else(|| {
            let names: Vec<&str> = Self::all().iter().map(|p| p.name).collect();
            format!("unknown policy {s:?}: use one of {}", names.join(", "))
        })
    }
}
