//! Sans-I/O CTAPHID framing ([CTAP 2.1 §11.2 "USB Human Interface Device"](https://fidoalliance.org/specs/fido-v2.1-ps-20210615/fido-client-to-authenticator-protocol-v2.1-ps-20210615.html#usb)),
//! shared by the client and the software authenticator.
//!
//! A message is split into one initialization packet (`CID | CMD | BCNT | data`) and up to
//! 128 continuation packets (`CID | SEQ | data`) of the report size (64 bytes on every known
//! device); [`Message::to_packets`] splits, [`Assembler`] reassembles with sequence checks.
//! Nothing here reads or writes a device.

use std::fmt;

#[cfg(test)]
mod tests;

/// The broadcast channel, used for `INIT` before a channel is allocated.
pub const BROADCAST_CID: u32 = 0xffff_ffff;
/// The HID report size of every known FIDO device.
pub const DEFAULT_REPORT_SIZE: usize = 64;
/// Largest CTAPHID protocol version this module speaks.
pub const PROTOCOL_VERSION: u8 = 2;

/// Largest payload a message can carry with `report_size`-byte reports:
/// `(size - 7) + 128 * (size - 5)` — 7609 bytes for 64-byte reports.
pub const fn max_message_len(report_size: usize) -> usize {
    (report_size - 7) + 128 * (report_size - 5)
}

/// A CTAPHID command (the 7-bit value; bit 7 marks an initialization packet on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// Echo (0x01).
    Ping,
    /// CTAP1/U2F APDU (0x03).
    Msg,
    /// Lock the device to one channel (0x04).
    Lock,
    /// Allocate a channel / resynchronise (0x06).
    Init,
    /// Identify the device visually (0x08).
    Wink,
    /// CTAP2 CBOR command (0x10).
    Cbor,
    /// Cancel the pending request on the channel (0x11).
    Cancel,
    /// Device still working (0x3b), with a [`KeepaliveStatus`].
    Keepalive,
    /// Transport error (0x3f), with a [`HidError`].
    Error,
    /// Vendor command (0x40..=0x7f).
    Vendor(u8),
    /// Any other value.
    Unknown(u8),
}

impl Command {
    /// The command for a 7-bit value.
    pub fn from_u8(v: u8) -> Self {
        match v & 0x7f {
            0x01 => Command::Ping,
            0x03 => Command::Msg,
            0x04 => Command::Lock,
            0x06 => Command::Init,
            0x08 => Command::Wink,
            0x10 => Command::Cbor,
            0x11 => Command::Cancel,
            0x3b => Command::Keepalive,
            0x3f => Command::Error,
            v @ 0x40..=0x7f => Command::Vendor(v),
            v => Command::Unknown(v),
        }
    }

    /// The 7-bit value.
    pub fn to_u8(self) -> u8 {
        match self {
            Command::Ping => 0x01,
            Command::Msg => 0x03,
            Command::Lock => 0x04,
            Command::Init => 0x06,
            Command::Wink => 0x08,
            Command::Cbor => 0x10,
            Command::Cancel => 0x11,
            Command::Keepalive => 0x3b,
            Command::Error => 0x3f,
            Command::Vendor(v) | Command::Unknown(v) => v & 0x7f,
        }
    }
}

/// CTAPHID_ERROR codes (§11.2.9.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HidError {
    /// The command is not known (0x01).
    InvalidCmd,
    /// A parameter is invalid (0x02).
    InvalidPar,
    /// The length is invalid (0x03).
    InvalidLen,
    /// A continuation packet is out of sequence (0x04).
    InvalidSeq,
    /// The message was not completed in time (0x05).
    MsgTimeout,
    /// Another channel is being served (0x06).
    ChannelBusy,
    /// The command needs a channel lock (0x0a).
    LockRequired,
    /// The channel is not allocated (0x0b).
    InvalidChannel,
    /// Anything else (0x7f).
    Other,
    /// A code the spec does not define.
    Unknown(u8),
}

impl HidError {
    /// The error for a code byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x01 => HidError::InvalidCmd,
            0x02 => HidError::InvalidPar,
            0x03 => HidError::InvalidLen,
            0x04 => HidError::InvalidSeq,
            0x05 => HidError::MsgTimeout,
            0x06 => HidError::ChannelBusy,
            0x0a => HidError::LockRequired,
            0x0b => HidError::InvalidChannel,
            0x7f => HidError::Other,
            v => HidError::Unknown(v),
        }
    }

    /// The code byte.
    pub fn to_u8(self) -> u8 {
        match self {
            HidError::InvalidCmd => 0x01,
            HidError::InvalidPar => 0x02,
            HidError::InvalidLen => 0x03,
            HidError::InvalidSeq => 0x04,
            HidError::MsgTimeout => 0x05,
            HidError::ChannelBusy => 0x06,
            HidError::LockRequired => 0x0a,
            HidError::InvalidChannel => 0x0b,
            HidError::Other => 0x7f,
            HidError::Unknown(v) => v,
        }
    }

    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            HidError::InvalidCmd => "ERR_INVALID_CMD",
            HidError::InvalidPar => "ERR_INVALID_PAR",
            HidError::InvalidLen => "ERR_INVALID_LEN",
            HidError::InvalidSeq => "ERR_INVALID_SEQ",
            HidError::MsgTimeout => "ERR_MSG_TIMEOUT",
            HidError::ChannelBusy => "ERR_CHANNEL_BUSY",
            HidError::LockRequired => "ERR_LOCK_REQUIRED",
            HidError::InvalidChannel => "ERR_INVALID_CHANNEL",
            HidError::Other => "ERR_OTHER",
            HidError::Unknown(_) => "unknown CTAPHID error",
        }
    }
}

