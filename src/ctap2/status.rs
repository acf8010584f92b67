//! CTAP status codes ([CTAP 2.1 §8.2 "Status codes"](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#error-responses)),
//! lossless: every byte value round-trips, named from one table.

use std::fmt;

/// A CTAP status byte. Every `u8` is representable; known values have spec names.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(pub u8);

macro_rules! status_table {
    ($($konst:ident = $val:literal, $name:literal, $desc:literal;)*) => {
        #[allow(missing_docs)]
        impl StatusCode {
            $(pub const $konst: StatusCode = StatusCode($val);)*
        }
        /// `(code, spec name, meaning)` for every code the spec defines.
        pub const TABLE: &[(u8, &str, &str)] = &[$(($val, $name, $desc)),*];
    };
}

status_table! {
    OK = 0x00, "CTAP2_OK", "success";
    INVALID_COMMAND = 0x01, "CTAP1_ERR_INVALID_COMMAND", "the command is not a valid CTAP command";
    INVALID_PARAMETER = 0x02, "CTAP1_ERR_INVALID_PARAMETER", "the command included an invalid parameter";
    INVALID_LENGTH = 0x03, "CTAP1_ERR_INVALID_LENGTH", "invalid message or item length";
    INVALID_SEQ = 0x04, "CTAP1_ERR_INVALID_SEQ", "invalid message sequencing";
    TIMEOUT = 0x05, "CTAP1_ERR_TIMEOUT", "message timed out";
    CHANNEL_BUSY = 0x06, "CTAP1_ERR_CHANNEL_BUSY", "channel busy";
    LOCK_REQUIRED = 0x0a, "CTAP1_ERR_LOCK_REQUIRED", "command requires channel lock";
    INVALID_CHANNEL = 0x0b, "CTAP1_ERR_INVALID_CHANNEL", "command not allowed on this channel";
    CBOR_UNEXPECTED_TYPE = 0x11, "CTAP2_ERR_CBOR_UNEXPECTED_TYPE", "invalid or unexpected CBOR type";
    INVALID_CBOR = 0x12, "CTAP2_ERR_INVALID_CBOR", "error when parsing CBOR";
    MISSING_PARAMETER = 0x14, "CTAP2_ERR_MISSING_PARAMETER", "missing non-optional parameter";
    LIMIT_EXCEEDED = 0x15, "CTAP2_ERR_LIMIT_EXCEEDED", "limit for number of items exceeded";
    FP_DATABASE_FULL = 0x17, "CTAP2_ERR_FP_DATABASE_FULL", "fingerprint database is full";
    LARGE_BLOB_STORAGE_FULL = 0x18, "CTAP2_ERR_LARGE_BLOB_STORAGE_FULL", "large blob storage is full";
    CREDENTIAL_EXCLUDED = 0x19, "CTAP2_ERR_CREDENTIAL_EXCLUDED", "valid credential found in the exclude list";
    PROCESSING = 0x21, "CTAP2_ERR_PROCESSING", "processing (lengthy operation is in progress)";
    INVALID_CREDENTIAL = 0x22, "CTAP2_ERR_INVALID_CREDENTIAL", "credential not valid for the authenticator";
    USER_ACTION_PENDING = 0x23, "CTAP2_ERR_USER_ACTION_PENDING", "authentication is waiting for user interaction";
    OPERATION_PENDING = 0x24, "CTAP2_ERR_OPERATION_PENDING", "processing, lengthy operation is in progress";
    NO_OPERATIONS = 0x25, "CTAP2_ERR_NO_OPERATIONS", "no request is pending";
    UNSUPPORTED_ALGORITHM = 0x26, "CTAP2_ERR_UNSUPPORTED_ALGORITHM", "authenticator does not support the requested algorithm";
    OPERATION_DENIED = 0x27, "CTAP2_ERR_OPERATION_DENIED", "not authorized for the requested operation";
    KEY_STORE_FULL = 0x28, "CTAP2_ERR_KEY_STORE_FULL", "internal key storage is full";
    UNSUPPORTED_OPTION = 0x2b, "CTAP2_ERR_UNSUPPORTED_OPTION", "unsupported option";
    INVALID_OPTION = 0x2c, "CTAP2_ERR_INVALID_OPTION", "not a valid option for the current operation";
    KEEPALIVE_CANCEL = 0x2d, "CTAP2_ERR_KEEPALIVE_CANCEL", "pending keep alive was cancelled";
    NO_CREDENTIALS = 0x2e, "CTAP2_ERR_NO_CREDENTIALS", "no valid credentials provided";
    USER_ACTION_TIMEOUT = 0x2f, "CTAP2_ERR_USER_ACTION_TIMEOUT", "timeout waiting for user interaction";
    NOT_ALLOWED = 0x30, "CTAP2_ERR_NOT_ALLOWED", "continuation command not allowed";
    PIN_INVALID = 0x31, "CTAP2_ERR_PIN_INVALID", "PIN invalid";
    PIN_BLOCKED = 0x32, "CTAP2_ERR_PIN_BLOCKED", "PIN blocked";
    PIN_AUTH_INVALID = 0x33, "CTAP2_ERR_PIN_AUTH_INVALID", "pinUvAuthParam verification failed";
    PIN_AUTH_BLOCKED = 0x34, "CTAP2_ERR_PIN_AUTH_BLOCKED", "PIN/UV auth blocked: power cycle required";
    PIN_NOT_SET = 0x35, "CTAP2_ERR_PIN_NOT_SET", "no PIN has been set";
    PUAT_REQUIRED = 0x36, "CTAP2_ERR_PUAT_REQUIRED", "a pinUvAuthToken is required";
    PIN_POLICY_VIOLATION = 0x37, "CTAP2_ERR_PIN_POLICY_VIOLATION", "PIN policy violation";
    REQUEST_TOO_LARGE = 0x39, "CTAP2_ERR_REQUEST_TOO_LARGE", "request too large for the authenticator";
    ACTION_TIMEOUT = 0x3a, "CTAP2_ERR_ACTION_TIMEOUT", "the current operation has timed out";
    UP_REQUIRED = 0x3b, "CTAP2_ERR_UP_REQUIRED", "user presence is required";
    UV_BLOCKED = 0x3c, "CTAP2_ERR_UV_BLOCKED", "built-in user verification is blocked";
    INTEGRITY_FAILURE = 0x3d, "CTAP2_ERR_INTEGRITY_FAILURE", "a checksum did not match";
    INVALID_SUBCOMMAND = 0x3e, "CTAP2_ERR_INVALID_SUBCOMMAND", "the subcommand is not valid";
    UV_INVALID = 0x3f, "CTAP2_ERR_UV_INVALID", "built-in user verification failed";
    UNAUTHORIZED_PERMISSION = 0x40, "CTAP2_ERR_UNAUTHORIZED_PERMISSION", "the permission is not allowed for this command";
    OTHER = 0x7f, "CTAP1_ERR_OTHER", "other unspecified error";
    SPEC_LAST = 0xdf, "CTAP2_ERR_SPEC_LAST", "last code reserved by the spec";
}

