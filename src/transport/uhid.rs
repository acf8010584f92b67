//! A virtual USB HID FIDO device through Linux's `/dev/uhid` (kernel `uhid` module), so that
//! browsers and other FIDO tools see the software authenticator as a plugged-in key.
//!
//! The event layout follows `include/uapi/linux/uhid.h`: a `u32` type, then the
//! request, packed, in native byte order; every write is one whole `struct uhid_event`
//! (4376 bytes). Only plain file reads and writes are needed.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use super::ReportIo;

/// The HID report descriptor of a FIDO authenticator (CTAP 2.1 §11.2.8.1): usage page
/// 0xF1D0, usage 0x01, 64-byte input and output reports without report IDs.
pub const FIDO_REPORT_DESCRIPTOR: [u8; 34] = [
    0x06, 0xd0, 0xf1, // Usage Page (FIDO Alliance)
    0x09, 0x01, // Usage (CTAPHID)
    0xa1, 0x01, // Collection (Application)
    0x09, 0x20, //   Usage (Input Report Data)
    0x15, 0x00, //   Logical Minimum (0)
    0x26, 0xff, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //   Report Size (8)
    0x95, 0x40, //   Report Count (64)
    0x81, 0x02, //   Input (Data, Var, Abs)
    0x09, 0x21, //   Usage (Output Report Data)
    0x15, 0x00, //   Logical Minimum (0)
    0x26, 0xff, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //   Report Size (8)
    0x95, 0x40, //   Report Count (64)
    0x91, 0x02, //   Output (Data, Var, Abs)
    0xc0, // End Collection
];

/// `UHID_DATA_MAX`.
pub const DATA_MAX: usize = 4096;
/// `sizeof(struct uhid_event)`: the type plus the largest request (`uhid_create2_req`).
pub const EVENT_SIZE: usize = 4 + 128 + 64 + 64 + 2 + 2 + 4 + 4 + 4 + 4 + DATA_MAX;

const UHID_DESTROY: u32 = 1;
const UHID_START: u32 = 2;
const UHID_STOP: u32 = 3;
const UHID_OPEN: u32 = 4;
const UHID_CLOSE: u32 = 5;
const UHID_OUTPUT: u32 = 6;
const UHID_CREATE2: u32 = 11;
const UHID_INPUT2: u32 = 12;
/// `BUS_USB`.
const BUS_USB: u16 = 0x03;

/// An event from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UhidEvent {
    /// The device was started by the HID layer.
    Start,
    /// The device was stopped.
    Stop,
    /// A program opened the hidraw node.
    Open,
    /// The last program closed it.
    Close,
    /// An output report (a CTAPHID packet from the host), without the report-number byte.
    Output(Vec<u8>),
    /// Any other event type.
    Other(u32),
}

/// A malformed event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed uhid event: {0}")]
pub struct UhidError(pub &'static str);

/// `UHID_CREATE2` for a FIDO device called `name`.
pub fn encode_create2(name: &str, vendor: u32, product: u32) -> Vec<u8> {
    let mut ev = vec![0u8; EVENT_SIZE];
    ev[..4].copy_from_slice(&UHID_CREATE2.to_ne_bytes());
    let mut o = 4;
    let name = name.as_bytes();
    let n = name.len().min(127);
    ev[o..o + n].copy_from_slice(&name[..n]);
    o += 128 + 64 + 64; // name, phys, uniq
    ev[o..o + 2].copy_from_slice(&(FIDO_REPORT_DESCRIPTOR.len() as u16).to_ne_bytes());
    o += 2;
    ev[o..o + 2].copy_from_slice(&BUS_USB.to_ne_bytes());
    o += 2;
    ev[o..o + 4].copy_from_slice(&vendor.to_ne_bytes());
    o += 4;
    ev[o..o + 4].copy_from_slice(&product.to_ne_bytes());
    o += 4;
    ev[o..o + 4].copy_from_slice(&1u32.to_ne_bytes()); // version
    o += 4 + 4; // country 0
    ev[o..o + FIDO_REPORT_DESCRIPTOR.len()].copy_from_slice(&FIDO_REPORT_DESCRIPTOR);
    ev
}

/// `UHID_INPUT2` carrying one input report (a CTAPHID packet to the host).
pub fn encode_input2(report: &[u8]) -> Vec<u8> {
    let mut ev = vec![0u8; EVENT_SIZE];
    ev[..4].copy_from_slice(&UHID_INPUT2.to_ne_bytes());
    let n = report.len().min(DATA_MAX);
    ev[4..6].copy_from_slice(&(n as u16).to_ne_bytes());
    ev[6..6 + n].copy_from_slice(&report[..n]);
    ev
}

/// `UHID_DESTROY`.
pub fn encode_destroy() -> Vec<u8> {
    let mut ev = vec![0u8; EVENT_SIZE];
    ev[..4].copy_from_slice(&UHID_DESTROY.to_ne_bytes());
    ev
}

/// Decodes an event read from /dev/uhid.
pub fn decode_event(ev: &[u8]) -> Result<UhidEvent, UhidError> {
    let ty = ev
        .get(..4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(UhidError("shorter than the event type"))?;
    Ok(match ty {
        UHID_START => UhidEvent::Start,
        UHID_STOP => UhidEvent::Stop,
        UHID_OPEN => UhidEvent::Open,
        UHID_CLOSE => UhidEvent::Close,
        UHID_OUTPUT => {
            // struct uhid_output_req { __u8 data[UHID_DATA_MAX]; __u16 size; __u8 rtype; }
            let size_at = 4 + DATA_MAX;
            let size = ev
                .get(size_at..size_at + 2)
                .map(|b| usize::from(u16::from_ne_bytes([b[0], b[1]])))
                .ok_or(UhidError("output event is truncated"))?;
            if size > DATA_MAX {
                return Err(UhidError("output size exceeds UHID_DATA_MAX"));
            }
            let data = &ev[4..4 + size];
            // Unnumbered reports arrive with the report number 0 in front.
            let report = match data.split_first() {
                Some((0, rest)) => rest.to_vec(),
                _ => data.to_vec(),
            };
            UhidEvent::Output(report)
        }
        other => UhidEvent::Other(other),
    })
}

/// The virtual device: reports to and from the kernel.
pub struct UhidReports {
    file: File,
    events: Receiver<io::Result<Vec<u8>>>,
}

impl UhidReports {
    /// Creates the virtual device on `path` (normally /dev/uhid).
    pub fn create(path: &Path, name: &str) -> io::Result<Self> {
        let mut file = OpenOptions::new().read(true).write(true).open(path)?;
        file.write_all(&encode_create2(name, 0x1209, 0x000a))?;
        let mut reader = file.try_clone()?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("ctapkit-uhid".into())
            .spawn(move || loop {
                let mut buf = vec![0u8; EVENT_SIZE];
                let r = reader.read(&mut buf).map(|n| {
                    buf.truncate(n);
                    buf
                });
                let stop = r.is_err();
                if tx.send(r).is_err() || stop {
                    return;
                }
            })?;
        Ok(UhidReports { file, events: rx })
    }
}

impl ReportIo for UhidReports {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        self.file.write_all(&encode_input2(report))
    }

    fn read_report(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        match self.events.recv_timeout(timeout) {
            Ok(Ok(ev)) => match decode_event(&ev) {
                Ok(UhidEvent::Output(report)) => Ok(Some(report)),
                Ok(_) => Ok(None),
                Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            },
            Ok(Err(e)) => Err(e),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "/dev/uhid reader stopped",
            )),
        }
    }

    fn describe(&self) -> String {
        "uhid virtual FIDO device".into()
    }
}

