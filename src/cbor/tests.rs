use super::*;
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

fn int(i: i64) -> Value {
    Value::from(i)
}

#[test]
fn integers_use_the_shortest_form() {
    // (value, canonical encoding) — RFC 8949 Appendix A examples.
    let table: &[(i64, &str)] = &[
        (0, "00"),
        (23, "17"),
        (24, "1818"),
        (255, "18ff"),
        (256, "190100"),
        (65535, "19ffff"),
        (65536, "1a00010000"),
        (4294967295, "1affffffff"),
        (4294967296, "1b0000000100000000"),
        (-1, "20"),
        (-24, "37"),
        (-25, "3818"),
        (-256, "38ff"),
        (-257, "390100"),
        (-1000, "3903e7"),
    ];
    for (v, enc) in table {
        assert_eq!(hex::encode(encode(&int(*v)).unwrap()), *enc, "encoding {v}");
        assert_eq!(
            decode(&h(enc), DecodeOptions::CANONICAL).unwrap(),
            int(*v),
            "decoding {enc}"
        );
    }
}

#[test]
fn map_keys_follow_ctap2_canonical_order() {
    // CTAP 2.1 §8 (canonical CBOR) example order: 10, 100, -1, "z", "aa", false.
    let shuffled = Value::Map(vec![
        (Value::Bool(false), int(0)),
        (Value::Text("aa".into()), int(0)),
        (int(-1), int(0)),
        (Value::Text("z".into()), int(0)),
        (int(100), int(0)),
        (int(10), int(0)),
    ]);
    let bytes = encode(&shuffled).unwrap();
    assert_eq!(
        hex::encode(&bytes),
        concat!(
            "a6", // map(6)
            "0a00", "186400", "2000", "617a00", "62616100", "f400"
        )
    );
    check_canonical(&bytes).unwrap();
}

#[test]
fn cose_key_labels_order_is_1_3_minus1_minus2_minus3() {
    // A BTreeMap<i64, _> would give -3, -2, -1, 1, 3 — not canonical.
    let key = Value::Map(vec![
        (int(-3), Value::Bytes(vec![2; 2])),
        (int(-2), Value::Bytes(vec![1; 2])),
        (int(-1), int(1)),
        (int(3), int(-7)),
        (int(1), int(2)),
    ]);
    let bytes = encode(&key).unwrap();
    assert_eq!(
        hex::encode(&bytes),
        concat!(
            "a5",       // map(5)
            "0102",     // 1 (kty): 2 (EC2)
            "0326",     // 3 (alg): -7 (ES256)
            "2001",     // -1 (crv): 1 (P-256)
            "21420101", // -2 (x)
            "22420202", // -3 (y)
        )
    );
}

#[test]
fn text_keys_of_the_attestation_object_sort_by_length() {
    let att = Value::Map(vec![
        (Value::Text("authData".into()), Value::Bytes(vec![])),
        (Value::Text("attStmt".into()), Value::Map(vec![])),
        (Value::Text("fmt".into()), Value::Text("none".into())),
    ]);
    let bytes = encode(&att).unwrap();
    let (first, _) = decode_prefix(&bytes[1..], DecodeOptions::CANONICAL).unwrap();
    assert_eq!(first, Value::Text("fmt".into()));
    check_canonical(&bytes).unwrap();
}

#[test]
fn decode_failures_say_what_and_where() {
    use DecodeErrorKind::*;
    let table: &[(&str, usize, DecodeErrorKind)] = &[
        ("", 0, Truncated),
        ("18", 0, Truncated),
        ("4401", 0, Truncated),
        ("0000", 1, TrailingBytes),
        ("5f4101ff", 0, IndefiniteLength),
        ("9f01ff", 0, IndefiniteLength),
        ("bf0101ff", 0, IndefiniteLength),
        ("1c", 0, ReservedAdditionalInfo(28)),
        ("a201010102", 3, DuplicateMapKey),
        ("c11a514b67b0", 0, Tag(1)),
        ("f93c00", 0, Float),
        ("fb3ff199999999999a", 0, Float),
        ("f7", 0, UnsupportedSimpleValue(23)),
        ("f820", 0, UnsupportedSimpleValue(32)),
        ("62c328", 0, InvalidUtf8),
        (
            "9bffffffffffffffff",
            0,
            ItemTooLarge {
                len: u64::MAX,
                max: 1 << 20,
            },
        ),
        ("9a00100000", 0, Truncated),
    ];
    for (input, offset, kind) in table {
        let err = decode(&h(input), DecodeOptions::STRUCTURAL).unwrap_err();
        assert_eq!((err.offset, &err.kind), (*offset, kind), "input {input}");
    }
    // Out-of-order keys are accepted structurally, rejected canonically.
    let out_of_order = h("a2020101 01");
    assert!(decode(&out_of_order, DecodeOptions::STRUCTURAL).is_ok());
    let err = decode(&out_of_order, DecodeOptions::CANONICAL).unwrap_err();
    assert_eq!((err.offset, err.kind), (3, MapKeysOutOfOrder));
    // A duplicate hidden behind a non-shortest key encoding is still a duplicate.
    let err = decode(&h("a3 01 00 02 00 1801 00"), DecodeOptions::STRUCTURAL).unwrap_err();
    assert_eq!((err.offset, err.kind), (5, DuplicateMapKey));
}

