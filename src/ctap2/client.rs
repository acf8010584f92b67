//! The typed CTAP2 client over any [`CtapDevice`]: sends requests, decodes answers, reports
//! non-canonical CBOR from the device (strict mode), and runs the PIN flows.

use crate::cbor::{self, DecodeOptions};
use crate::ctaphid::KeepaliveStatus;
use crate::transport::{CtapDevice, TransportError};

use super::client_pin;
use super::{
    encode_request, ClientPinRequest, ClientPinResponse, EcdhPublicKey, GetAssertionRequest,
    GetAssertionResponse, GetInfoRequest, GetInfoResponse, GetNextAssertionRequest,
    MakeCredentialRequest, MakeCredentialResponse, PinProtocolError, PinUvAuthProtocol, Request,
    ResetRequest, Response as _, SelectionRequest, StatusCode,
};

/// A CTAP2 exchange that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The authenticator answered with an error status.
    #[error("the authenticator answered {0}: {desc}", desc = .0.description())]
    Status(StatusCode),
    /// The answer is empty (no status byte).
    #[error("the authenticator sent an empty answer")]
    EmptyAnswer,
    /// The answer body is not valid CBOR or not the expected structure.
    #[error("the authenticator's answer cannot be decoded: {0}")]
    Decode(String),
    /// The answer is valid CBOR but not CTAP2 canonical (strict mode).
    #[error("{0}")]
    NonCanonical(NonCanonical),
    /// PIN protocol crypto failed.
    #[error("PIN protocol: {0}")]
    Pin(#[from] PinProtocolError),
}

/// A device answer that is not CTAP2 canonical CBOR, with the byte diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonCanonical {
    /// The command byte the answer belongs to.
    pub command: u8,
    /// What the canonical decoder said.
    pub reason: String,
    /// First offset where the answer and its canonical re-encoding differ.
    pub offset: usize,
    /// The answer's bytes around `offset` (hex).
    pub actual: String,
    /// The canonical encoding's bytes around `offset` (hex).
    pub canonical: String,
}

impl std::fmt::Display for NonCanonical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "answer to command 0x{:02x} is not CTAP2 canonical CBOR ({}); first difference at byte {}:\n  device:    {}\n  canonical: {}",
            self.command, self.reason, self.offset, self.actual, self.canonical
        )
    }
}

/// Compares `body` with its canonical re-encoding; `None` when canonical.
pub fn canonical_diff(command: u8, body: &[u8]) -> Option<NonCanonical> {
    let reason = match cbor::check_canonical(body) {
        Ok(()) => return None,
        Err(e) => e.to_string(),
    };
    let canonical = cbor::decode(body, DecodeOptions::STRUCTURAL)
        .ok()
        .and_then(|v| cbor::encode(&v).ok())
        .unwrap_or_default();
    let offset = body
        .iter()
        .zip(&canonical)
        .position(|(a, b)| a != b)
        .unwrap_or(body.len().min(canonical.len()));
    let window = |b: &[u8]| {
        let start = offset.saturating_sub(4);
        let end = (offset + 12).min(b.len());
        if start >= end {
            String::from("(end)")
        } else {
            let mut s = String::new();
            if start > 0 {
                s.push_str("… ");
            }
            for (i, byte) in b[start..end].iter().enumerate() {
                if start + i == offset {
                    s.push('[');
                }
                s.push_str(&format!("{byte:02x}"));
                if start + i == offset {
                    s.push(']');
                }
                s.push(' ');
            }
            s.trim_end().to_string()
        }
    };
    Some(NonCanonical {
        command,
        reason,
        offset,
        actual: window(body),
        canonical: window(&canonical),
    })
}

/// A CTAP2 client on `D`.
pub struct Ctap2<D: CtapDevice> {
    device: D,
    strict: bool,
    findings: Vec<NonCanonical>,
    keepalive: Box<dyn FnMut(KeepaliveStatus) + Send>,
}

impl<D: CtapDevice> Ctap2<D> {
    /// A client on `device` (lenient: non-canonical answers are recorded, not refused).
    pub fn new(device: D) -> Self {
        Ctap2 {
            device,
            strict: false,
            findings: Vec::new(),
            keepalive: Box::new(|_| {}),
        }
    }

    /// Refuses non-canonical answers ([`ClientError::NonCanonical`]).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Calls `f` for every keepalive (e.g. to print "touch your key").
    pub fn on_keepalive(mut self, f: impl FnMut(KeepaliveStatus) + Send + 'static) -> Self {
        self.keepalive = Box::new(f);
        self
    }

    /// Non-canonical answers seen so far.
    pub fn findings(&self) -> &[NonCanonical] {
        &self.findings
    }

