//! The device side of CTAPHID: channel allocation, busy arbitration, inter-packet timeouts,
//! keepalives while the authenticator waits, CANCEL, PING, WINK, LOCK, and error answers —
//! over any [`ReportIo`] (UDP, in-process loopback, or /dev/uhid).

use std::collections::HashSet;
use std::io;
use std::time::{Duration, Instant};

use crate::ctaphid::{
    self, AssembleError, Assembler, Command, HidError, InitResponse, KeepaliveStatus, Message,
    Packet, BROADCAST_CID,
};
use crate::transport::ReportIo;

/// The user cancelled (CTAPHID_CANCEL) while the authenticator waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// What an authenticator calls while it waits (for user presence, or long work): sends a
/// KEEPALIVE with `status` when due, and reports whether the host cancelled.
pub trait Presence {
    /// Called at least every 100 ms while waiting.
    fn tick(&mut self, status: KeepaliveStatus) -> Result<(), Cancelled>;
}

/// A presence context that never cancels and sends nothing (for direct, in-memory use).
#[derive(Debug, Default)]
pub struct NoHost;

impl Presence for NoHost {
    fn tick(&mut self, _status: KeepaliveStatus) -> Result<(), Cancelled> {
        Ok(())
    }
}

/// The authenticator behind the HID layer.
pub trait Handler: Send {
    /// Handles a CTAP2 request (command byte + CBOR) and returns status byte + CBOR.
    fn cbor(&mut self, request: &[u8], presence: &mut dyn Presence) -> Vec<u8>;
    /// Handles a CTAP1/U2F APDU; `None` when CTAP1 is not supported.
    fn msg(&mut self, apdu: &[u8], presence: &mut dyn Presence) -> Option<Vec<u8>>;
    /// CTAPHID capability flags.
    fn capabilities(&self) -> u8;
    /// Forgets volatile state, as a power cycle would (PIN token, key agreement key, ...).
    fn power_cycle(&mut self) {}
}

/// Transport-level faults, for testing clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HidFaults {
    /// Never send KEEPALIVE.
    pub no_keepalive: bool,
    /// Answer this many requests with ERR_CHANNEL_BUSY before serving them.
    pub busy_storm: u32,
    /// Cut every CBOR/MSG answer short by one byte (declared length kept).
    pub truncate_responses: bool,
}

/// How long a host may pause between the packets of one message.
pub const INTER_PACKET_TIMEOUT: Duration = Duration::from_millis(1000);
/// Keepalive interval while waiting.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_millis(100);

