use super::*;
use crate::cose::{CoseAlgorithm, EcCurve};
use proptest::prelude::*;

/// The RFC 9052 C.7.1 P-256 key as a WebAuthn credential key.
fn key() -> (PublicKey, Vec<u8>) {
    let x =
        hex::decode("65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d").unwrap();
    let y =
        hex::decode("1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c").unwrap();
    let k = PublicKey::from_ec_coordinates(CoseAlgorithm::Es256, EcCurve::P256, &x, &y).unwrap();
    let cose = k.to_cose_bytes();
    (k, cose)
}

fn sample(id_len: usize, flags: u8, ext: Option<Value>) -> AuthenticatorData {
    let (public_key, public_key_cose) = key();
    AuthenticatorData {
        rp_id_hash: crate::webauthn::sha256(b"example.org"),
        flags: Flags(flags),
        sign_count: 0x01020304,
        attested_credential_data: (flags & Flags::AT != 0).then(|| AttestedCredentialData {
            aaguid: Aaguid([0xab; 16]),
            credential_id: CredentialId::new(vec![7; id_len]).unwrap(),
            public_key,
            public_key_cose,
        }),
        extensions: ext,
    }
}

#[test]
fn round_trip_with_attested_data_and_extensions() {
    let ext = Value::Map(vec![(Value::Text("credProtect".into()), Value::from(2))]);
    let ad = sample(16, Flags::UP | Flags::UV | Flags::AT | Flags::ED, Some(ext));
    let bytes = ad.to_bytes();
    let back = AuthenticatorData::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.sign_count, 0x01020304);
    assert_eq!(back.flags.to_string(), "UP UV AT ED");
    let acd = back.attested_credential_data.unwrap();
    assert_eq!(acd.credential_id.as_bytes(), &[7; 16]);
    assert_eq!(
        acd.aaguid.to_string(),
        "abababab-abab-abab-abab-abababababab"
    );
}

#[test]
fn parse_failures_are_typed() {
    let good = sample(16, Flags::UP | Flags::AT, None).to_bytes();
    type Check = fn(&AuthDataError) -> bool;
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (good[..36].to_vec(), |e| {
            matches!(e, AuthDataError::TooShort(36))
        }),
        (good[..50].to_vec(), |e| {
            matches!(e, AuthDataError::TruncatedAttestedData(_))
        }),
        (good[..60].to_vec(), |e| {
            matches!(e, AuthDataError::TruncatedAttestedData(_))
        }),
        (good[..good.len() - 1].to_vec(), |e| {
            matches!(e, AuthDataError::PublicKey(_))
        }),
        ([good.as_slice(), &[0]].concat(), |e| {
            matches!(e, AuthDataError::TrailingBytes(1))
        }),
        (
            {
                let mut b = good.clone();
                b[32] |= Flags::ED;
                b
            },
            |e| matches!(e, AuthDataError::MissingExtensions),
        ),
        (
            {
                let mut b = good.clone();
                b[32] |= Flags::ED;
                b.push(0x01);
                b
            },
            |e| matches!(e, AuthDataError::ExtensionsNotAMap),
        ),
        (
            {
                let mut b = good.clone();
                b[53] = 0x04;
                b[54] = 0x00;
                b
            },
            |e| matches!(e, AuthDataError::CredentialIdTooLong(1024)),
        ),
        (
            {
                let mut b = good[..37].to_vec();
                b[32] = Flags::UP | Flags::AT;
                b
            },
            |e| matches!(e, AuthDataError::TruncatedAttestedData(37)),
        ),
    ];
    for (i, (bytes, check)) in cases.into_iter().enumerate() {
        let err = AuthenticatorData::from_bytes(&bytes).unwrap_err();
        assert!(check(&err), "case {i}: {err:?}");
    }
}

#[test]
fn longest_credential_id_is_accepted() {
    let ad = sample(1023, Flags::UP | Flags::AT, None);
    let back = AuthenticatorData::from_bytes(&ad.to_bytes()).unwrap();
    assert_eq!(
        back.attested_credential_data
            .unwrap()
            .credential_id
            .as_bytes()
            .len(),
        1023
    );
    assert!(CredentialId::new(vec![0; 1024]).is_none());
}

#[test]
fn aaguid_text_form() {
    let g = Aaguid::parse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").unwrap();
    assert_eq!(g.to_string(), "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4");
    assert!(Aaguid::parse("ea9b8d66").is_none());
    assert_eq!(Flags(0).to_string(), "-");
}

proptest! {
    #[test]
    fn encode_parse_round_trip(id_len in 0usize..=1023, flags in any::<u8>(), count in any::<u32>(), ext in any::<bool>()) {
        let flags = if ext { flags | Flags::ED } else { flags & !Flags::ED };
        let extension = ext.then(|| Value::Map(vec![(Value::Text("x".into()), Value::from(1))]));
        let mut ad = sample(id_len, flags, extension);
        ad.sign_count = count;
        let bytes = ad.to_bytes();
        let back = AuthenticatorData::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.to_bytes(), bytes);
        prop_assert_eq!(back.flags, ad.flags);
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = AuthenticatorData::from_bytes(&bytes);
    }

    #[test]
    fn aaguid_round_trip(raw in any::<[u8; 16]>()) {
        let g = Aaguid(raw);
        prop_assert_eq!(Aaguid::parse(&g.to_string()), Some(g));
    }
}
