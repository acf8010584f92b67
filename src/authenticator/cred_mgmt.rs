//! authenticatorCredentialManagement, the authenticator side (CTAP 2.1 §6.8): metadata,
//! enumeration of RPs and credentials, deletion and user-information updates of the
//! discoverable credentials, behind a pinUvAuthToken with the `cm` permission.
//!
//! The prototype command (0x41, CTAP 2.1-PRE) is answered the same way.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::keys::CredentialKey;
use super::state::StoredCredential;
use super::Authenticator;
use crate::cbor::{self, DecodeOptions, Value};
use crate::cose::CoseAlgorithm;
use crate::ctap2::client_pin::permission;
use crate::ctap2::{
    command, decode_body, CredProtect, CredentialManagementParams, CredentialManagementRequest,
    CredentialManagementResponse, CredentialManagementSubCommand as Sub, PinUvAuthProtocol,
    PublicKeyCredentialDescriptor, PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity,
    Request as _, Response as _, StatusCode,
};
use crate::webauthn::sha256;

/// How long a GetNext continuation may follow its Begin.
const ENUMERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a pinUvAuthToken stays usable (as for makeCredential and getAssertion).
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);
/// maxPossibleRemainingResidentCredentialsCount for profiles without a slot limit.
const UNLIMITED_REMAINING: u64 = u32::MAX as u64;

/// What enumerateRPsGetNextRP or enumerateCredentialsGetNextCredential continues (volatile:
/// forgotten on power-off, on any other command, and after [`ENUMERATION_TIMEOUT`]).
#[derive(Debug, Clone)]
pub(super) struct Enumeration {
    remaining: Remaining,
    issued: Instant,
}

#[derive(Debug, Clone)]
enum Remaining {
    /// RP IDs still to report.
    Rps(Vec<String>),
    /// Credential IDs still to report.
    Credentials(Vec<Vec<u8>>),
}

impl Authenticator {
    /// Forgets an unfinished enumeration when any command other than credential management
    /// arrives (§6.8.3, §6.8.4: the continuation must follow directly).
    pub(super) fn end_enumeration_unless_credential_management(&mut self, cmd: u8) {
        if cmd != command::CREDENTIAL_MANAGEMENT && cmd != command::CREDENTIAL_MANAGEMENT_PRE {
            self.volatile.cred_mgmt = None;
        }
    }

    /// authenticatorCredentialManagement (§6.8).
    pub(super) fn credential_management(
        &mut self,
        body: &[u8],
    ) -> Result<Option<Value>, StatusCode> {
        if !self.profile.credential_management {
            return Err(StatusCode::INVALID_COMMAND);
        }
        // Only a GetNext continues an enumeration; anything else ends it.
        let continuation = self.volatile.cred_mgmt.take();
        let req = CredentialManagementRequest::from_cbor(decode_body(body, false)?)?;
        let needs_token = !matches!(
            req.sub_command,
            Sub::EnumerateRpsGetNextRp | Sub::EnumerateCredentialsGetNextCredential | Sub::Other(_)
        );
        let bound_rp_id = if needs_token {
            self.check_cm_token(&req)?
        } else {
            None
        };
        let params = req.sub_command_params.as_ref();
        let response = match req.sub_command {
            Sub::GetCredsMetadata => {
                refuse_rp_bound(bound_rp_id.as_deref())?;
                self.creds_metadata()
            }
            Sub::EnumerateRpsBegin => {
                refuse_rp_bound(bound_rp_id.as_deref())?;
                self.enumerate_rps_begin()?
            }
            Sub::EnumerateRpsGetNextRp => self.enumerate_rps_next(continuation)?,
            Sub::EnumerateCredentialsBegin => {
                self.enumerate_credentials_begin(bound_rp_id.as_deref(), params)?
            }
            Sub::EnumerateCredentialsGetNextCredential => {
                self.enumerate_credentials_next(continuation)?
            }
            Sub::DeleteCredential => {
                self.delete_credential(bound_rp_id.as_deref(), params)?;
                CredentialManagementResponse::default()
            }
            Sub::UpdateUserInformation => {
                self.update_user_information(bound_rp_id.as_deref(), params)?;
                CredentialManagementResponse::default()
            }
            Sub::Other(_) => return Err(StatusCode::INVALID_SUBCOMMAND),
        };
        Ok(response.to_cbor())
    }