    /// The device.
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// Sends `request` and decodes the typed response.
    pub fn send<R: Request>(&mut self, request: &R) -> Result<R::Response, ClientError> {
        let body = encode_request(request);
        let answer = self.device.cbor(&body, &mut *self.keepalive)?;
        let (&status, rest) = answer.split_first().ok_or(ClientError::EmptyAnswer)?;
        if status != 0 {
            return Err(ClientError::Status(StatusCode(status)));
        }
        if !rest.is_empty() {
            if let Some(finding) = canonical_diff(R::CMD, rest) {
                self.findings.push(finding.clone());
                if self.strict {
                    return Err(ClientError::NonCanonical(finding));
                }
            }
        }
        let value = super::decode_body(rest, false)
            .map_err(|s| ClientError::Decode(format!("invalid CBOR ({s})")))?;
        R::Response::from_cbor(value).map_err(|s| ClientError::Decode(s.to_string()))
    }

    /// authenticatorGetInfo.
    pub fn get_info(&mut self) -> Result<GetInfoResponse, ClientError> {
        self.send(&GetInfoRequest)
    }

    /// authenticatorMakeCredential.
    pub fn make_credential(
        &mut self,
        request: &MakeCredentialRequest,
    ) -> Result<MakeCredentialResponse, ClientError> {
        self.send(request)
    }

    /// authenticatorGetAssertion.
    pub fn get_assertion(
        &mut self,
        request: &GetAssertionRequest,
    ) -> Result<GetAssertionResponse, ClientError> {
        self.send(request)
    }

    /// authenticatorGetNextAssertion.
    pub fn get_next_assertion(&mut self) -> Result<GetAssertionResponse, ClientError> {
        self.send(&GetNextAssertionRequest)
    }

    /// authenticatorReset.
    pub fn reset(&mut self) -> Result<(), ClientError> {
        self.send(&ResetRequest).map(|_| ())
    }

    /// authenticatorSelection.
    pub fn selection(&mut self) -> Result<(), ClientError> {
        self.send(&SelectionRequest).map(|_| ())
    }

    /// authenticatorClientPIN.
    pub fn client_pin(
        &mut self,
        request: &ClientPinRequest,
    ) -> Result<ClientPinResponse, ClientError> {
        self.send(request)
    }

    /// getKeyAgreement + encapsulate: (platform key, shared secret).
    pub fn shared_secret(
        &mut self,
        protocol: PinUvAuthProtocol,
    ) -> Result<(EcdhPublicKey, Vec<u8>), ClientError> {
        let response = self.client_pin(&client_pin::get_key_agreement(protocol))?;
        let peer = response.key_agreement.ok_or_else(|| {
            ClientError::Decode("getKeyAgreement answer lacks keyAgreement".into())
        })?;
        Ok(protocol.encapsulate(&peer)?)
    }

    /// PIN retries left.
    pub fn pin_retries(&mut self, protocol: PinUvAuthProtocol) -> Result<u64, ClientError> {
        let r = self.client_pin(&client_pin::get_pin_retries(protocol))?;
        r.pin_retries
            .ok_or_else(|| ClientError::Decode("getPINRetries answer lacks pinRetries".into()))
    }

    /// Sets the first PIN.
    pub fn set_pin(&mut self, protocol: PinUvAuthProtocol, pin: &str) -> Result<(), ClientError> {
        let (key, shared) = self.shared_secret(protocol)?;
        self.client_pin(&client_pin::set_pin(protocol, &shared, &key, pin)?)
            .map(|_| ())
    }

    /// Changes the PIN.
    pub fn change_pin(
        &mut self,
        protocol: PinUvAuthProtocol,
        current: &str,
        new: &str,
    ) -> Result<(), ClientError> {
        let (key, shared) = self.shared_secret(protocol)?;
        self.client_pin(&client_pin::change_pin(
            protocol, &shared, &key, current, new,
        )?)
        .map(|_| ())
    }

    /// A pinUvAuthToken with `permissions` for `rp_id`, using the PIN
    /// (getPinUvAuthTokenUsingPinWithPermissions; getPinToken on CTAP 2.0 devices).
    pub fn pin_token(
        &mut self,
        protocol: PinUvAuthProtocol,
        pin: &str,
        permissions: u64,
        rp_id: Option<&str>,
        ctap21: bool,
    ) -> Result<PinUvAuthToken, ClientError> {
        let (key, shared) = self.shared_secret(protocol)?;
        let request = if ctap21 {
            client_pin::get_pin_uv_auth_token_using_pin_with_permissions(
                protocol,
                &shared,
                &key,
                pin,
                permissions,
                rp_id,
            )?
        } else {
            client_pin::get_pin_token(protocol, &shared, &key, pin)?
        };
        let response = self.client_pin(&request)?;
        let encrypted = response
            .pin_uv_auth_token
            .ok_or_else(|| ClientError::Decode("answer lacks pinUvAuthToken".into()))?;
        let token = client_pin::decrypt_token(protocol, &shared, &encrypted)?;
        Ok(PinUvAuthToken { protocol, token })
    }