/// How a status code is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// A code the spec names.
    Known(&'static str),
    /// 0xe0..=0xef, extension-specific.
    Extension(u8),
    /// 0xf0..=0xff, vendor-specific.
    Vendor(u8),
    /// Any other value.
    Unknown(u8),
}

impl StatusCode {
    /// The classification of this code.
    pub fn kind(self) -> StatusKind {
        if let Some((_, name, _)) = TABLE.iter().find(|(v, _, _)| *v == self.0) {
            return StatusKind::Known(name);
        }
        match self.0 {
            0xe0..=0xef => StatusKind::Extension(self.0),
            0xf0..=0xff => StatusKind::Vendor(self.0),
            v => StatusKind::Unknown(v),
        }
    }

    /// The spec name, or a description of the range.
    pub fn name(self) -> &'static str {
        match self.kind() {
            StatusKind::Known(n) => n,
            StatusKind::Extension(_) => "CTAP2_ERR_EXTENSION (extension-specific)",
            StatusKind::Vendor(_) => "CTAP2_ERR_VENDOR (vendor-specific)",
            StatusKind::Unknown(_) => "unknown status",
        }
    }

    /// What the code means, in words.
    pub fn description(self) -> &'static str {
        TABLE
            .iter()
            .find(|(v, _, _)| *v == self.0)
            .map_or("not defined by CTAP 2.1", |(_, _, d)| d)
    }

    /// True for CTAP2_OK.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02x} {}", self.0, self.name())
    }
}

impl fmt::Debug for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusCode({self})")
    }
}

impl std::error::Error for StatusCode {}

impl From<u8> for StatusCode {
    fn from(v: u8) -> Self {
        StatusCode(v)
    }
}

impl From<StatusCode> for u8 {
    fn from(s: StatusCode) -> u8 {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_and_has_a_display() {
        for v in 0u8..=255 {
            let s = StatusCode::from(v);
            assert_eq!(u8::from(s), v);
            assert!(s.to_string().starts_with(&format!("0x{v:02x} ")));
        }
        assert_eq!(
            StatusCode::PIN_INVALID.to_string(),
            "0x31 CTAP2_ERR_PIN_INVALID"
        );
        assert_eq!(StatusCode(0xe5).kind(), StatusKind::Extension(0xe5));
        assert_eq!(StatusCode(0xf1).kind(), StatusKind::Vendor(0xf1));
        assert_eq!(StatusCode(0x50).kind(), StatusKind::Unknown(0x50));
        let mut seen = std::collections::HashSet::new();
        assert!(
            TABLE.iter().all(|(v, _, _)| seen.insert(*v)),
            "duplicate code in the table"
        );
    }
}