    /// Verifies pinUvAuthParam over `subCommand || subCommandParams` with the current token
    /// and the `cm` permission; returns the RP ID the token is bound to, if any.
    fn check_cm_token(
        &self,
        req: &CredentialManagementRequest,
    ) -> Result<Option<String>, StatusCode> {
        let param = req
            .pin_uv_auth_param
            .as_deref()
            .ok_or(StatusCode::PUAT_REQUIRED)?;
        let protocol = req
            .pin_uv_auth_protocol
            .ok_or(StatusCode::MISSING_PARAMETER)?;
        let protocol = PinUvAuthProtocol::try_from(protocol)
            .ok()
            .filter(|p| self.profile.pin_protocols.contains(&p.value()) || self.profile.builtin_uv)
            .ok_or(StatusCode::INVALID_PARAMETER)?;
        let message = req
            .pin_uv_auth_message()
            .map_err(|_| StatusCode::INVALID_PARAMETER)?;
        let token = self
            .volatile
            .token
            .as_ref()
            .ok_or(StatusCode::PIN_AUTH_INVALID)?;
        if token.protocol != protocol || !protocol.verify(&token.token, &message, param) {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        if token.permissions & permission::CREDENTIAL_MANAGEMENT == 0
            || token.issued.elapsed() > TOKEN_LIFETIME
        {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        Ok(token.rp_id.clone())
    }

    fn discoverable(&self) -> impl Iterator<Item = &StoredCredential> {
        self.state.credentials.iter().filter(|c| c.discoverable)
    }

    /// §6.8.2 getCredsMetadata.
    fn creds_metadata(&self) -> CredentialManagementResponse {
        let existing = self.discoverable().count();
        let remaining = match self.profile.discoverable_slots {
            Some(slots) => slots.saturating_sub(existing) as u64,
            None => UNLIMITED_REMAINING,
        };
        CredentialManagementResponse {
            existing_resident_credentials_count: Some(existing as u64),
            max_possible_remaining_resident_credentials_count: Some(remaining),
            ..Default::default()
        }
    }

    /// The RPs with discoverable credentials, by RP ID, with the first name stored for each.
    fn rps(&self) -> BTreeMap<String, Option<String>> {
        let mut rps: BTreeMap<String, Option<String>> = BTreeMap::new();
        for c in self.discoverable() {
            let name = rps.entry(c.rp_id.clone()).or_default();
            if name.is_none() {
                name.clone_from(&c.rp_name);
            }
        }
        rps
    }

    fn rp_response(id: &str, name: Option<String>) -> CredentialManagementResponse {
        CredentialManagementResponse {
            rp: Some(PublicKeyCredentialRpEntity {
                id: id.to_string(),
                name,
            }),
            rp_id_hash: Some(sha256(id.as_bytes()).to_vec()),
            ..Default::default()
        }
    }

    /// §6.8.3 enumerateRPsBegin.
    fn enumerate_rps_begin(&mut self) -> Result<CredentialManagementResponse, StatusCode> {
        let rps = self.rps();
        let total = rps.len() as u64;
        let mut ids = rps.into_iter();
        let (first, name) = ids.next().ok_or(StatusCode::NO_CREDENTIALS)?;
        let rest: Vec<String> = ids.map(|(id, _)| id).collect();
        if !rest.is_empty() {
            self.volatile.cred_mgmt = Some(Enumeration {
                remaining: Remaining::Rps(rest),
                issued: Instant::now(),
            });
        }
        Ok(CredentialManagementResponse {
            total_rps: Some(total),
            ..Self::rp_response(&first, name)
        })
    }

    /// §6.8.3 enumerateRPsGetNextRP.
    fn enumerate_rps_next(
        &mut self,
        continuation: Option<Enumeration>,
    ) -> Result<CredentialManagementResponse, StatusCode> {
        let Some(Enumeration {
            remaining: Remaining::Rps(mut ids),
            issued,
        }) = continuation
        else {
            return Err(StatusCode::NOT_ALLOWED);
        };
        if issued.elapsed() > ENUMERATION_TIMEOUT || ids.is_empty() {
            return Err(StatusCode::NOT_ALLOWED);
        }
        let id = ids.remove(0);
        let name = self.rps().remove(&id).ok_or(StatusCode::NOT_ALLOWED)?;
        if !ids.is_empty() {
            self.volatile.cred_mgmt = Some(Enumeration {
                remaining: Remaining::Rps(ids),
                issued,
            });
        }
        Ok(Self::rp_response(&id, name))
    }

    fn credential_response(
        cred: &StoredCredential,
    ) -> Result<CredentialManagementResponse, StatusCode> {
        let key = CredentialKey::from_pkcs8(CoseAlgorithm::from_i64(cred.alg), &cred.private_key.0)
            .map_err(|_| StatusCode::OTHER)?;
        let public_key = key.public_key().map_err(|_| StatusCode::OTHER)?;
        let public_key = cbor::decode(&public_key.to_cose_bytes(), DecodeOptions::STRUCTURAL)
            .map_err(|_| StatusCode::OTHER)?;
        Ok(CredentialManagementResponse {
            user: Some(PublicKeyCredentialUserEntity {
                id: cred.user_id.0.clone(),
                name: cred.user_name.clone(),
                display_name: cred.user_display_name.clone(),
            }),
            credential_id: Some(PublicKeyCredentialDescriptor::public_key(cred.id.0.clone())),
            public_key: Some(public_key),
            cred_protect: CredProtect::from_u64(u64::from(cred.cred_protect))
                .or(Some(CredProtect::UserVerificationOptional)),
            large_blob_key: cred.large_blob_key.as_ref().map(|k| k.0.clone()),
            ..Default::default()
        })
    }

    /// §6.8.4 enumerateCredentialsBegin.
    fn enumerate_credentials_begin(
        &mut self,
        bound_rp_id: Option<&str>,
        params: Option<&CredentialManagementParams>,
    ) -> Result<CredentialManagementResponse, StatusCode> {
        let rp_id_hash = params
            .and_then(|p| p.rp_id_hash.as_deref())
            .ok_or(StatusCode::MISSING_PARAMETER)?;
        if let Some(bound) = bound_rp_id {
            if sha256(bound.as_bytes()).as_slice() != rp_id_hash {
                return Err(StatusCode::PIN_AUTH_INVALID);
            }
        }
        let mut creds: Vec<&StoredCredential> = self
            .discoverable()
            .filter(|c| sha256(c.rp_id.as_bytes()).as_slice() == rp_id_hash)
            .collect();
        creds.sort_by_key(|c| c.created);
        let total = creds.len() as u64;
        let first = creds.first().ok_or(StatusCode::NO_CREDENTIALS)?;
        let response = Self::credential_response(first)?;
        let rest: Vec<Vec<u8>> = creds.iter().skip(1).map(|c| c.id.0.clone()).collect();
        if !rest.is_empty() {
            self.volatile.cred_mgmt = Some(Enumeration {
                remaining: Remaining::Credentials(rest),
                issued: Instant::now(),
            });
        }
        Ok(CredentialManagementResponse {
            total_credentials: Some(total),
            ..response
        })
    }

    /// §6.8.4 enumerateCredentialsGetNextCredential.
    fn enumerate_credentials_next(
        &mut self,
        continuation: Option<Enumeration>,
    ) -> Result<CredentialManagementResponse, StatusCode> {
        let Some(Enumeration {
            remaining: Remaining::Credentials(mut ids),
            issued,
        }) = continuation
        else {
            return Err(StatusCode::NOT_ALLOWED);
        };
        if issued.elapsed() > ENUMERATION_TIMEOUT || ids.is_empty() {
            return Err(StatusCode::NOT_ALLOWED);
        }
        let id = ids.remove(0);
        let cred = self
            .discoverable()
            .find(|c| c.id.0 == id)
            .ok_or(StatusCode::NOT_ALLOWED)?;
        let response = Self::credential_response(cred)?;
        if !ids.is_empty() {
            self.volatile.cred_mgmt = Some(Enumeration {
                remaining: Remaining::Credentials(ids),
                issued,
            });
        }
        Ok(response)
    }

    /// The discoverable credential `params` names, if the token may manage it.
    fn managed_credential(
        &self,
        bound_rp_id: Option<&str>,
        params: Option<&CredentialManagementParams>,
    ) -> Result<usize, StatusCode> {
        let id = params
            .and_then(|p| p.credential_id.as_ref())
            .ok_or(StatusCode::MISSING_PARAMETER)?;
        let (pos, cred) = self
            .state
            .credentials
            .iter()
            .enumerate()
            .find(|(_, c)| c.discoverable && c.id.0 == id.id)
            .ok_or(StatusCode::NO_CREDENTIALS)?;
        if bound_rp_id.is_some_and(|bound| bound != cred.rp_id) {
            return Err(StatusCode::PIN_AUTH_INVALID);
        }
        Ok(pos)
    }

    /// §6.8.5 deleteCredential.
    fn delete_credential(
        &mut self,
        bound_rp_id: Option<&str>,
        params: Option<&CredentialManagementParams>,
    ) -> Result<(), StatusCode> {
        let pos = self.managed_credential(bound_rp_id, params)?;
        self.state.credentials.remove(pos);
        Ok(())
    }

    /// §6.8.6 updateUserInformation: the user handle must match; name and displayName are
    /// replaced, and removed when absent or empty.
    fn update_user_information(
        &mut self,
        bound_rp_id: Option<&str>,
        params: Option<&CredentialManagementParams>,
    ) -> Result<(), StatusCode> {
        let user = params
            .and_then(|p| p.user.as_ref())
            .ok_or(StatusCode::MISSING_PARAMETER)?;
        let pos = self.managed_credential(bound_rp_id, params)?;
        let cred = self
            .state
            .credentials
            .get_mut(pos)
            .ok_or(StatusCode::NO_CREDENTIALS)?;
        if cred.user_id.0 != user.id {
            return Err(StatusCode::INVALID_PARAMETER);
        }
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        cred.user_name = non_empty(&user.name);
        cred.user_display_name = non_empty(&user.display_name);
        Ok(())
    }
}

/// getCredsMetadata and enumerateRPsBegin cover every RP: a token bound to one RP may not be
/// used (§6.8.2, §6.8.3).
fn refuse_rp_bound(bound_rp_id: Option<&str>) -> Result<(), StatusCode> {
    match bound_rp_id {
        Some(_) => Err(StatusCode::PIN_AUTH_INVALID),
        None => Ok(()),
    }
}
