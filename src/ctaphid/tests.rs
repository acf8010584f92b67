use super::*;
use proptest::prelude::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

#[test]
fn init_request_on_the_broadcast_channel_matches_the_spec_layout() {
    // CTAP 2.1 §11.2.9.1.3: CID ffffffff, CMD 0x86, BCNT 0008, 8-byte nonce, zero padding.
    let m = Message::new(BROADCAST_CID, Command::Init, h("0102030405060708"));
    let packets = m.to_packets(64).unwrap();
    assert_eq!(packets.len(), 1);
    let mut expected = h("ffffffff 86 0008 0102030405060708");
    expected.resize(64, 0);
    assert_eq!(packets[0], expected);
    let p = Packet::parse(&packets[0]).unwrap();
    assert_eq!(
        p,
        Packet::Init {
            cid: BROADCAST_CID,
            cmd: Command::Init,
            bcnt: 8,
            data: &expected[7..]
        }
    );
}

#[test]
fn init_response_layout() {
    let r = InitResponse {
        nonce: [1, 2, 3, 4, 5, 6, 7, 8],
        cid: 0x0102_0304,
        protocol_version: 2,
        major: 5,
        minor: 4,
        build: 3,
        capabilities: capability::WINK | capability::CBOR,
    };
    let bytes = r.to_bytes();
    assert_eq!(hex::encode(&bytes), "0102030405060708010203040205040305");
    assert_eq!(InitResponse::from_bytes(&bytes), Some(r));
    assert_eq!(InitResponse::from_bytes(&bytes[..16]), None);
}

#[test]
fn message_sizes_at_the_boundaries() {
    assert_eq!(max_message_len(64), 7609);
    for (len, packets) in [
        (0, 1),
        (57, 1),
        (58, 2),
        (57 + 59, 2),
        (57 + 60, 3),
        (7609, 129),
    ] {
        let m = Message::new(0x1234_5678, Command::Cbor, vec![0xa5; len]);
        let reports = m.to_packets(64).unwrap();
        assert_eq!(reports.len(), packets, "len {len}");
        assert!(reports.iter().all(|r| r.len() == 64));
        let mut asm = Assembler::new(64);
        let mut out = None;
        for r in &reports {
            out = asm.push(&Packet::parse(r).unwrap()).unwrap();
        }
        assert_eq!(out, Some(m), "len {len}");
    }
    let too_long = Message::new(1, Command::Cbor, vec![0; 7610]);
    assert_eq!(
        too_long.to_packets(64),
        Err(FramingError::TooLong {
            len: 7610,
            max: 7609
        })
    );
    // The last continuation sequence number is 127.
    let reports = Message::new(1, Command::Cbor, vec![0; 7609])
        .to_packets(64)
        .unwrap();
    assert_eq!(reports[128][4], 127);
}

#[test]
fn sequence_errors() {
    let reports = Message::new(7, Command::Cbor, vec![1; 150])
        .to_packets(64)
        .unwrap();
    let mut asm = Assembler::new(64);
    asm.push(&Packet::parse(&reports[0]).unwrap()).unwrap();
    // Skipping seq 0.
    let err = asm.push(&Packet::parse(&reports[2]).unwrap()).unwrap_err();
    assert_eq!(
        err,
        AssembleError::InvalidSeq {
            expected: Some(0),
            got: 1
        }
    );
    assert_eq!(err.hid_error(), HidError::InvalidSeq);
    // A continuation with nothing open.
    let err = asm.push(&Packet::parse(&reports[1]).unwrap()).unwrap_err();
    assert_eq!(
        err,
        AssembleError::InvalidSeq {
            expected: None,
            got: 0
        }
    );
    // A new INIT resynchronises.
    asm.push(&Packet::parse(&reports[0]).unwrap()).unwrap();
    assert_eq!(asm.open_channel(), Some(7));
    asm.push(&Packet::parse(&reports[1]).unwrap()).unwrap();
    let done = asm.push(&Packet::parse(&reports[2]).unwrap()).unwrap();
    assert_eq!(done.unwrap().payload, vec![1; 150]);
    // Declared length above the maximum.
    let mut bad = reports[0].clone();
    bad[5] = 0x1d;
    bad[6] = 0xba; // 7610
    assert_eq!(
        asm.push(&Packet::parse(&bad).unwrap()),
        Err(AssembleError::InvalidLen(7610))
    );
}

#[test]
fn error_and_keepalive_codes_round_trip() {
    for code in 0u8..=255 {
        assert_eq!(HidError::from_u8(code).to_u8(), code);
        assert_eq!(KeepaliveStatus::from_u8(code).to_u8(), code);
    }
    for cmd in 0u8..=0x7f {
        assert_eq!(Command::from_u8(cmd).to_u8(), cmd);
    }
    assert_eq!(HidError::ChannelBusy.to_string(), "0x06 ERR_CHANNEL_BUSY");
    assert_eq!(Command::from_u8(0x90), Command::Cbor);
    assert_eq!(
        PacketError::TooShort(3),
        Packet::parse(&[0; 3]).unwrap_err()
    );
}

proptest! {
    #[test]
    fn split_then_assemble_is_identity(
        payload in proptest::collection::vec(any::<u8>(), 0..2000),
        cid in any::<u32>(),
        cmd in 0u8..0x80,
        report_size in 8usize..=64,
    ) {
        let m = Message::new(cid, Command::from_u8(cmd), payload);
        if m.payload.len() > max_message_len(report_size) {
            prop_assert!(m.to_packets(report_size).is_err());
        } else {
            let mut asm = Assembler::new(report_size);
            let mut out = None;
            for r in m.to_packets(report_size).unwrap() {
                prop_assert!(out.is_none());
                out = asm.push(&Packet::parse(&r).unwrap()).unwrap();
            }
            prop_assert_eq!(out, Some(m));
        }
    }

    #[test]
    fn assembler_never_panics(reports in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..20)) {
        let mut asm = Assembler::new(64);
        for r in &reports {
            if let Ok(p) = Packet::parse(r) {
                let _ = asm.push(&p);
            }
        }
    }
}
