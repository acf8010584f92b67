//! Transports to an authenticator: one [`CtapDevice`] trait over USB HID ([`hid`], via
//! hidapi), UDP in the SoloKeys simulator convention ([`udp`]), and an in-process loopback
//! ([`loopback`]). Every HID-style transport runs the same CTAPHID client ([`CtapHid`]) over
//! raw reports, so the framing is exercised byte for byte everywhere.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ctaphid::{
    self, Assembler, Command, FramingError, HidError, InitResponse, KeepaliveStatus, Message,
    Packet, BROADCAST_CID,
};

pub mod hid;
pub mod loopback;
pub mod udp;
pub mod uhid;

#[cfg(test)]
mod tests;

/// Why talking to a device failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// An I/O error on the underlying channel.
    #[error("I/O error talking to the device: {0}")]
    Io(#[from] io::Error),
    /// The device did not answer in time.
    #[error("the device did not answer within {0:?}: is it still connected?")]
    Timeout(Duration),
    /// The device answered with a CTAPHID error.
    #[error("the device answered CTAPHID error {0}")]
    Hid(HidError),
    /// The device stayed busy with another client.
    #[error("the device stayed busy (ERR_CHANNEL_BUSY) after {0} retries: close other FIDO clients (browsers) and retry")]
    Busy(u32),
    /// The device answered with something that is not the answer.
    #[error("unexpected answer from the device: {0}")]
    Unexpected(String),
    /// The request cannot be framed.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// The device cannot be opened for lack of permission.
    #[error("permission denied opening {path}: {hint}")]
    PermissionDenied {
        /// The device path.
        path: String,
        /// How to fix it.
        hint: String,
    },
    /// No matching device.
    #[error("{0}")]
    NotFound(String),
    /// The device does not implement the command.
    #[error("the device does not support {0}")]
    Unsupported(&'static str),
    /// The operation was cancelled by the user.
    #[error("cancelled")]
    Cancelled,
    /// The HID stack failed.
    #[error("HID error: {0}")]
    Backend(String),
}

/// A connected authenticator, whatever the transport.
pub trait CtapDevice: Send {
    /// A one-line description (transport, path, product).
    fn describe(&self) -> String;
    /// Sends a CTAP2 message (command byte + CBOR) and returns the answer (status byte +
    /// CBOR). `keepalive` is called for every KEEPALIVE the device sends.
    fn cbor(
        &mut self,
        request: &[u8],
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Vec<u8>, TransportError>;
    /// Sends a CTAP1/U2F APDU and returns the response APDU.
    fn msg(
        &mut self,
        apdu: &[u8],
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Vec<u8>, TransportError>;
    /// Asks the device to identify itself (blink).
    fn wink(&mut self) -> Result<(), TransportError>;
    /// Echoes `data`.
    fn ping(&mut self, data: &[u8]) -> Result<Vec<u8>, TransportError>;
    /// CTAPHID capability flags from INIT ([`ctaphid::capability`]).
    fn capabilities(&self) -> u8;
    /// A handle that cancels the running request from another thread (Ctrl-C).
    fn cancel_handle(&self) -> CancelHandle;
}

/// Cancels a running request: the transport sends CTAPHID_CANCEL and the device answers
/// CTAP2_ERR_KEEPALIVE_CANCEL.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

/// Raw HID reports in and out (without report-ID byte).
pub trait ReportIo: Send {
    /// The report size (64 for every known FIDO device).
    fn report_size(&self) -> usize {
        ctaphid::DEFAULT_REPORT_SIZE
    }
    /// Writes one report.
    fn write_report(&mut self, report: &[u8]) -> io::Result<()>;
    /// Reads one report; `None` when nothing arrived within `timeout`.
    fn read_report(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>>;
    /// A description of the endpoint.
    fn describe(&self) -> String;
}

/// How long a device may stay silent (no answer, no keepalive) before we give up.
pub const DEFAULT_SILENCE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many CHANNEL_BUSY answers are retried.
pub const BUSY_RETRIES: u32 = 20;

/// The CTAPHID client: channel allocation, transactions, keepalives, busy retry, cancel.
pub struct CtapHid<R: ReportIo> {
    io: R,
    cid: u32,
    init: InitResponse,
    cancel: CancelHandle,
    silence_timeout: Duration,
}

impl<R: ReportIo> CtapHid<R> {
    /// Allocates a channel with CTAPHID_INIT on the broadcast channel: a random 8-byte nonce,
    /// answers for other nonces (other clients) ignored.
    pub fn open(io: R) -> Result<Self, TransportError> {
        let mut hid = CtapHid {
            io,
            cid: BROADCAST_CID,
            init: InitResponse {
                nonce: [0; 8],
                cid: BROADCAST_CID,
                protocol_version: 0,
                major: 0,
                minor: 0,
                build: 0,
                capabilities: 0,
            },
            cancel: CancelHandle::default(),
            silence_timeout: DEFAULT_SILENCE_TIMEOUT,
        };
        hid.init()?;
        Ok(hid)
    }

    /// Sets how long the device may stay silent.
    pub fn set_silence_timeout(&mut self, timeout: Duration) {
        self.silence_timeout = timeout;
    }

    /// The INIT response.
    pub fn init_response(&self) -> &InitResponse {
        &self.init
    }

    /// The allocated channel.
    pub fn cid(&self) -> u32 {
        self.cid
    }

    /// The underlying report channel.
    pub fn io_mut(&mut self) -> &mut R {
        &mut self.io
    }

    fn init(&mut self) -> Result<(), TransportError> {
        let mut nonce = [0u8; 8];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| TransportError::Backend("no randomness".into()))?;
        self.send(&Message::new(BROADCAST_CID, Command::Init, nonce.to_vec()))?;
        let deadline = Instant::now() + self.silence_timeout;
        let mut assembler = Assembler::new(self.io.report_size());
        loop {
            let report = self.read_until(deadline)?;
            let Ok(packet) = Packet::parse(&report) else {
                continue;
            };
            if packet.cid() != BROADCAST_CID {
                continue;
            }
            let Ok(Some(msg)) = assembler.push(&packet) else {
                continue;
            };
            match msg.cmd {
                Command::Init => match InitResponse::from_bytes(&msg.payload) {
                    Some(r) if r.nonce == nonce => {
                        if r.cid == 0 || r.cid == BROADCAST_CID {
                            return Err(TransportError::Unexpected(format!(
                                "INIT allocated the reserved channel {:08x}",
                                r.cid
                            )));
                        }
                        self.cid = r.cid;
                        self.init = r;
                        return Ok(());
                    }
                    // Another client's INIT answer: not ours.
                    _ => continue,
                },
                Command::Error => {
                    let code = msg.payload.first().copied().unwrap_or(0x7f);
                    return Err(TransportError::Hid(HidError::from_u8(code)));
                }
                _ => continue,
            }
        }
    }

    fn send(&mut self, msg: &Message) -> Result<(), TransportError> {
        for report in msg.to_packets(self.io.report_size())? {
            self.io.write_report(&report)?;
        }
        Ok(())
    }

    fn read_until(&mut self, deadline: Instant) -> Result<Vec<u8>, TransportError> {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(TransportError::Timeout(self.silence_timeout));
            }
            let slice = (deadline - now).min(Duration::from_millis(100));
            if let Some(r) = self.io.read_report(slice)? {
                return Ok(r);
            }
        }
    }

    /// Sends `cmd` with `payload` on our channel and returns the answer's payload, retrying
    /// CHANNEL_BUSY, reporting keepalives, honouring cancellation.
    pub fn transact(
        &mut self,
        cmd: Command,
        payload: &[u8],
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Vec<u8>, TransportError> {
        let request = Message::new(self.cid, cmd, payload.to_vec());
        let mut busy = 0;
        loop {
            self.send(&request)?;
            match self.receive(cmd, keepalive)? {
                Received::Answer(payload) => return Ok(payload),
                Received::Busy => {
                    busy += 1;
                    if busy > BUSY_RETRIES {
                        return Err(TransportError::Busy(BUSY_RETRIES));
                    }
                    std::thread::sleep(Duration::from_millis(50 * u64::from(busy.min(10))));
                }
            }
        }
    }

    fn receive(
        &mut self,
        cmd: Command,
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Received, TransportError> {
        let mut assembler = Assembler::new(self.io.report_size());
        let mut deadline = Instant::now() + self.silence_timeout;
        loop {
            if self.cancel.take() {
                self.send(&Message::new(self.cid, Command::Cancel, Vec::new()))?;
            }
            let report = match self.io.read_report(Duration::from_millis(100))? {
                Some(r) => r,
                None if Instant::now() >= deadline => {
                    return Err(TransportError::Timeout(self.silence_timeout))
                }
                None => continue,
            };
            let Ok(packet) = Packet::parse(&report) else {
                continue;
            };
            if packet.cid() != self.cid {
                continue;
            }
            let msg = match assembler.push(&packet) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(e) => {
                    return Err(TransportError::Unexpected(format!(
                        "malformed answer from the device: {e}"
                    )))
                }
            };
            match msg.cmd {
                Command::Keepalive => {
                    let status = msg.payload.first().copied().unwrap_or(0);
                    keepalive(KeepaliveStatus::from_u8(status));
                    deadline = Instant::now() + self.silence_timeout;
                }
                Command::Error => {
                    let code = HidError::from_u8(msg.payload.first().copied().unwrap_or(0x7f));
                    return match code {
                        HidError::ChannelBusy => Ok(Received::Busy),
                        other => Err(TransportError::Hid(other)),
                    };
                }
                c if c == cmd => return Ok(Received::Answer(msg.payload)),
                other => {
                    return Err(TransportError::Unexpected(format!(
                        "answer has command {other:?}, expected {cmd:?}"
                    )))
                }
            }
        }
    }
}

enum Received {
    Answer(Vec<u8>),
    Busy,
}

impl<R: ReportIo> CtapDevice for CtapHid<R> {
    fn describe(&self) -> String {
        format!(
            "{} (CTAPHID v{}, device {}.{}.{}, channel {:08x})",
            self.io.describe(),
            self.init.protocol_version,
            self.init.major,
            self.init.minor,
            self.init.build,
            self.cid
        )
    }

    fn cbor(
        &mut self,
        request: &[u8],
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Vec<u8>, TransportError> {
        if self.init.capabilities & ctaphid::capability::CBOR == 0 {
            return Err(TransportError::Unsupported("CTAP2 (CTAPHID_CBOR)"));
        }
        self.transact(Command::Cbor, request, keepalive)
    }

    fn msg(
        &mut self,
        apdu: &[u8],
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Vec<u8>, TransportError> {
        if self.init.capabilities & ctaphid::capability::NMSG != 0 {
            return Err(TransportError::Unsupported("CTAP1/U2F (CTAPHID_MSG)"));
        }
        self.transact(Command::Msg, apdu, keepalive)
    }

    fn wink(&mut self) -> Result<(), TransportError> {
        if self.init.capabilities & ctaphid::capability::WINK == 0 {
            return Err(TransportError::Unsupported("CTAPHID_WINK"));
        }
        self.transact(Command::Wink, &[], &mut |_| {}).map(|_| ())
    }

    fn ping(&mut self, data: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.transact(Command::Ping, data, &mut |_| {})
    }

    fn capabilities(&self) -> u8 {
        self.init.capabilities
    }

    fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }
}

impl<T: CtapDevice + ?Sized> CtapDevice for Box<T> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn cbor(
        &mut self,
        request: &[u8],
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Vec<u8>, TransportError> {
        (**self).cbor(request, keepalive)
    }
    fn msg(
        &mut self,
        apdu: &[u8],
        keepalive: &mut dyn FnMut(KeepaliveStatus),
    ) -> Result<Vec<u8>, TransportError> {
        (**self).msg(apdu, keepalive)
    }
    fn wink(&mut self) -> Result<(), TransportError> {
        (**self).wink()
    }
    fn ping(&mut self, data: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).ping(data)
    }
    fn capabilities(&self) -> u8 {
        (**self).capabilities()
    }
    fn cancel_handle(&self) -> CancelHandle {
        (**self).cancel_handle()
    }
}

/// Where to find an authenticator: `hid`, `hid:PATH`, `udp:HOST:PORT`, `emulator[:PROFILE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The only FIDO HID device present.
    Hid,
    /// The HID device at a path.
    HidPath(String),
    /// A UDP authenticator (SoloKeys simulator convention).
    Udp(std::net::SocketAddr),
    /// ctapkit's software authenticator, in-process.
    Emulator(String),
}

impl std::str::FromStr for DeviceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, rest) = s.split_once(':').map_or((s, None), |(k, r)| (k, Some(r)));
        match (kind, rest) {
            ("hid", None) => Ok(DeviceSpec::Hid),
            ("hid", Some(path)) if !path.is_empty() => Ok(DeviceSpec::HidPath(path.to_string())),
            ("udp", Some(addr)) => {
                use std::net::ToSocketAddrs as _;
                addr.to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .map(DeviceSpec::Udp)
                    .ok_or_else(|| format!("udp:{addr} is not HOST:PORT"))
            }
            ("emulator", None) => Ok(DeviceSpec::Emulator("security-key".into())),
            ("emulator", Some(profile)) => Ok(DeviceSpec::Emulator(profile.to_string())),
            _ => Err(format!(
                "unknown device {s:?}: use hid, hid:PATH, udp:HOST:PORT or emulator[:PROFILE]"
            )),
        }
    }
}
