//! CtapHid against scripted byte-level peers (one layer: the CTAPHID client).

use super::*;
use std::collections::VecDeque;

type Answer = Box<dyn FnMut(&Message) -> Vec<Vec<u8>> + Send>;

/// A peer that answers each written message with scripted reports.
struct Scripted {
    /// For each request message the client completes, the reports to answer with.
    answers: VecDeque<Answer>,
    inbox: VecDeque<Vec<u8>>,
    assembler: Assembler,
    written: Vec<Message>,
}

impl Scripted {
    fn new() -> Self {
        Scripted {
            answers: VecDeque::new(),
            inbox: VecDeque::new(),
            assembler: Assembler::new(64),
            written: Vec::new(),
        }
    }
    fn then(mut self, f: impl FnMut(&Message) -> Vec<Vec<u8>> + Send + 'static) -> Self {
        self.answers.push_back(Box::new(f));
        self
    }
}

impl ReportIo for Scripted {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        assert_eq!(report.len(), 64, "reports are always 64 bytes");
        let packet = Packet::parse(report).unwrap();
        if let Some(msg) = self.assembler.push(&packet).unwrap() {
            self.written.push(msg.clone());
            if let Some(mut f) = self.answers.pop_front() {
                self.inbox.extend(f(&msg));
            }
        }
        Ok(())
    }
    fn read_report(&mut self, _timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        Ok(self.inbox.pop_front())
    }
    fn describe(&self) -> String {
        "scripted".into()
    }
}

fn reports(cid: u32, cmd: Command, payload: &[u8]) -> Vec<Vec<u8>> {
    Message::new(cid, cmd, payload.to_vec())
        .to_packets(64)
        .unwrap()
}

const CID: u32 = 0x0a0b_0c0d;

fn init_answer(caps: u8) -> impl FnMut(&Message) -> Vec<Vec<u8>> + Send {
    move |req: &Message| {
        assert_eq!(req.cid, BROADCAST_CID);
        assert_eq!(req.cmd, Command::Init);
        assert_eq!(req.payload.len(), 8);
        let mut other_nonce = req.payload.clone();
        other_nonce[0] ^= 0xff;
        let other = InitResponse {
            nonce: other_nonce.try_into().unwrap(),
            cid: 0x1111_1111,
            protocol_version: 2,
            major: 0,
            minor: 0,
            build: 0,
            capabilities: caps,
        };
        let ours = InitResponse {
            nonce: req.payload.clone().try_into().unwrap(),
            cid: CID,
            protocol_version: 2,
            major: 1,
            minor: 2,
            build: 3,
            capabilities: caps,
        };
        // Another client's answer first: it must be ignored.
        [
            reports(BROADCAST_CID, Command::Init, &other.to_bytes()),
            reports(BROADCAST_CID, Command::Init, &ours.to_bytes()),
        ]
        .concat()
    }
}

#[test]
fn init_ignores_other_nonces_and_allocates_the_channel() {
    let io = Scripted::new().then(init_answer(ctaphid::capability::CBOR));
    let hid = CtapHid::open(io).unwrap();
    assert_eq!(hid.cid(), CID);
    assert_eq!(hid.init_response().major, 1);
}

#[test]
fn keepalives_are_reported_and_other_channels_ignored() {
    let io = Scripted::new()
        .then(init_answer(ctaphid::capability::CBOR))
        .then(|req| {
            assert_eq!((req.cid, req.cmd), (CID, Command::Cbor));
            [
                reports(CID, Command::Keepalive, &[1]),
                reports(CID, Command::Keepalive, &[2]),
                reports(0x1111_1111, Command::Cbor, &[0x31]),
                reports(CID, Command::Cbor, &[0x00, 0xa0]),
            ]
            .concat()
        });
    let mut hid = CtapHid::open(io).unwrap();
    let mut seen = Vec::new();
    let answer = hid.cbor(&[0x04], &mut |s| seen.push(s)).unwrap();
    assert_eq!(answer, vec![0x00, 0xa0]);
    assert_eq!(
        seen,
        vec![KeepaliveStatus::Processing, KeepaliveStatus::UpNeeded]
    );
}

