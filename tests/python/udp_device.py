"""python-fido2 transport for `ctapkit emulate --udp`: CTAPHID over UDP in the SoloKeys
simulator convention.

One 64-byte CTAPHID report per datagram. The emulator listens on its --udp address and
sends its reports to its --peer address, ignoring datagrams from any other source, so the
client side binds the peer address and sends from that same socket.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time

from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

logger = logging.getLogger(__name__)

REPORT_SIZE = 64
BROADCAST_CID = 0xFFFFFFFF
CTAPHID_INIT = 0x86  # TYPE_INIT | CTAPHID.INIT


class UdpCtapHidConnection(CtapHidConnection):
    """A CtapHidConnection that exchanges one CTAPHID report per UDP datagram.

    `local` is the address the emulator replies to (its --peer); `device` is the address it
    listens on (its --udp). Replies from any other source are dropped, as the emulator does.
    """

    def __init__(
        self,
        device: tuple[str, int],
        local: tuple[str, int] = ("127.0.0.1", 0),
        timeout: float = 15.0,
    ):
        self.device = device
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind(local)
        except OSError:
            self.sock.close()
            raise
        self.local = self.sock.getsockname()

    def write_packet(self, data: bytes) -> None:
        if len(data) != REPORT_SIZE:
            raise ValueError(f"CTAPHID report must be {REPORT_SIZE} bytes, got {len(data)}")
        logger.debug("udp %s -> %s: %s", self.local[1], self.device[1], data.hex())
        self.sock.sendto(data, self.device)

    def read_packet(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no CTAPHID report from the emulator at {self.device} within {self.timeout}s"
                )
            self.sock.settimeout(remaining)
            try:
                data, source = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            if source[:2] != self.device:
                logger.debug("udp: dropped datagram from %s", source)
                continue
            logger.debug("udp %s <- %s: %s", self.local[1], self.device[1], data.hex())
            if len(data) != REPORT_SIZE:
                raise ValueError(
                    f"emulator sent a {len(data)}-byte datagram, not a {REPORT_SIZE}-byte report"
                )
            return data

    def drain(self) -> None:
        """Discards any datagrams already queued (stale replies to earlier probes)."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recvfrom(2048)
        except (BlockingIOError, socket.timeout):
            pass
        finally:
            self.sock.setblocking(True)

    def probe(self, timeout: float = 0.2) -> bool:
        """Sends one CTAPHID_INIT on the broadcast channel; True when the emulator answers it."""
        nonce = os.urandom(8)
        packet = struct.pack(">IBH", BROADCAST_CID, CTAPHID_INIT, len(nonce)) + nonce
        self.sock.sendto(packet.ljust(REPORT_SIZE, b"\0"), self.device)
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            self.sock.settimeout(remaining)
            try:
                data, source = self.sock.recvfrom(2048)
            except (socket.timeout, ConnectionRefusedError):
                return False
            if (
                source[:2] == self.device
                and data[:5] == packet[:5]
                and data[7:15] == nonce
            ):
                return True
        return False

    def close(self) -> None:
        self.sock.close()


def descriptor_for(device: tuple[str, int]) -> HidDescriptor:
    """A HidDescriptor for the emulator at `device` (64-byte reports both ways)."""
    return HidDescriptor(
        path=f"udp:{device[0]}:{device[1]}",
        vid=0,
        pid=0,
        report_size_in=REPORT_SIZE,
        report_size_out=REPORT_SIZE,
        product_name="ctapkit emulator",
        serial_number=None,
    )


def open_device(connection: UdpCtapHidConnection) -> CtapHidDevice:
    """A python-fido2 CtapHidDevice over `connection` (sends CTAPHID_INIT itself)."""
    return CtapHidDevice(descriptor_for(connection.device), connection)
