//! `ctapkit emulate`: run the software authenticator for other programs — over UDP in the
//! SoloKeys simulator convention (python-fido2, libfido2 test tooling), or as /dev/uhid.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Args;

use super::Outcome;
use ctapkit::authenticator::hid_server::HidServer;
use ctapkit::authenticator::{Authenticator, Fault, UserAction, UserSimulation};
use ctapkit::transport::udp::{UdpReports, DEFAULT_CLIENT_ADDR, DEFAULT_DEVICE_ADDR};
use ctapkit::transport::ReportIo;

/// The datagram that power-cycles the emulator (volatile state is lost, as on a replug).
pub const REBOOT_DATAGRAM: &[u8] = b"ctapkit:reboot";

/// `ctapkit emulate` arguments.
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// Device profile: ios, android, security-key, u2f, no-biometric.
    #[arg(long, default_value = "security-key")]
    profile: String,
    /// Listen for CTAPHID reports on this UDP address.
    #[arg(long, default_value = DEFAULT_DEVICE_ADDR)]
    udp: SocketAddr,
    /// Send reports to this UDP address (the client).
    #[arg(long, default_value = DEFAULT_CLIENT_ADDR)]
    peer: SocketAddr,
    /// Keep credentials, PIN, retries and counters in this file across restarts.
    #[arg(long)]
    state: Option<std::path::PathBuf>,
    /// Inject a fault (repeatable): bad-signature, wrong-rp-id-hash, sign-count-regression,
    /// clear-up, clear-uv, bs-without-be, wrong-aaguid, non-canonical-cbor, duplicate-key-cbor,
    /// no-keepalive, busy-storm, truncated-response.
    #[arg(long = "fault")]
    faults: Vec<Fault>,
    /// What the simulated user does (repeatable, in order; the last one then repeats):
    /// approve, deny, timeout, approve-after:MS, mismatch.
    #[arg(long = "user", default_value = "approve")]
    user: Vec<UserAction>,
    /// Seconds before an unanswered user prompt times out.
    #[arg(long, default_value_t = 30)]
    user_timeout: u64,
    /// Print the test CA that signs this profile's attestation certificates, then exit.
    #[arg(long)]
    print_attestation_ca: bool,
    /// Expose the authenticator as a virtual USB HID device through /dev/uhid.
    #[arg(long)]
    uhid: bool,
}

/// Runs `ctapkit emulate`.
pub fn run(args: EmulateArgs) -> Result<Outcome> {
    let user = UserSimulation::from_actions(&args.user, Duration::from_secs(args.user_timeout));
    let mut auth = Authenticator::with_profile_name(&args.profile)?
        .with_user(user)
        .with_faults(args.faults.iter().copied());
    if let Some(path) = &args.state {
        auth = auth.with_state_file(path)?;
    }
    if args.print_attestation_ca {
        match auth.attestation_ca_pem() {
            Some(pem) => print!("{pem}"),
            None => bail!(
                "profile {} uses attestation none: there is no CA",
                args.profile
            ),
        }
        return Ok(Outcome::Pass);
    }
    let faults = auth.hid_faults();
    if args.uhid {
        let path = std::path::Path::new("/dev/uhid");
        if !path.exists() {
            bail!(
                "/dev/uhid is not available on this machine: load the uhid kernel module \
                 (`sudo modprobe uhid`) and run as root or with a udev rule for /dev/uhid; \
                 or use --udp"
            );
        }
        let mut io =
            ctapkit::transport::uhid::UhidReports::create(path, "ctapkit virtual FIDO key")
                .with_context(|| {
                    format!("cannot create a virtual HID device on {}", path.display())
                })?;
        eprintln!(
            "ctapkit emulator: profile {} as a virtual USB FIDO key (1209:000a); Ctrl-C to stop",
            args.profile
        );
        HidServer::new(auth, faults).run(&mut io)?;
        return Ok(Outcome::Pass);
    }
    let io = UdpReports::new(args.udp, args.peer)
        .with_context(|| format!("cannot listen on {}", args.udp))?;
    let reboot = Arc::new(AtomicBool::new(false));
    let mut io = RebootAware {
        inner: io,
        reboot: reboot.clone(),
    };
    let mut server = HidServer::new(auth, faults);
    server.set_reboot_flag(reboot);
    eprintln!(
        "ctapkit emulator: profile {} on udp {} (replies to {}){}; send {:?} to power-cycle; Ctrl-C to stop",
        args.profile,
        args.udp,
        args.peer,
        args.state
            .as_ref()
            .map(|p| format!(", state in {}", p.display()))
            .unwrap_or_default(),
        String::from_utf8_lossy(REBOOT_DATAGRAM)
    );
    server.run(&mut io)?;
    Ok(Outcome::Pass)
}

/// Turns the reboot datagram into a power-cycle request.
struct RebootAware {
    inner: UdpReports,
    reboot: Arc<AtomicBool>,
}

impl ReportIo for RebootAware {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        self.inner.write_report(report)
    }
    fn read_report(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        match self.inner.read_report(timeout)? {
            Some(r) if r == REBOOT_DATAGRAM => {
                self.reboot.store(true, Ordering::SeqCst);
                Ok(None)
            }
            other => Ok(other),
        }
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}