#[test]
fn channel_busy_is_retried() {
    let io = Scripted::new()
        .then(init_answer(ctaphid::capability::CBOR))
        .then(|_| reports(CID, Command::Error, &[0x06]))
        .then(|_| reports(CID, Command::Error, &[0x06]))
        .then(|_| reports(CID, Command::Ping, b"pong"));
    let mut hid = CtapHid::open(io).unwrap();
    assert_eq!(hid.ping(b"ping").unwrap(), b"pong");
    assert_eq!(hid.io_mut().written.len(), 4);
}

#[test]
fn hid_errors_and_wrong_answers_are_typed() {
    let io = Scripted::new()
        .then(init_answer(ctaphid::capability::CBOR))
        .then(|_| reports(CID, Command::Error, &[0x04]))
        .then(|_| reports(CID, Command::Msg, &[0x90, 0x00]));
    let mut hid = CtapHid::open(io).unwrap();
    assert!(matches!(
        hid.ping(b"x"),
        Err(TransportError::Hid(HidError::InvalidSeq))
    ));
    assert!(matches!(hid.ping(b"x"), Err(TransportError::Unexpected(_))));
}

#[test]
fn silence_is_a_timeout_and_capabilities_are_honoured() {
    let io = Scripted::new().then(init_answer(ctaphid::capability::NMSG));
    let mut hid = CtapHid::open(io).unwrap();
    hid.set_silence_timeout(Duration::from_millis(50));
    assert!(matches!(hid.ping(b"x"), Err(TransportError::Timeout(_))));
    assert!(matches!(
        hid.cbor(&[4], &mut |_| {}),
        Err(TransportError::Unsupported(_))
    ));
    assert!(matches!(
        hid.msg(&[0], &mut |_| {}),
        Err(TransportError::Unsupported(_))
    ));
    assert!(matches!(hid.wink(), Err(TransportError::Unsupported(_))));
}

#[test]
fn cancel_sends_ctaphid_cancel_on_the_channel() {
    let io = Scripted::new()
        .then(init_answer(ctaphid::capability::CBOR))
        .then(|_| reports(CID, Command::Keepalive, &[2]))
        .then(|req| {
            assert_eq!((req.cid, req.cmd), (CID, Command::Cancel));
            reports(CID, Command::Cbor, &[0x2d])
        });
    let mut hid = CtapHid::open(io).unwrap();
    let cancel = hid.cancel_handle();
    let answer = hid
        .cbor(&[0x01], &mut |status| {
            assert_eq!(status, KeepaliveStatus::UpNeeded);
            cancel.cancel();
        })
        .unwrap();
    assert_eq!(answer, vec![0x2d], "CTAP2_ERR_KEEPALIVE_CANCEL");
}

#[test]
fn device_specs_parse() {
    assert_eq!("hid".parse(), Ok(DeviceSpec::Hid));
    assert_eq!(
        "hid:/dev/hidraw3".parse(),
        Ok(DeviceSpec::HidPath("/dev/hidraw3".into()))
    );
    assert_eq!(
        "udp:127.0.0.1:8111".parse(),
        Ok(DeviceSpec::Udp("127.0.0.1:8111".parse().unwrap()))
    );
    assert_eq!(
        "emulator".parse(),
        Ok(DeviceSpec::Emulator("security-key".into()))
    );
    assert_eq!(
        "emulator:ios".parse(),
        Ok(DeviceSpec::Emulator("ios".into()))
    );
    assert!("usb"
        .parse::<DeviceSpec>()
        .unwrap_err()
        .contains("emulator[:PROFILE]"));
    assert!("udp:nohost".parse::<DeviceSpec>().is_err());
}
