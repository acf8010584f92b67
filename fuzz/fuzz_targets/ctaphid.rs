//! CTAPHID framing on arbitrary reports: `Packet::parse` and the `Assembler`, and the
//! device-side server answering a stream of arbitrary reports (it must never panic, and
//! every answer it writes must itself be a well-formed 64-byte packet).
#![no_main]

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use ctapkit::authenticator::hid_server::{Handler, HidServer, Presence};
use ctapkit::ctaphid::{Assembler, Packet};
use ctapkit::transport::ReportIo;
use libfuzzer_sys::fuzz_target;

struct Echo;
impl Handler for Echo {
    fn cbor(&mut self, request: &[u8], presence: &mut dyn Presence) -> Vec<u8> {
        let _ = presence.tick(ctapkit::ctaphid::KeepaliveStatus::Processing);
        let mut out = vec![0];
        out.extend_from_slice(request);
        out
    }
    fn msg(&mut self, apdu: &[u8], _presence: &mut dyn Presence) -> Option<Vec<u8>> {
        Some(apdu.to_vec())
    }
    fn capabilities(&self) -> u8 {
        0x05
    }
}

struct Script {
    inbox: VecDeque<Vec<u8>>,
}
impl ReportIo for Script {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        assert_eq!(report.len(), 64);
        assert!(Packet::parse(report).is_ok());
        Ok(())
    }
    fn read_report(&mut self, _timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        match self.inbox.pop_front() {
            Some(r) => Ok(Some(r)),
            None => Err(io::Error::new(io::ErrorKind::BrokenPipe, "done")),
        }
    }
    fn describe(&self) -> String {
        "fuzz".into()
    }
}

fuzz_target!(|data: &[u8]| {
    let reports: Vec<Vec<u8>> = data.chunks(64).map(|c| {
        let mut r = c.to_vec();
        r.resize(64, 0);
        r
    }).collect();
    let mut asm = Assembler::new(64);
    for r in &reports {
        if let Ok(p) = Packet::parse(r) {
            let _ = asm.push(&p);
        }
    }
    let mut io = Script { inbox: reports.into() };
    let _ = HidServer::new(Echo, Default::default()).run(&mut io);
});
