//! CTAP1/U2F ([FIDO U2F Raw Message Formats v1.2](https://fidoalliance.org/specs/fido-u2f-v1.2-ps-20170411/fido-u2f-raw-message-formats-v1.2-ps-20170411.html)):
//! APDUs and status words shared by both sides, the client's register/authenticate with
//! user-presence polling, and the mapping of U2F answers to WebAuthn structures that
//! browsers apply to U2F-only keys (WebAuthn L3 §8.6, `fido-u2f`).

use std::fmt;
use std::time::{Duration, Instant};

use crate::cbor::{self, Value};
use crate::cose::{CoseAlgorithm, EcCurve, PublicKey};
use crate::transport::{CtapDevice, TransportError};
use crate::webauthn::auth_data::{AttestedCredentialData, AuthenticatorData, CredentialId, Flags};
use crate::webauthn::Aaguid;

/// U2F_REGISTER.
pub const INS_REGISTER: u8 = 0x01;
/// U2F_AUTHENTICATE.
pub const INS_AUTHENTICATE: u8 = 0x02;
/// U2F_VERSION.
pub const INS_VERSION: u8 = 0x03;
/// Authenticate: only check whether the key handle is valid.
pub const P1_CHECK_ONLY: u8 = 0x07;
/// Authenticate: require a touch and sign.
pub const P1_ENFORCE_USER_PRESENCE: u8 = 0x03;
/// Authenticate: sign without a touch.
pub const P1_DONT_ENFORCE_USER_PRESENCE: u8 = 0x08;

/// An ISO 7816 status word.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

#[allow(missing_docs)]
impl StatusWord {
    pub const NO_ERROR: StatusWord = StatusWord(0x9000);
    pub const CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord(0x6985);
    pub const WRONG_DATA: StatusWord = StatusWord(0x6a80);
    pub const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
    pub const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6e00);
    pub const INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6d00);

    /// The U2F name.
    pub fn name(self) -> &'static str {
        match self.0 {
            0x9000 => "SW_NO_ERROR",
            0x6985 => "SW_CONDITIONS_NOT_SATISFIED",
            0x6a80 => "SW_WRONG_DATA",
            0x6700 => "SW_WRONG_LENGTH",
            0x6e00 => "SW_CLA_NOT_SUPPORTED",
            0x6d00 => "SW_INS_NOT_SUPPORTED",
            _ => "unknown status word",
        }
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x} {}", self.0, self.name())
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({self})")
    }
}

/// A parsed command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apdu {
    /// Class.
    pub cla: u8,
    /// Instruction.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data.
    pub data: Vec<u8>,
}

impl Apdu {
    /// Parses a short or extended-length APDU (ISO 7816-4 §5.1).
    pub fn parse(bytes: &[u8]) -> Result<Self, StatusWord> {
        if bytes.len() < 4 {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let (header, body) = bytes.split_at(4);
        let data = match body {
            [] => Vec::new(),
            // Short: only Le.
            [_le] => Vec::new(),
            // Extended: 00 Lc1 Lc2 data [Le1 Le2], or 00 Le1 Le2 with no data.
            [0, rest @ ..] if rest.len() >= 2 => {
                let lc = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                let after = &rest[2..];
                if lc == 0 && after.is_empty() {
                    Vec::new()
                } else if after.len() == lc || after.len() == lc + 2 {
                    after[..lc].to_vec()
                } else {
                    return Err(StatusWord::WRONG_LENGTH);
                }
            }
            // Short: Lc data [Le].
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                if rest.len() == lc || rest.len() == lc + 1 {
                    rest[..lc].to_vec()
                } else {
                    return Err(StatusWord::WRONG_LENGTH);
                }
            }
        };
        Ok(Apdu {
            cla: header[0],
            ins: header[1],
            p1: header[2],
            p2: header[3],
            data,
        })
    }

    /// Encodes with extended length (as browsers send U2F requests).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.cla, self.ins, self.p1, self.p2, 0];
        out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&[0, 0]);
        out
    }
}

/// A CTAP1 exchange that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Ctap1Error {
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The device answered with an error status word.
    #[error("the U2F device answered {0}")]
    Status(StatusWord),
    /// The answer is malformed.
    #[error("malformed U2F answer: {0}")]
    Malformed(&'static str),
    /// Nobody touched the key in time.
    #[error("no touch within {0:?}: touch your key when it blinks")]
    PresenceTimeout(Duration),
}

/// A U2F registration answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterResponse {
    /// The uncompressed P-256 public key (65 bytes).
    pub public_key: Vec<u8>,
    /// The key handle (the credential ID).
    pub key_handle: Vec<u8>,
    /// The attestation certificate (DER).
    pub certificate: Vec<u8>,
    /// The attestation signature (DER ECDSA).
    pub signature: Vec<u8>,
}

/// A U2F authentication answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateResponse {
    /// The user presence byte.
    pub user_presence: u8,
    /// The counter.
    pub counter: u32,
    /// The signature (DER ECDSA).
    pub signature: Vec<u8>,
}