    /// A pinUvAuthToken using built-in user verification.
    pub fn uv_token(
        &mut self,
        protocol: PinUvAuthProtocol,
        permissions: u64,
        rp_id: Option<&str>,
    ) -> Result<PinUvAuthToken, ClientError> {
        let (key, shared) = self.shared_secret(protocol)?;
        let request = client_pin::get_pin_uv_auth_token_using_uv_with_permissions(
            protocol,
            &key,
            permissions,
            rp_id,
        );
        let response = self.client_pin(&request)?;
        let encrypted = response
            .pin_uv_auth_token
            .ok_or_else(|| ClientError::Decode("answer lacks pinUvAuthToken".into()))?;
        let token = client_pin::decrypt_token(protocol, &shared, &encrypted)?;
        Ok(PinUvAuthToken { protocol, token })
    }

    /// authenticatorCredentialManagement (§6.8): `sub_command` with `params`, authenticated
    /// with `token` (a pinUvAuthToken with the `cm` permission; `None` for the GetNext
    /// continuations, which carry no pinUvAuthParam).
    pub fn credential_management(
        &mut self,
        token: Option<&PinUvAuthToken>,
        sub_command: super::CredentialManagementSubCommand,
        params: Option<super::CredentialManagementParams>,
    ) -> Result<super::CredentialManagementResponse, ClientError> {
        let mut request = super::CredentialManagementRequest {
            sub_command_params: params,
            ..super::CredentialManagementRequest::new(sub_command)
        };
        if let Some(token) = token {
            let message = request.pin_uv_auth_message().map_err(|e| {
                ClientError::Decode(format!("subCommandParams cannot be encoded: {e}"))
            })?;
            request.pin_uv_auth_protocol = Some(u64::from(token.protocol.value()));
            request.pin_uv_auth_param = Some(token.protocol.authenticate(&token.token, &message));
        }
        self.send(&request)
    }

    /// getCredsMetadata (§6.8.2): how many discoverable credentials the device holds and
    /// how many more fit.
    pub fn creds_metadata(&mut self, token: &PinUvAuthToken) -> Result<CredsMetadata, ClientError> {
        let r = self.credential_management(
            Some(token),
            super::CredentialManagementSubCommand::GetCredsMetadata,
            None,
        )?;
        let missing =
            |what: &str| ClientError::Decode(format!("getCredsMetadata answer lacks {what}"));
        Ok(CredsMetadata {
            existing: r
                .existing_resident_credentials_count
                .ok_or_else(|| missing("existingResidentCredentialsCount"))?,
            remaining: r
                .max_possible_remaining_resident_credentials_count
                .ok_or_else(|| missing("maxPossibleRemainingResidentCredentialsCount"))?,
        })
    }

    /// enumerateRPsBegin + enumerateRPsGetNextRP (§6.8.3): every RP with discoverable
    /// credentials and the SHA-256 of its RP ID. Empty when the device answers
    /// CTAP2_ERR_NO_CREDENTIALS.
    pub fn enumerate_rps(
        &mut self,
        token: &PinUvAuthToken,
    ) -> Result<Vec<(super::PublicKeyCredentialRpEntity, Vec<u8>)>, ClientError> {
        use super::CredentialManagementSubCommand as Sub;
        let first = match self.credential_management(Some(token), Sub::EnumerateRpsBegin, None) {
            Err(ClientError::Status(StatusCode::NO_CREDENTIALS)) => return Ok(Vec::new()),
            other => other?,
        };
        let total = first
            .total_rps
            .ok_or_else(|| ClientError::Decode("enumerateRPsBegin answer lacks totalRPs".into()))?;
        let entry = |r: super::CredentialManagementResponse| match (r.rp, r.rp_id_hash) {
            (Some(rp), Some(hash)) => Ok((rp, hash)),
            _ => Err(ClientError::Decode(
                "enumerateRPs answer lacks rp or rpIDHash".into(),
            )),
        };
        let mut rps = vec![entry(first)?];
        for _ in 1..total {
            rps.push(entry(self.credential_management(
                None,
                Sub::EnumerateRpsGetNextRp,
                None,
            )?)?);
        }
        Ok(rps)
    }