/// Serves CTAPHID over `io` for `handler` until the channel closes.
pub struct HidServer<H: Handler> {
    handler: H,
    faults: HidFaults,
    channels: HashSet<u32>,
    next_cid: u32,
    busy_left: u32,
    lock: Option<(u32, Instant)>,
    version: (u8, u8, u8),
    reboot: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl<H: Handler> HidServer<H> {
    /// A server for `handler`.
    pub fn new(handler: H, faults: HidFaults) -> Self {
        HidServer {
            handler,
            faults,
            channels: HashSet::new(),
            next_cid: 0x0100_0000,
            busy_left: faults.busy_storm,
            lock: None,
            version: (0, 1, 0),
            reboot: None,
        }
    }

    /// Power-cycles the device whenever `flag` is set (the UDP reboot request).
    pub fn set_reboot_flag(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.reboot = Some(flag);
    }

    /// The authenticator.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// Power-cycles the device: channels and volatile state are gone.
    pub fn power_cycle(&mut self) {
        self.channels.clear();
        self.lock = None;
        self.handler.power_cycle();
    }

    /// Runs until `io` fails (the peer went away).
    pub fn run<R: ReportIo>(&mut self, io: &mut R) -> io::Result<()> {
        let report_size = io.report_size();
        let mut assembler = Assembler::new(report_size);
        let mut started = Instant::now();
        loop {
            if self
                .reboot
                .as_ref()
                .is_some_and(|f| f.swap(false, std::sync::atomic::Ordering::SeqCst))
            {
                self.power_cycle();
                assembler.reset();
            }
            let timeout = if assembler.open_channel().is_some() {
                INTER_PACKET_TIMEOUT.saturating_sub(started.elapsed())
            } else {
                Duration::from_millis(500)
            };
            let Some(report) = io.read_report(timeout)? else {
                if let Some(cid) = assembler.open_channel() {
                    if started.elapsed() >= INTER_PACKET_TIMEOUT {
                        assembler.reset();
                        send_error(io, cid, HidError::MsgTimeout)?;
                    }
                }
                continue;
            };
            let Ok(packet) = Packet::parse(&report) else {
                continue;
            };
            let cid = packet.cid();
            // Busy: a message of another channel is being assembled.
            let is_init = matches!(
                packet,
                Packet::Init {
                    cmd: Command::Init,
                    ..
                }
            );
            if assembler.open_channel().is_some_and(|open| open != cid) && !is_init {
                send_error(io, cid, HidError::ChannelBusy)?;
                continue;
            }
            if cid == 0 {
                send_error(io, cid, HidError::InvalidChannel)?;
                continue;
            }
            if let Packet::Init { .. } = packet {
                started = Instant::now();
            }
            let message = match assembler.push(&packet) {
                Ok(Some(m)) => m,
                Ok(None) => continue,
                Err(AssembleError::InvalidSeq { expected: None, .. }) => continue, // stray
                Err(e) => {
                    send_error(io, cid, e.hid_error())?;
                    continue;
                }
            };
            self.serve(io, message)?;
        }
    }

    fn serve<R: ReportIo>(&mut self, io: &mut R, msg: Message) -> io::Result<()> {
        let cid = msg.cid;
        if msg.cmd == Command::Init {
            return self.init(io, msg);
        }
        if cid == BROADCAST_CID || !self.channels.contains(&cid) {
            return send_error(io, cid, HidError::InvalidChannel);
        }
        if let Some((owner, until)) = self.lock {
            if Instant::now() >= until {
                self.lock = None;
            } else if owner != cid {
                return send_error(io, cid, HidError::ChannelBusy);
            }
        }
        if matches!(msg.cmd, Command::Cbor | Command::Msg) && self.busy_left > 0 {
            self.busy_left -= 1;
            return send_error(io, cid, HidError::ChannelBusy);
        }
        match msg.cmd {
            Command::Ping => send(io, &Message::new(cid, Command::Ping, msg.payload)),
            Command::Wink => send(io, &Message::new(cid, Command::Wink, Vec::new())),
            Command::Lock => match msg.payload.as_slice() {
                [0] => {
                    self.lock = None;
                    send(io, &Message::new(cid, Command::Lock, Vec::new()))
                }
                [secs @ 1..=10] => {
                    self.lock = Some((cid, Instant::now() + Duration::from_secs(u64::from(*secs))));
                    send(io, &Message::new(cid, Command::Lock, Vec::new()))
                }
                _ => send_error(io, cid, HidError::InvalidPar),
            },
            Command::Cancel => Ok(()), // nothing pending: ignored (§11.2.9.1.5)
            Command::Cbor => {
                if msg.payload.is_empty() {
                    return send_error(io, cid, HidError::InvalidLen);
                }
                let mut host = HostLink {
                    io: &mut *io,
                    cid,
                    last_keepalive: None,
                    no_keepalive: self.faults.no_keepalive,
                    failed: None,
                };
                let mut answer = self.handler.cbor(&msg.payload, &mut host);
                if let Some(e) = host.failed.take() {
                    return Err(e);
                }
                self.finish(io, cid, Command::Cbor, &mut answer)
            }
            Command::Msg => {
                let mut host = HostLink {
                    io: &mut *io,
                    cid,
                    last_keepalive: None,
                    no_keepalive: self.faults.no_keepalive,
                    failed: None,
                };
                let answer = self.handler.msg(&msg.payload, &mut host);
                if let Some(e) = host.failed.take() {
                    return Err(e);
                }
                match answer {
                    Some(mut a) => self.finish(io, cid, Command::Msg, &mut a),
                    None => send_error(io, cid, HidError::InvalidCmd),
                }
            }
            _ => send_error(io, cid, HidError::InvalidCmd),
        }
    }

    fn finish<R: ReportIo>(
        &mut self,
        io: &mut R,
        cid: u32,
        cmd: Command,
        answer: &mut Vec<u8>,
    ) -> io::Result<()> {
        if self.faults.truncate_responses && !answer.is_empty() {
            // Declare the full length, deliver one byte less: the host times out or
            // sees a short message.
            let full = Message::new(cid, cmd, answer.clone());
            let mut packets = full
                .to_packets(io.report_size())
                .map_err(|e| io::Error::other(e.to_string()))?;
            if packets.len() > 1 {
                packets.pop();
            } else {
                answer.pop();
                return send(io, &Message::new(cid, cmd, answer.clone()));
            }
            for p in packets {
                io.write_report(&p)?;
            }
            return Ok(());
        }
        send(io, &Message::new(cid, cmd, std::mem::take(answer)))
    }

    fn init<R: ReportIo>(&mut self, io: &mut R, msg: Message) -> io::Result<()> {
        if msg.payload.len() != 8 {
            return send_error(io, msg.cid, HidError::InvalidLen);
        }
        let cid = if msg.cid == BROADCAST_CID {
            let cid = self.next_cid;
            self.next_cid = self.next_cid.wrapping_add(1).max(1);
            self.channels.insert(cid);
            cid
        } else if self.channels.contains(&msg.cid) {
            msg.cid // resynchronise the channel
        } else {
            return send_error(io, msg.cid, HidError::InvalidChannel);
        };
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&msg.payload);
        let response = InitResponse {
            nonce,
            cid,
            protocol_version: ctaphid::PROTOCOL_VERSION,
            major: self.version.0,
            minor: self.version.1,
            build: self.version.2,
            capabilities: self.handler.capabilities(),
        };
        send(
            io,
            &Message::new(msg.cid, Command::Init, response.to_bytes()),
        )
    }
}