fn split_status(answer: &[u8]) -> Result<&[u8], Ctap1Error> {
    if answer.len() < 2 {
        return Err(Ctap1Error::Malformed("answer shorter than a status word"));
    }
    let (body, sw) = answer.split_at(answer.len() - 2);
    match StatusWord(u16::from_be_bytes([sw[0], sw[1]])) {
        StatusWord::NO_ERROR => Ok(body),
        other => Err(Ctap1Error::Status(other)),
    }
}

/// The length of the DER item at the start of `b`.
fn der_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 3 {
        return None;
    }
    let len = b
        .get(2..2 + n)?
        .iter()
        .fold(0usize, |acc, x| (acc << 8) | usize::from(*x));
    Some(2 + n + len)
}

impl RegisterResponse {
    /// Parses `0x05 | pubkey(65) | L | keyHandle | cert | sig`.
    pub fn from_bytes(b: &[u8]) -> Result<Self, Ctap1Error> {
        if b.first() != Some(&0x05) || b.len() < 67 {
            return Err(Ctap1Error::Malformed(
                "register answer lacks the 0x05 header",
            ));
        }
        let public_key = b[1..66].to_vec();
        let kh_len = usize::from(b[66]);
        let kh_end = 67 + kh_len;
        let key_handle = b
            .get(67..kh_end)
            .ok_or(Ctap1Error::Malformed("key handle is truncated"))?
            .to_vec();
        let rest = &b[kh_end..];
        let cert_len = der_len(rest).ok_or(Ctap1Error::Malformed("certificate is not DER"))?;
        let certificate = rest
            .get(..cert_len)
            .ok_or(Ctap1Error::Malformed("certificate is truncated"))?
            .to_vec();
        let signature = rest[cert_len..].to_vec();
        if signature.is_empty() {
            return Err(Ctap1Error::Malformed("signature is missing"));
        }
        Ok(RegisterResponse {
            public_key,
            key_handle,
            certificate,
            signature,
        })
    }

    /// The WebAuthn attestation object a browser builds for this answer (`fido-u2f`, §8.6).
    pub fn attestation_object(
        &self,
        rp_id_hash: [u8; 32],
    ) -> Result<(Vec<u8>, Vec<u8>), Ctap1Error> {
        let public_key = PublicKey::from_sec1_uncompressed(
            CoseAlgorithm::Es256,
            EcCurve::P256,
            &self.public_key,
        )
        .map_err(|_| Ctap1Error::Malformed("public key is not a P-256 point"))?;
        let auth_data = AuthenticatorData {
            rp_id_hash,
            flags: Flags(Flags::UP | Flags::AT),
            sign_count: 0,
            attested_credential_data: Some(AttestedCredentialData {
                aaguid: Aaguid::ZERO,
                credential_id: CredentialId::new(self.key_handle.clone())
                    .ok_or(Ctap1Error::Malformed("key handle too long"))?,
                public_key_cose: public_key.to_cose_bytes(),
                public_key,
            }),
            extensions: None,
        }
        .to_bytes();
        let att = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text("fido-u2f".into())),
            (
                Value::Text("attStmt".into()),
                Value::Map(vec![
                    (
                        Value::Text("sig".into()),
                        Value::Bytes(self.signature.clone()),
                    ),
                    (
                        Value::Text("x5c".into()),
                        Value::Array(vec![Value::Bytes(self.certificate.clone())]),
                    ),
                ]),
            ),
            (
                Value::Text("authData".into()),
                Value::Bytes(auth_data.clone()),
            ),
        ]);
        let bytes = cbor::encode(&att).map_err(|_| Ctap1Error::Malformed("cannot encode"))?;
        Ok((bytes, auth_data))
    }
}

impl AuthenticateResponse {
    /// Parses `presence | counter(4) | sig`.
    pub fn from_bytes(b: &[u8]) -> Result<Self, Ctap1Error> {
        if b.len() < 6 {
            return Err(Ctap1Error::Malformed("authenticate answer is too short"));
        }
        Ok(AuthenticateResponse {
            user_presence: b[0],
            counter: u32::from_be_bytes([b[1], b[2], b[3], b[4]]),
            signature: b[5..].to_vec(),
        })
    }

    /// The WebAuthn authenticator data a browser builds for this answer.
    pub fn auth_data(&self, rp_id_hash: [u8; 32]) -> Vec<u8> {
        let mut out = rp_id_hash.to_vec();
        out.push(self.user_presence & Flags::UP);
        out.extend_from_slice(&self.counter.to_be_bytes());
        out
    }
}