    /// enumerateCredentialsBegin + enumerateCredentialsGetNextCredential (§6.8.4): the
    /// discoverable credentials of the RP whose RP ID hashes to `rp_id_hash`. Empty when the
    /// device answers CTAP2_ERR_NO_CREDENTIALS.
    pub fn enumerate_credentials(
        &mut self,
        token: &PinUvAuthToken,
        rp_id_hash: &[u8],
    ) -> Result<Vec<ManagedCredential>, ClientError> {
        use super::CredentialManagementSubCommand as Sub;
        let params = super::CredentialManagementParams {
            rp_id_hash: Some(rp_id_hash.to_vec()),
            ..Default::default()
        };
        let first = match self.credential_management(
            Some(token),
            Sub::EnumerateCredentialsBegin,
            Some(params),
        ) {
            Err(ClientError::Status(StatusCode::NO_CREDENTIALS)) => return Ok(Vec::new()),
            other => other?,
        };
        let total = first.total_credentials.ok_or_else(|| {
            ClientError::Decode("enumerateCredentialsBegin answer lacks totalCredentials".into())
        })?;
        let mut creds = vec![ManagedCredential::from_response(first)?];
        for _ in 1..total {
            let next =
                self.credential_management(None, Sub::EnumerateCredentialsGetNextCredential, None)?;
            creds.push(ManagedCredential::from_response(next)?);
        }
        Ok(creds)
    }

    /// deleteCredential (§6.8.5).
    pub fn delete_credential(
        &mut self,
        token: &PinUvAuthToken,
        credential_id: &[u8],
    ) -> Result<(), ClientError> {
        let params = super::CredentialManagementParams {
            credential_id: Some(super::PublicKeyCredentialDescriptor::public_key(
                credential_id.to_vec(),
            )),
            ..Default::default()
        };
        self.credential_management(
            Some(token),
            super::CredentialManagementSubCommand::DeleteCredential,
            Some(params),
        )
        .map(|_| ())
    }

    /// updateUserInformation (§6.8.6): `user.id` must be the credential's user handle; its
    /// name and displayName replace the stored ones (absent or empty ones are removed).
    pub fn update_user(
        &mut self,
        token: &PinUvAuthToken,
        credential_id: &[u8],
        user: &super::PublicKeyCredentialUserEntity,
    ) -> Result<(), ClientError> {
        let params = super::CredentialManagementParams {
            credential_id: Some(super::PublicKeyCredentialDescriptor::public_key(
                credential_id.to_vec(),
            )),
            user: Some(user.clone()),
            ..Default::default()
        };
        self.credential_management(
            Some(token),
            super::CredentialManagementSubCommand::UpdateUserInformation,
            Some(params),
        )
        .map(|_| ())
    }
}

/// A decrypted pinUvAuthToken and its protocol.
#[derive(Clone)]
pub struct PinUvAuthToken {
    /// The protocol the token belongs to.
    pub protocol: PinUvAuthProtocol,
    /// The token.
    pub token: Vec<u8>,
}

impl PinUvAuthToken {
    /// pinUvAuthParam over `client_data_hash` (makeCredential / getAssertion).
    pub fn auth_param(&self, client_data_hash: &[u8]) -> Vec<u8> {
        self.protocol.authenticate(&self.token, client_data_hash)
    }
}

impl std::fmt::Debug for PinUvAuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PinUvAuthToken({:?}, …)", self.protocol)
    }
}

/// getCredsMetadata's answer (§6.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredsMetadata {
    /// existingResidentCredentialsCount.
    pub existing: u64,
    /// maxPossibleRemainingResidentCredentialsCount.
    pub remaining: u64,
}

/// One discoverable credential as enumerateCredentials reports it (§6.8.4).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedCredential {
    /// The user account.
    pub user: super::PublicKeyCredentialUserEntity,
    /// The credential.
    pub credential_id: super::PublicKeyCredentialDescriptor,
    /// The credential public key, a COSE_Key map as sent.
    pub public_key: cbor::Value,
    /// credProtect level, if reported.
    pub cred_protect: Option<super::CredProtect>,
    /// largeBlobKey, if the credential has one.
    pub large_blob_key: Option<Vec<u8>>,
}

impl ManagedCredential {
    fn from_response(r: super::CredentialManagementResponse) -> Result<Self, ClientError> {
        let missing =
            |what: &str| ClientError::Decode(format!("enumerateCredentials answer lacks {what}"));
        Ok(ManagedCredential {
            user: r.user.ok_or_else(|| missing("user"))?,
            credential_id: r.credential_id.ok_or_else(|| missing("credentialID"))?,
            public_key: r.public_key.ok_or_else(|| missing("publicKey"))?,
            cred_protect: r.cred_protect,
            large_blob_key: r.large_blob_key,
        })
    }

    /// The public key, parsed.
    pub fn parsed_public_key(&self) -> Result<crate::cose::PublicKey, crate::cose::CoseError> {
        let bytes = cbor::encode(&self.public_key).unwrap_or_default();
        crate::cose::PublicKey::from_cose_bytes(&bytes)
    }
}
