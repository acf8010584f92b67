use super::*;

fn obj(entries: Vec<(&str, Value)>) -> Vec<u8> {
    cbor::encode(&Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.into()), v))
            .collect(),
    ))
    .unwrap()
}

fn min_auth_data() -> Vec<u8> {
    let mut a = vec![0u8; 37];
    a[32] = 0x01;
    a
}

#[test]
fn attestation_object_members_are_checked() {
    let ok = obj(vec![
        ("fmt", Value::Text("none".into())),
        ("attStmt", Value::Map(vec![])),
        ("authData", Value::Bytes(min_auth_data())),
    ]);
    let a = AttestationObject::from_bytes(&ok).unwrap();
    assert_eq!(a.fmt, "none");
    assert!(a.auth_data.attested_credential_data.is_none());

    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0xa0, 0x00], "CBOR"),
        (
            obj(vec![
                ("attStmt", Value::Map(vec![])),
                ("authData", Value::Bytes(min_auth_data())),
            ]),
            "fmt",
        ),
        (
            obj(vec![
                ("fmt", Value::from(1)),
                ("attStmt", Value::Map(vec![])),
                ("authData", Value::Bytes(min_auth_data())),
            ]),
            "fmt",
        ),
        (
            obj(vec![
                ("fmt", Value::Text("none".into())),
                ("authData", Value::Bytes(min_auth_data())),
            ]),
            "attStmt",
        ),
        (
            obj(vec![
                ("fmt", Value::Text("none".into())),
                ("attStmt", Value::Map(vec![])),
                ("authData", Value::Text("x".into())),
            ]),
            "authData",
        ),
        (
            obj(vec![
                ("fmt", Value::Text("none".into())),
                ("attStmt", Value::Map(vec![])),
                ("authData", Value::Bytes(vec![0; 10])),
            ]),
            "authenticator data",
        ),
    ];
    for (bytes, needle) in cases {
        let err = AttestationObject::from_bytes(&bytes).unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "{err} should mention {needle}"
        );
    }
    assert!(matches!(
        AttestationObject::from_bytes(&[0x80]),
        Err(AttestationObjectError::Member(_))
    ));
}

#[test]
fn format_names_round_trip() {
    for f in AttestationFormat::ALL {
        assert_eq!(AttestationFormat::from_fmt(f.as_str()), Some(f));
    }
    assert_eq!(AttestationFormat::from_fmt("android-safetynet"), None);
}