impl fmt::Display for HidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02x} {}", self.to_u8(), self.name())
    }
}

impl std::error::Error for HidError {}

/// CTAPHID_KEEPALIVE status (§11.2.9.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeepaliveStatus {
    /// The authenticator is still processing (1).
    Processing,
    /// The authenticator is waiting for user presence (2).
    UpNeeded,
    /// A value the spec does not define.
    Other(u8),
}

impl KeepaliveStatus {
    /// The status for a byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => KeepaliveStatus::Processing,
            2 => KeepaliveStatus::UpNeeded,
            v => KeepaliveStatus::Other(v),
        }
    }
    /// The byte.
    pub fn to_u8(self) -> u8 {
        match self {
            KeepaliveStatus::Processing => 1,
            KeepaliveStatus::UpNeeded => 2,
            KeepaliveStatus::Other(v) => v,
        }
    }
}

/// Capability flags of the INIT response.
pub mod capability {
    /// Implements CTAPHID_WINK.
    pub const WINK: u8 = 0x01;
    /// Implements CTAPHID_CBOR.
    pub const CBOR: u8 = 0x04;
    /// Does NOT implement CTAPHID_MSG.
    pub const NMSG: u8 = 0x08;
}

/// A malformed report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// The report is too short to hold a header.
    #[error("HID report of {0} bytes is too short for a CTAPHID packet")]
    TooShort(usize),
    /// The report size is outside what CTAPHID can use.
    #[error("report size {0} is not usable (8..=64 bytes)")]
    BadReportSize(usize),
}

/// One CTAPHID packet, parsed from a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// An initialization packet.
    Init {
        /// Channel.
        cid: u32,
        /// Command.
        cmd: Command,
        /// Total payload length of the message.
        bcnt: u16,
        /// The data bytes of this packet (the whole rest of the report).
        data: &'a [u8],
    },
    /// A continuation packet.
    Cont {
        /// Channel.
        cid: u32,
        /// Sequence number 0..=127.
        seq: u8,
        /// The data bytes of this packet.
        data: &'a [u8],
    },
}

impl<'a> Packet<'a> {
    /// Parses a report (without a report-ID byte).
    pub fn parse(report: &'a [u8]) -> Result<Self, PacketError> {
        if report.len() < 7 {
            return Err(PacketError::TooShort(report.len()));
        }
        let cid = u32::from_be_bytes([report[0], report[1], report[2], report[3]]);
        let b = report[4];
        if b & 0x80 != 0 {
            Ok(Packet::Init {
                cid,
                cmd: Command::from_u8(b),
                bcnt: u16::from_be_bytes([report[5], report[6]]),
                data: &report[7..],
            })
        } else {
            Ok(Packet::Cont {
                cid,
                seq: b,
                data: &report[5..],
            })
        }
    }

    /// The packet's channel.
    pub fn cid(&self) -> u32 {
        match self {
            Packet::Init { cid, .. } | Packet::Cont { cid, .. } => *cid,
        }
    }
}

/// A complete CTAPHID message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Channel.
    pub cid: u32,
    /// Command.
    pub cmd: Command,
    /// Payload.
    pub payload: Vec<u8>,
}

/// A message that cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// The payload exceeds what 129 packets can carry.
    #[error("payload of {len} bytes exceeds the CTAPHID maximum of {max}")]
    TooLong {
        /// Payload length.
        len: usize,
        /// The maximum for the report size.
        max: usize,
    },
    /// The report size is outside what CTAPHID can use.
    #[error(transparent)]
    Packet(#[from] PacketError),
}

impl Message {
    /// A message on `cid`.
    pub fn new(cid: u32, cmd: Command, payload: impl Into<Vec<u8>>) -> Self {
        Message {
            cid,
            cmd,
            payload: payload.into(),
        }
    }

