//! ctapkit's test attestation CA: a self-signed P-256 CA and an attestation certificate that
//! meets the `packed` requirements (WebAuthn L3 §8.2.1: version 3; subject C, O,
//! OU "Authenticator Attestation", CN; CA false; id-fido-gen-ce-aaguid). Generated once per
//! emulator state — never a vendor's key. Relying parties that want to trust the emulator
//! add the CA (`ctapkit emulate --print-attestation-ca`) to their trust store.

use aws_lc_rs::signature::{self as sig};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};

use super::keys::KeyError;
use super::state::AttestationMaterial;
use crate::webauthn::{Aaguid, Base64Url};

fn err(e: impl std::fmt::Display) -> KeyError {
    KeyError(e.to_string())
}

/// Generates a CA and an attestation certificate for `aaguid`.
pub fn generate(aaguid: Aaguid, model: &str) -> Result<AttestationMaterial, KeyError> {
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::OrganizationName, "ctapkit");
    dn.push(
        DnType::OrganizationalUnitName,
        "Authenticator Attestation CA",
    );
    dn.push(
        DnType::CommonName,
        "ctapkit test attestation root (not a vendor CA)",
    );
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    ca_params.not_after = rcgen::date_time_ymd(2099, 12, 31);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;

    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::OrganizationName, "ctapkit");
    dn.push(DnType::OrganizationalUnitName, "Authenticator Attestation");
    dn.push(DnType::CommonName, format!("{model} attestation"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 12, 31);
    // id-fido-gen-ce-aaguid: OCTET STRING holding the AAGUID, not critical.
    let mut content = vec![0x04, 0x10];
    content.extend_from_slice(&aaguid.0);
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4],
            content,
        ));
    let issuer = Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&leaf_key, &issuer).map_err(err)?;
    Ok(AttestationMaterial {
        ca_cert: Base64Url(ca_cert.der().to_vec()),
        cert: Base64Url(cert.der().to_vec()),
        key: Base64Url(leaf_key.serialize_der()),
    })
}

/// Signs attestation statements with the attestation key.
pub struct Attester {
    key: sig::EcdsaKeyPair,
    material: AttestationMaterial,
}

impl Attester {
    /// Loads the material.
    pub fn new(material: AttestationMaterial) -> Result<Self, KeyError> {
        let key =
            sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &material.key.0)
                .map_err(err)?;
        Ok(Attester { key, material })
    }

    /// A DER ECDSA P-256/SHA-256 signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        Ok(self.key.sign(&rng, msg).map_err(err)?.as_ref().to_vec())
    }

    /// The attestation certificate (DER), the x5c chain's only element.
    pub fn cert(&self) -> &[u8] {
        &self.material.cert.0
    }

    /// The CA certificate as PEM.
    pub fn ca_pem(&self) -> String {
        pem(&self.material.ca_cert.0)
    }
}

/// PEM `CERTIFICATE` block for DER bytes.
pub fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
