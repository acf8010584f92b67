//! UDP transport in the SoloKeys simulator convention: one 64-byte CTAPHID report per
//! datagram; the authenticator listens on 127.0.0.1:8111 and sends its reports to the
//! client at 127.0.0.1:7112 (both configurable).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use super::{CtapHid, ReportIo, TransportError};

/// Where the simulated authenticator listens by default.
pub const DEFAULT_DEVICE_ADDR: &str = "127.0.0.1:8111";
/// Where the client receives the authenticator's reports by default.
pub const DEFAULT_CLIENT_ADDR: &str = "127.0.0.1:7112";

/// Reports over a UDP socket to one peer.
pub struct UdpReports {
    socket: UdpSocket,
    peer: SocketAddr,
}

impl UdpReports {
    /// Binds `local` and sends to `peer`; datagrams from anyone else are ignored.
    pub fn new(local: SocketAddr, peer: SocketAddr) -> io::Result<Self> {
        let socket = UdpSocket::bind(local)?;
        Ok(UdpReports { socket, peer })
    }
}

impl ReportIo for UdpReports {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        self.socket.send_to(report, self.peer).map(|_| ())
    }

    fn read_report(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        self.socket
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let mut buf = [0u8; 1024];
        match self.socket.recv_from(&mut buf) {
            Ok((n, from)) if from == self.peer => Ok(Some(buf[..n].to_vec())),
            Ok(_) => Ok(None),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn describe(&self) -> String {
        format!("udp:{}", self.peer)
    }
}

/// Connects to a UDP authenticator at `device`, receiving on `local`.
pub fn connect(
    device: SocketAddr,
    local: SocketAddr,
) -> Result<CtapHid<UdpReports>, TransportError> {
    let io = UdpReports::new(local, device).map_err(|e| {
        if e.kind() == io::ErrorKind::AddrInUse {
            TransportError::Backend(format!(
                "{local} is in use: another client is talking to the simulator, or pass a different local port"
            ))
        } else {
            TransportError::Io(e)
        }
    })?;
    CtapHid::open(io)
}