impl Drop for UhidReports {
    fn drop(&mut self) {
        let _ = self.file.write_all(&encode_destroy());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_descriptor_declares_the_fido_usage_page_and_64_byte_reports() {
        assert_eq!(
            &FIDO_REPORT_DESCRIPTOR[..5],
            &[0x06, 0xd0, 0xf1, 0x09, 0x01]
        );
        // Report Count 64 for both input and output items.
        let counts = FIDO_REPORT_DESCRIPTOR
            .windows(2)
            .filter(|w| w == &[0x95, 0x40])
            .count();
        assert_eq!(counts, 2);
        assert_eq!(FIDO_REPORT_DESCRIPTOR.last(), Some(&0xc0));
    }

    #[test]
    fn event_layouts_match_linux_uhid_h() {
        assert_eq!(EVENT_SIZE, 4376);
        let c = encode_create2("ctapkit", 0x1209, 0x000a);
        assert_eq!(c.len(), EVENT_SIZE);
        assert_eq!(u32::from_ne_bytes([c[0], c[1], c[2], c[3]]), 11);
        assert_eq!(&c[4..11], b"ctapkit");
        // rd_size at 4 + 256, bus after it, then vendor and product.
        assert_eq!(u16::from_ne_bytes([c[260], c[261]]), 34);
        assert_eq!(u16::from_ne_bytes([c[262], c[263]]), 3);
        assert_eq!(u32::from_ne_bytes([c[264], c[265], c[266], c[267]]), 0x1209);
        assert_eq!(&c[280..314], &FIDO_REPORT_DESCRIPTOR);
        let i = encode_input2(&[0xab; 64]);
        assert_eq!(u32::from_ne_bytes([i[0], i[1], i[2], i[3]]), 12);
        assert_eq!(u16::from_ne_bytes([i[4], i[5]]), 64);
        assert_eq!(&i[6..70], &[0xab; 64]);
    }

    #[test]
    fn output_events_decode_without_the_report_number() {
        let mut ev = vec![0u8; EVENT_SIZE];
        ev[..4].copy_from_slice(&6u32.to_ne_bytes());
        ev[4] = 0; // report number
        ev[5..69].copy_from_slice(&[0x11; 64]);
        ev[4 + DATA_MAX..4 + DATA_MAX + 2].copy_from_slice(&65u16.to_ne_bytes());
        assert_eq!(decode_event(&ev), Ok(UhidEvent::Output(vec![0x11; 64])));
        let mut open = vec![0u8; 8];
        open[..4].copy_from_slice(&4u32.to_ne_bytes());
        assert_eq!(decode_event(&open), Ok(UhidEvent::Open));
        assert!(decode_event(&[1, 2]).is_err());
        let mut truncated = vec![0u8; 100];
        truncated[..4].copy_from_slice(&6u32.to_ne_bytes());
        assert!(decode_event(&truncated).is_err());
        let mut big = vec![0u8; EVENT_SIZE];
        big[..4].copy_from_slice(&6u32.to_ne_bytes());
        big[4 + DATA_MAX..4 + DATA_MAX + 2].copy_from_slice(&5000u16.to_ne_bytes());
        assert!(decode_event(&big).is_err());
    }
}
