//! Fault injection: ways the emulator can misbehave on purpose, for testing relying parties,
//! clients and the conformance suite itself.

use std::fmt;
use std::str::FromStr;

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Flip a bit of every signature (assertion and attestation).
    BadSignature,
    /// Put the hash of another RP ID in authenticator data.
    WrongRpIdHash,
    /// Report a signature counter lower than the last one.
    SignCountRegression,
    /// Clear the UP flag.
    ClearUp,
    /// Clear the UV flag.
    ClearUv,
    /// Set BS without BE.
    BsWithoutBe,
    /// Put a different AAGUID in attested credential data.
    WrongAaguid,
    /// Answer with CBOR that is valid but not canonical (map keys out of order).
    NonCanonicalCbor,
    /// Answer with CBOR that repeats a map key.
    DuplicateKeyCbor,
    /// Never send CTAPHID keepalives.
    NoKeepalive,
    /// Answer requests with ERR_CHANNEL_BUSY many times first.
    BusyStorm,
    /// Cut answers short.
    TruncatedResponse,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 12] = [
        Fault::BadSignature,
        Fault::WrongRpIdHash,
        Fault::SignCountRegression,
        Fault::ClearUp,
        Fault::ClearUv,
        Fault::BsWithoutBe,
        Fault::WrongAaguid,
        Fault::NonCanonicalCbor,
        Fault::DuplicateKeyCbor,
        Fault::NoKeepalive,
        Fault::BusyStorm,
        Fault::TruncatedResponse,
    ];

    /// The `--fault` name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::BadSignature => "bad-signature",
            Fault::WrongRpIdHash => "wrong-rp-id-hash",
            Fault::SignCountRegression => "sign-count-regression",
            Fault::ClearUp => "clear-up",
            Fault::ClearUv => "clear-uv",
            Fault::BsWithoutBe => "bs-without-be",
            Fault::WrongAaguid => "wrong-aaguid",
            Fault::NonCanonicalCbor => "non-canonical-cbor",
            Fault::DuplicateKeyCbor => "duplicate-key-cbor",
            Fault::NoKeepalive => "no-keepalive",
            Fault::BusyStorm => "busy-storm",
            Fault::TruncatedResponse => "truncated-response",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown fault {s:?}; known faults: {}",
                    Fault::ALL.map(|f| f.name()).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>(), Ok(f));
        }
        assert!("nope"
            .parse::<Fault>()
            .unwrap_err()
            .contains("bad-signature"));
    }
}