/// Sends `apdu`, repeating while the device answers "test of user presence required".
fn with_presence<D: CtapDevice + ?Sized>(
    device: &mut D,
    apdu: &Apdu,
    timeout: Duration,
    prompt: &mut dyn FnMut(),
) -> Result<Vec<u8>, Ctap1Error> {
    let start = Instant::now();
    let mut prompted = false;
    loop {
        let answer = device.msg(&apdu.to_bytes(), &mut |_| {})?;
        match split_status(&answer) {
            Err(Ctap1Error::Status(StatusWord::CONDITIONS_NOT_SATISFIED)) => {
                if !prompted {
                    prompted = true;
                    prompt();
                }
                if start.elapsed() >= timeout {
                    return Err(Ctap1Error::PresenceTimeout(timeout));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other.map(<[u8]>::to_vec),
        }
    }
}

/// U2F_REGISTER.
pub fn register<D: CtapDevice + ?Sized>(
    device: &mut D,
    challenge: [u8; 32],
    application: [u8; 32],
    timeout: Duration,
    prompt: &mut dyn FnMut(),
) -> Result<RegisterResponse, Ctap1Error> {
    let apdu = Apdu {
        cla: 0,
        ins: INS_REGISTER,
        p1: 0x03,
        p2: 0,
        data: [challenge, application].concat(),
    };
    RegisterResponse::from_bytes(&with_presence(device, &apdu, timeout, prompt)?)
}

/// U2F_AUTHENTICATE with user presence enforced.
pub fn authenticate<D: CtapDevice + ?Sized>(
    device: &mut D,
    challenge: [u8; 32],
    application: [u8; 32],
    key_handle: &[u8],
    timeout: Duration,
    prompt: &mut dyn FnMut(),
) -> Result<AuthenticateResponse, Ctap1Error> {
    let len = u8::try_from(key_handle.len())
        .map_err(|_| Ctap1Error::Malformed("key handle longer than 255 bytes"))?;
    let mut data = [challenge, application].concat();
    data.push(len);
    data.extend_from_slice(key_handle);
    let apdu = Apdu {
        cla: 0,
        ins: INS_AUTHENTICATE,
        p1: P1_ENFORCE_USER_PRESENCE,
        p2: 0,
        data,
    };
    AuthenticateResponse::from_bytes(&with_presence(device, &apdu, timeout, prompt)?)
}

/// U2F_VERSION.
pub fn version<D: CtapDevice + ?Sized>(device: &mut D) -> Result<String, Ctap1Error> {
    let apdu = Apdu {
        cla: 0,
        ins: INS_VERSION,
        p1: 0,
        p2: 0,
        data: Vec::new(),
    };
    let answer = device.msg(&apdu.to_bytes(), &mut |_| {})?;
    let body = split_status(&answer)?;
    Ok(String::from_utf8_lossy(body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apdu_forms() {
        // Extended length with Le.
        let a = Apdu::parse(&[0, 1, 3, 0, 0, 0, 2, 0xaa, 0xbb, 0, 0]).unwrap();
        assert_eq!((a.ins, a.p1, a.data.as_slice()), (1, 3, &[0xaa, 0xbb][..]));
        // Short with Le.
        let a = Apdu::parse(&[0, 2, 7, 0, 2, 0xaa, 0xbb, 0]).unwrap();
        assert_eq!(a.data, vec![0xaa, 0xbb]);
        // No data.
        assert!(Apdu::parse(&[0, 3, 0, 0]).unwrap().data.is_empty());
        assert!(Apdu::parse(&[0, 3, 0, 0, 0, 0, 0]).unwrap().data.is_empty());
        // Bad lengths.
        assert_eq!(Apdu::parse(&[0, 1]), Err(StatusWord::WRONG_LENGTH));
        assert_eq!(
            Apdu::parse(&[0, 1, 3, 0, 5, 1]),
            Err(StatusWord::WRONG_LENGTH)
        );
        assert_eq!(
            Apdu::parse(&[0, 1, 3, 0, 0, 0, 9, 1]),
            Err(StatusWord::WRONG_LENGTH)
        );
        let round = Apdu {
            cla: 0,
            ins: 2,
            p1: 3,
            p2: 0,
            data: vec![1; 300],
        };
        assert_eq!(Apdu::parse(&round.to_bytes()).unwrap(), round);
    }

    #[test]
    fn malformed_answers_are_typed() {
        assert!(RegisterResponse::from_bytes(&[0x04; 100]).is_err());
        assert!(RegisterResponse::from_bytes(&[0x05; 60]).is_err());
        let mut b = vec![0x05];
        b.extend_from_slice(&[4; 65]);
        b.push(3);
        b.extend_from_slice(&[1, 2, 3]);
        b.extend_from_slice(&[0x30, 0x82, 0xff]);
        assert!(RegisterResponse::from_bytes(&b).is_err());
        assert!(AuthenticateResponse::from_bytes(&[1, 0, 0]).is_err());
        assert_eq!(
            StatusWord(0x6985).to_string(),
            "6985 SW_CONDITIONS_NOT_SATISFIED"
        );
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = Apdu::parse(&bytes);
            let _ = RegisterResponse::from_bytes(&bytes);
            let _ = AuthenticateResponse::from_bytes(&bytes);
        }
    }
}
