//! Opening the device a `--device SPEC` names, and the touch prompt.

use std::io::IsTerminal as _;

use anyhow::{Context as _, Result};

use ctapkit::authenticator::{Authenticator, AuthenticatorError, Profile};
use ctapkit::ctap2::client::Ctap2;
use ctapkit::ctaphid::KeepaliveStatus;
use ctapkit::transport::{self, hid, loopback, udp, CtapDevice, DeviceSpec};

/// Opens the device named by `spec`.
pub fn open(spec: &DeviceSpec) -> Result<Box<dyn CtapDevice>> {
    open_with(spec, Authenticator::with_profile_name).map(|(device, _)| device)
}

/// Opens the device named by `spec`; an emulator is built by `emulator` from its profile name
/// (for faults and user simulation), and its profile is returned too.
pub fn open_with(
    spec: &DeviceSpec,
    emulator: impl FnOnce(&str) -> Result<Authenticator, AuthenticatorError>,
) -> Result<(Box<dyn CtapDevice>, Option<Profile>)> {
    Ok(match spec {
        DeviceSpec::Hid => (Box::new(hid::open_only()?), None),
        DeviceSpec::HidPath(path) => (Box::new(hid::open(path)?), None),
        DeviceSpec::Udp(addr) => {
            let local = udp::DEFAULT_CLIENT_ADDR
                .parse()
                .context("default client address")?;
            let device = udp::connect(*addr, local).with_context(|| {
                format!("no UDP authenticator answered at {addr}: start one with `ctapkit emulate --udp {addr}`")
            })?;
            (Box::new(device), None)
        }
        DeviceSpec::Emulator(profile) => {
            let auth = emulator(profile)?;
            let chosen = auth.profile().clone();
            let faults = auth.hid_faults();
            let device = loopback::connect(&format!("emulator:{profile}"), auth, faults)?;
            (Box::new(device), Some(chosen))
        }
    })
}

/// A CTAP2 client on `spec` that prints a prompt when the device waits for a touch.
pub fn client(spec: &DeviceSpec) -> Result<Ctap2<Box<dyn CtapDevice>>> {
    client_on(open(spec)?)
}

/// A CTAP2 client on an open device that prints a prompt when the device waits for a touch.
pub fn client_on(device: Box<dyn CtapDevice>) -> Result<Ctap2<Box<dyn CtapDevice>>> {
    let cancel = device.cancel_handle();
    install_ctrl_c(cancel);
    let mut prompted = false;
    Ok(Ctap2::new(device).on_keepalive(move |status| {
        if status == KeepaliveStatus::UpNeeded && !prompted {
            prompted = true;
            if std::io::stderr().is_terminal() {
                eprintln!("touch your key (or confirm on the device)…");
            } else {
                eprintln!("waiting for user presence: touch your key");
            }
        }
    }))
}

/// Ctrl-C cancels the running request (CTAPHID_CANCEL) instead of killing the process
/// mid-transaction; a second Ctrl-C exits.
fn install_ctrl_c(cancel: transport::CancelHandle) {
    let pressed = std::sync::atomic::AtomicUsize::new(0);
    // Only the first handler of a process can be installed; later devices share it.
    let _ = ctrlc::set_handler(move || {
        if pressed.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            eprintln!("cancelling (Ctrl-C again to quit)…");
            cancel.cancel();
        } else {
            std::process::exit(130);
        }
    });
}
