//! Device profiles: which real authenticators the emulator behaves like, and where the facts
//! come from.

use crate::cose::CoseAlgorithm;
use crate::webauthn::Aaguid;

/// What attestation a profile produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationKind {
    /// `none`, as platform passkey providers return.
    None,
    /// `packed` with an x5c chain from ctapkit's test CA.
    PackedX5c,
    /// `fido-u2f` (CTAP1 keys).
    FidoU2f,
}

/// How the signature counter behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignCountMode {
    /// Always 0 (synced passkeys).
    AlwaysZero,
    /// One counter per credential, incremented on every assertion.
    PerCredential,
}

/// An emulated device model.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The `--profile` name.
    pub name: &'static str,
    /// What it imitates.
    pub description: &'static str,
    /// Where the facts come from.
    pub source: &'static str,
    /// The AAGUID in attested credential data and getInfo.
    pub aaguid: Aaguid,
    /// A human model name (for reports).
    pub model: &'static str,
    /// Speaks CTAP2 (getInfo etc.).
    pub ctap2: bool,
    /// Speaks CTAP1/U2F (CTAPHID_MSG).
    pub ctap1: bool,
    /// A platform authenticator ("plat": true).
    pub platform: bool,
    /// WebAuthn transports.
    pub transports: &'static [&'static str],
    /// Credential algorithms, in preference order.
    pub algorithms: &'static [CoseAlgorithm],
    /// Attestation produced.
    pub attestation: AttestationKind,
    /// Credentials are backup eligible (BE).
    pub backup_eligible: bool,
    /// Credentials are backed up (BS).
    pub backed_up: bool,
    /// Counter behaviour.
    pub sign_count: SignCountMode,
    /// Has built-in user verification (biometrics).
    pub builtin_uv: bool,
    /// Built-in UV exists but nothing is enrolled (getInfo "uv": false).
    pub uv_not_configured: bool,
    /// Supports a client PIN.
    pub client_pin: bool,
    /// PIN/UV auth protocols, preferred first.
    pub pin_protocols: &'static [u8],
    /// Supported extensions.
    pub extensions: &'static [&'static str],
    /// Discoverable credential slots (`None`: unlimited).
    pub discoverable_slots: Option<usize>,
    /// Supports credential management.
    pub credential_management: bool,
    /// makeCredential without UV allowed for non-discoverable credentials.
    pub make_cred_uv_not_required: bool,
    /// Every credential is discoverable (platform passkeys).
    pub always_discoverable: bool,
    /// The browser a person uses with this device, as its User-Agent (phones: the manual's
    /// Safari on iOS, Chrome on Android); `None` for keys, which any browser may use.
    pub browser_user_agent: Option<&'static str>,
}

/// Safari on an iPhone (the manual: open the URL in Safari on iOS).
const IOS_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1";
/// Chrome on an Android phone (the manual: open the URL in Chrome on Android).
const ANDROID_CHROME: &str = "Mozilla/5.0 (Linux; Android 15; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36";

/// Google Password Manager's published AAGUID.
pub const GOOGLE_PASSWORD_MANAGER_AAGUID: &str = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";
/// ctapkit's own AAGUID for the emulated security key (not a vendor's).
pub const CTAPKIT_SECURITY_KEY_AAGUID: &str = "c7a1b0e4-7d3f-4e0b-9a51-2f6d8e1c4b90";
/// ctapkit's own AAGUID for the emulated U2F key (fido-u2f carries none on the wire).
pub const CTAPKIT_U2F_AAGUID: &str = "00000000-0000-0000-0000-000000000000";

fn aaguid(text: &str) -> Aaguid {
    Aaguid::parse(text).unwrap_or(Aaguid::ZERO)
}

const PLATFORM_EXTENSIONS: &[&str] = &["credProtect", "hmac-secret"];

/// Every profile.
pub fn all() -> Vec<Profile> {
    vec![ios(), android(), security_key(), u2f(), no_biometric()]
}

/// The profile called `name`.
pub fn by_name(name: &str) -> Option<Profile> {
    all().into_iter().find(|p| p.name == name)
}

/// iCloud Keychain on iOS: platform, biometric UV, ES256, `none`, zero AAGUID, synced
/// (BE=BS=1), counter always 0, discoverable credentials.
pub fn ios() -> Profile {
    Profile {
        name: "ios",
        description: "iPhone platform authenticator (iCloud Keychain passkeys, Face ID / Touch ID)",
        source: "Apple's passkey documentation and observed registrations: attestation none, \
                 AAGUID all zeros, flags UP UV BE BS, signCount 0, ES256",
        aaguid: Aaguid::ZERO,
        model: "iCloud Keychain",
        ctap2: true,
        ctap1: false,
        platform: true,
        transports: &["internal", "hybrid"],
        algorithms: &[CoseAlgorithm::Es256],
        attestation: AttestationKind::None,
        backup_eligible: true,
        backed_up: true,
        sign_count: SignCountMode::AlwaysZero,
        builtin_uv: true,
        uv_not_configured: false,
        client_pin: false,
        pin_protocols: &[2, 1],
        extensions: PLATFORM_EXTENSIONS,
        discoverable_slots: None,
        credential_management: false,
        make_cred_uv_not_required: false,
        always_discoverable: true,
        browser_user_agent: Some(IOS_SAFARI),
    }
}