#[test]
fn canonical_mode_rejects_non_shortest_forms() {
    for input in [
        "1817",
        "190017",
        "1a000000ff",
        "1b00000000ffffffff",
        "5801ff",
        "3817",
    ] {
        let err = decode(&h(input), DecodeOptions::CANONICAL).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::NonShortestForm, "input {input}");
        assert!(decode(&h(input), DecodeOptions::STRUCTURAL).is_ok());
    }
}

#[test]
fn nesting_is_limited() {
    let mut deep = vec![0x81u8; 17];
    deep.push(0x00);
    let err = decode(&deep, DecodeOptions::STRUCTURAL).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::TooDeep { max_depth: 16 });
    assert_eq!(err.offset, 16);
    let ok = [vec![0x81u8; 16], vec![0x00]].concat();
    assert!(decode(&ok, DecodeOptions::STRUCTURAL).is_ok());
}

#[test]
fn oversize_items_are_rejected_before_allocation() {
    let opts = DecodeOptions {
        max_item_len: 8,
        ..DecodeOptions::STRUCTURAL
    };
    let err = decode(&h("49 000102030405060708"), opts).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::ItemTooLarge { len: 9, max: 8 });
    // A huge declared map count on a short input is truncation, not an allocation.
    let err = decode(&h("ba000fffff"), DecodeOptions::STRUCTURAL).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::Truncated);
}

#[test]
fn encode_refuses_tags_floats_and_duplicates() {
    assert_eq!(encode(&Value::Float(1.5)), Err(EncodeError::Float));
    assert_eq!(
        encode(&Value::Tag(1, Box::new(int(0)))),
        Err(EncodeError::Tag)
    );
    let dup = Value::Map(vec![(int(1), int(1)), (int(1), int(2))]);
    assert_eq!(encode(&dup), Err(EncodeError::DuplicateMapKey));
}

#[test]
fn int_map_builder_and_lookup() {
    let v = IntMap::new()
        .insert(3, "three")
        .insert(1, 1)
        .insert_opt(2, None::<i64>)
        .insert(-1, Value::Bytes(vec![1]))
        .into_value();
    let bytes = encode(&v).unwrap();
    assert_eq!(hex::encode(&bytes), "a3010103657468726565204101");
    let Value::Map(m) = decode(&bytes, DecodeOptions::CANONICAL).unwrap() else {
        unreachable!()
    };
    assert_eq!(m.get_int(3), Some(&Value::Text("three".into())));
    assert_eq!(m.get_int(2), None);
    assert_eq!(m.get_text("x"), None);
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        ".{0,20}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(any::<i64>(), inner.clone(), 0..8)
                .prop_map(|m| Value::Map(m.into_iter().map(|(k, v)| (k.into(), v)).collect())),
            proptest::collection::btree_map("[a-z]{0,6}", inner, 0..8).prop_map(|m| Value::Map(
                m.into_iter().map(|(k, v)| (Value::Text(k), v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity_up_to_key_order(v in arb_value()) {
        let bytes = encode(&v).unwrap();
        let back = decode(&bytes, DecodeOptions::CANONICAL).unwrap();
        // Canonical re-encoding of the decoded value is byte-identical.
        prop_assert_eq!(encode(&back).unwrap(), bytes);
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode(&bytes, DecodeOptions::CANONICAL);
        let _ = decode(&bytes, DecodeOptions::STRUCTURAL);
    }
}