    /// Splits the message into reports of `report_size` bytes (zero-padded).
    pub fn to_packets(&self, report_size: usize) -> Result<Vec<Vec<u8>>, FramingError> {
        if !(8..=64).contains(&report_size) {
            return Err(PacketError::BadReportSize(report_size).into());
        }
        let max = max_message_len(report_size);
        let len = self.payload.len();
        if len > max {
            return Err(FramingError::TooLong { len, max });
        }
        let cid = self.cid.to_be_bytes();
        let first = len.min(report_size - 7);
        let mut init = Vec::with_capacity(report_size);
        init.extend_from_slice(&cid);
        init.push(0x80 | self.cmd.to_u8());
        init.extend_from_slice(&(len as u16).to_be_bytes());
        init.extend_from_slice(&self.payload[..first]);
        init.resize(report_size, 0);
        let mut packets = vec![init];
        for (seq, chunk) in self.payload[first..].chunks(report_size - 5).enumerate() {
            let mut cont = Vec::with_capacity(report_size);
            cont.extend_from_slice(&cid);
            cont.push(seq as u8);
            cont.extend_from_slice(chunk);
            cont.resize(report_size, 0);
            packets.push(cont);
        }
        Ok(packets)
    }
}

/// What went wrong while reassembling a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// A continuation packet with an unexpected sequence number, or one with no message open.
    #[error("continuation packet out of sequence (expected {expected:?}, got {got})")]
    InvalidSeq {
        /// The sequence number expected, if a message was open.
        expected: Option<u8>,
        /// The sequence number received.
        got: u8,
    },
    /// The declared length exceeds the maximum for the report size.
    #[error("declared message length {0} exceeds the CTAPHID maximum")]
    InvalidLen(u16),
}

impl AssembleError {
    /// The CTAPHID error a device answers with.
    pub fn hid_error(self) -> HidError {
        match self {
            AssembleError::InvalidSeq { .. } => HidError::InvalidSeq,
            AssembleError::InvalidLen(_) => HidError::InvalidLen,
        }
    }
}

/// Reassembles one message from packets of one channel (§11.2.4).
#[derive(Debug, Clone)]
pub struct Assembler {
    report_size: usize,
    open: Option<Partial>,
}

#[derive(Debug, Clone)]
struct Partial {
    cid: u32,
    cmd: Command,
    len: usize,
    payload: Vec<u8>,
    next_seq: u8,
}

impl Assembler {
    /// An assembler for reports of `report_size` bytes.
    pub fn new(report_size: usize) -> Self {
        Assembler {
            report_size,
            open: None,
        }
    }

    /// The channel of the message being assembled, if any.
    pub fn open_channel(&self) -> Option<u32> {
        self.open.as_ref().map(|p| p.cid)
    }

    /// Drops any partial message.
    pub fn reset(&mut self) {
        self.open = None;
    }

    /// Feeds one packet; returns the message once complete. An initialization packet always
    /// starts a new message (resynchronisation), dropping any partial one.
    pub fn push(&mut self, packet: &Packet<'_>) -> Result<Option<Message>, AssembleError> {
        match *packet {
            Packet::Init {
                cid,
                cmd,
                bcnt,
                data,
            } => {
                let len = usize::from(bcnt);
                if len > max_message_len(self.report_size) {
                    self.open = None;
                    return Err(AssembleError::InvalidLen(bcnt));
                }
                let take = len.min(data.len());
                let mut payload = Vec::with_capacity(len);
                payload.extend_from_slice(&data[..take]);
                self.open = Some(Partial {
                    cid,
                    cmd,
                    len,
                    payload,
                    next_seq: 0,
                });
            }
            Packet::Cont { seq, data, .. } => {
                let Some(partial) = self.open.as_mut() else {
                    return Err(AssembleError::InvalidSeq {
                        expected: None,
                        got: seq,
                    });
                };
                if seq != partial.next_seq {
                    let expected = Some(partial.next_seq);
                    self.open = None;
                    return Err(AssembleError::InvalidSeq { expected, got: seq });
                }
                partial.next_seq = partial.next_seq.wrapping_add(1);
                let take = (partial.len - partial.payload.len()).min(data.len());
                partial.payload.extend_from_slice(&data[..take]);
            }
        }
        match &self.open {
            Some(p) if p.payload.len() == p.len => Ok(self.open.take().map(|p| Message {
                cid: p.cid,
                cmd: p.cmd,
                payload: p.payload,
            })),
            _ => Ok(None),
        }
    }
}

/// The payload of an INIT response (§11.2.9.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitResponse {
    /// The nonce of the request.
    pub nonce: [u8; 8],
    /// The allocated channel.
    pub cid: u32,
    /// CTAPHID protocol version (2).
    pub protocol_version: u8,
    /// Device major version.
    pub major: u8,
    /// Device minor version.
    pub minor: u8,
    /// Device build version.
    pub build: u8,
    /// Capability flags ([`capability`]).
    pub capabilities: u8,
}

impl InitResponse {
    /// Encodes the 17-byte payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(17);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.cid.to_be_bytes());
        out.extend_from_slice(&[
            self.protocol_version,
            self.major,
            self.minor,
            self.build,
            self.capabilities,
        ]);
        out
    }

    /// Parses the payload (at least 17 bytes).
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < 17 {
            return None;
        }
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&b[..8]);
        Some(InitResponse {
            nonce,
            cid: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            protocol_version: b[12],
            major: b[13],
            minor: b[14],
            build: b[15],
            capabilities: b[16],
        })
    }
}