/// Google Password Manager on Android: published AAGUID, ES256 and RS256, `none`, synced,
/// counter 0.
pub fn android() -> Profile {
    Profile {
        name: "android",
        description: "Android platform authenticator (Google Password Manager passkeys, fingerprint / face unlock)",
        source: "the passkey AAGUID list (Google Password Manager ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4) \
                 and observed registrations: attestation none, UP UV BE BS, signCount 0",
        aaguid: aaguid(GOOGLE_PASSWORD_MANAGER_AAGUID),
        model: "Google Password Manager",
        algorithms: &[CoseAlgorithm::Es256, CoseAlgorithm::Rs256],
        browser_user_agent: Some(ANDROID_CHROME),
        // Everything else as the other synced platform authenticator.
        ..ios()
    }
}

/// A CTAP 2.1 USB key of the YubiKey 5 class: cross-platform, PIN, ES256 and EdDSA, packed
/// attestation from ctapkit's test CA, per-credential counters, 25 discoverable slots.
pub fn security_key() -> Profile {
    Profile {
        name: "security-key",
        description: "CTAP 2.1 USB security key (YubiKey 5 class): PIN, packed attestation, 25 resident slots",
        source: "CTAP 2.1 and the getInfo of YubiKey 5 series keys (versions U2F_V2/FIDO_2_0/FIDO_2_1, \
                 options rk/up/plat=false/clientPin/credMgmt/pinUvAuthToken/makeCredUvNotRqd, \
                 PIN protocols 2 and 1, 25 discoverable credentials); ctapkit's own AAGUID and test CA, never a vendor key",
        aaguid: aaguid(CTAPKIT_SECURITY_KEY_AAGUID),
        model: "ctapkit emulated security key",
        ctap2: true,
        ctap1: true,
        platform: false,
        transports: &["usb", "nfc"],
        algorithms: &[CoseAlgorithm::Es256, CoseAlgorithm::EdDsa],
        attestation: AttestationKind::PackedX5c,
        backup_eligible: false,
        backed_up: false,
        sign_count: SignCountMode::PerCredential,
        builtin_uv: false,
        uv_not_configured: false,
        client_pin: true,
        pin_protocols: &[2, 1],
        extensions: &["credProtect", "hmac-secret", "credBlob", "minPinLength", "largeBlobKey"],
        discoverable_slots: Some(25),
        credential_management: true,
        make_cred_uv_not_required: true,
        always_discoverable: false,
        browser_user_agent: None,
    }
}

/// A CTAP1/U2F-only key: `fido-u2f` attestation, no CTAP2.
pub fn u2f() -> Profile {
    Profile {
        name: "u2f",
        description: "CTAP1/U2F-only security key (FIDO U2F, pre-FIDO2)",
        source: "FIDO U2F Raw Message Formats v1.2: REGISTER/AUTHENTICATE APDUs, P-256 keys, \
                 attestation certificate from ctapkit's test CA",
        aaguid: aaguid(CTAPKIT_U2F_AAGUID),
        model: "ctapkit emulated U2F key",
        ctap2: false,
        ctap1: true,
        platform: false,
        transports: &["usb"],
        algorithms: &[CoseAlgorithm::Es256],
        attestation: AttestationKind::FidoU2f,
        backup_eligible: false,
        backed_up: false,
        sign_count: SignCountMode::PerCredential,
        builtin_uv: false,
        uv_not_configured: false,
        client_pin: false,
        pin_protocols: &[],
        extensions: &[],
        discoverable_slots: Some(0),
        credential_management: false,
        make_cred_uv_not_required: true,
        always_discoverable: false,
        browser_user_agent: None,
    }
}

/// A phone with no biometrics enrolled: UV exists but is not configured, so a registration
/// that requires UV fails (the manual's "Security Key Error").
pub fn no_biometric() -> Profile {
    Profile {
        name: "no-biometric",
        description: "phone platform authenticator with no fingerprint or face enrolled",
        source: "CTAP 2.1 §6.1.2 step 5 (uv requested while built-in UV is not configured: \
                 CTAP2_ERR_INVALID_OPTION) and the enrollment manual's troubleshooting table",
        uv_not_configured: true,
        ..ios()
    }
}