fn send<R: ReportIo>(io: &mut R, msg: &Message) -> io::Result<()> {
    let packets = msg
        .to_packets(io.report_size())
        .map_err(|e| io::Error::other(e.to_string()))?;
    for p in packets {
        io.write_report(&p)?;
    }
    Ok(())
}

fn send_error<R: ReportIo>(io: &mut R, cid: u32, e: HidError) -> io::Result<()> {
    send(io, &Message::new(cid, Command::Error, vec![e.to_u8()]))
}

/// The link to the host while the authenticator waits: keepalives out, CANCEL in, other
/// channels answered busy.
struct HostLink<'a, R: ReportIo> {
    io: &'a mut R,
    cid: u32,
    last_keepalive: Option<Instant>,
    no_keepalive: bool,
    failed: Option<io::Error>,
}

impl<R: ReportIo> Presence for HostLink<'_, R> {
    fn tick(&mut self, status: KeepaliveStatus) -> Result<(), Cancelled> {
        if self.failed.is_some() {
            return Err(Cancelled);
        }
        let due = self
            .last_keepalive
            .is_none_or(|t| t.elapsed() >= KEEPALIVE_INTERVAL);
        if due && !self.no_keepalive {
            self.last_keepalive = Some(Instant::now());
            if let Err(e) = send(
                self.io,
                &Message::new(self.cid, Command::Keepalive, vec![status.to_u8()]),
            ) {
                self.failed = Some(e);
                return Err(Cancelled);
            }
        }
        // Drain what the host sent meanwhile.
        loop {
            match self.io.read_report(Duration::from_millis(0)) {
                Ok(Some(report)) => {
                    let Ok(packet) = Packet::parse(&report) else {
                        continue;
                    };
                    match packet {
                        Packet::Init {
                            cid,
                            cmd: Command::Cancel,
                            ..
                        } if cid == self.cid => return Err(Cancelled),
                        Packet::Init {
                            cid,
                            cmd: Command::Init,
                            ..
                        } if cid == self.cid => return Err(Cancelled),
                        p if p.cid() != self.cid => {
                            let _ = send_error(self.io, p.cid(), HidError::ChannelBusy);
                        }
                        _ => {}
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.failed = Some(e);
                    return Err(Cancelled);
                }
            }
        }
    }
}
