//! In-process loopback: the software authenticator runs on its own thread behind the real
//! device-side CTAPHID server, and every request and answer crosses as 64-byte reports.

use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use super::{CtapHid, ReportIo, TransportError};
use crate::authenticator::hid_server::{Handler, HidFaults, HidServer};

/// One end of an in-memory report pipe.
pub struct ChannelReports {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
    name: String,
}

/// Two connected ends: (host, device).
pub fn pair(name: &str) -> (ChannelReports, ChannelReports) {
    let (to_device, from_host) = mpsc::channel();
    let (to_host, from_device) = mpsc::channel();
    (
        ChannelReports {
            tx: to_device,
            rx: from_device,
            name: name.to_string(),
        },
        ChannelReports {
            tx: to_host,
            rx: from_host,
            name: format!("{name} (device side)"),
        },
    )
}

impl ReportIo for ChannelReports {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        self.tx
            .send(report.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the peer is gone"))
    }

    fn read_report(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => Ok(Some(r)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the device disconnected",
            )),
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Starts `handler` behind a CTAPHID server on a thread and connects a client to it.
pub fn connect<H: Handler + 'static>(
    name: &str,
    handler: H,
    faults: HidFaults,
) -> Result<CtapHid<ChannelReports>, TransportError> {
    let (host, mut device) = pair(name);
    std::thread::Builder::new()
        .name(format!("ctapkit-{name}"))
        .spawn(move || {
            let mut server = HidServer::new(handler, faults);
            // Ends when the host end is dropped.
            let _ = server.run(&mut device);
        })
        .map_err(TransportError::Io)?;
    CtapHid::open(host)
}
