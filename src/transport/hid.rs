//! USB HID transport via hidapi (pure Rust Linux backend): FIDO devices are those with usage
//! page 0xF1D0 and usage 0x01.

use std::io;
use std::time::Duration;

use super::{CtapHid, ReportIo, TransportError};

/// The FIDO HID usage page.
pub const FIDO_USAGE_PAGE: u16 = 0xf1d0;
/// The CTAPHID usage.
pub const FIDO_USAGE: u16 = 0x01;

/// A FIDO HID device found on the system.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HidDeviceInfo {
    /// The OS path (e.g. /dev/hidraw3).
    pub path: String,
    /// USB vendor ID.
    pub vendor_id: u16,
    /// USB product ID.
    pub product_id: u16,
    /// Manufacturer string.
    pub manufacturer: String,
    /// Product string.
    pub product: String,
    /// Serial number, when readable.
    pub serial: String,
}

fn api() -> Result<hidapi::HidApi, TransportError> {
    hidapi::HidApi::new().map_err(|e| TransportError::Backend(e.to_string()))
}

/// Lists FIDO HID devices.
pub fn enumerate() -> Result<Vec<HidDeviceInfo>, TransportError> {
    let api = api()?;
    Ok(api
        .device_list()
        .filter(|d| d.usage_page() == FIDO_USAGE_PAGE && d.usage() == FIDO_USAGE)
        .map(|d| HidDeviceInfo {
            path: d.path().to_string_lossy().into_owned(),
            vendor_id: d.vendor_id(),
            product_id: d.product_id(),
            manufacturer: d.manufacturer_string().unwrap_or("").to_string(),
            product: d.product_string().unwrap_or("").to_string(),
            serial: d.serial_number().unwrap_or("").to_string(),
        })
        .collect())
}

/// How to fix a permission problem on Linux.
pub const PERMISSION_HINT: &str =
    "on Linux, install a udev rule that gives you access to FIDO keys \
(e.g. /etc/udev/rules.d/70-u2f.rules with KERNEL==\"hidraw*\", SUBSYSTEM==\"hidraw\", \
ATTRS{idVendor}==\"<vendor id>\", TAG+=\"uaccess\", MODE=\"0660\", GROUP=\"plugdev\"; \
systemd's 70-u2f.rules covers most keys), add yourself to the plugdev group, run \
`sudo udevadm control --reload && sudo udevadm trigger`, then unplug and replug the key";

/// Reports over a hidraw device.
pub struct HidReports {
    device: hidapi::HidDevice,
    path: String,
    report_size: usize,
}

/// The input report size a HID report descriptor declares for the FIDO collection: the
/// Report Count (with 8-bit Report Size) in force at the first Input item; `None` when the
/// descriptor does not say (callers then use 64, which every known FIDO device uses).
pub fn report_size_from_descriptor(descriptor: &[u8]) -> Option<usize> {
    let (mut count, mut size) = (None, None);
    let mut i = 0;
    while i < descriptor.len() {
        let prefix = descriptor[i];
        if prefix == 0xfe {
            // Long item: skip it.
            let len = usize::from(*descriptor.get(i + 1)?);
            i += 3 + len;
            continue;
        }
        let len = match prefix & 0x03 {
            3 => 4,
            n => usize::from(n),
        };
        let data = descriptor.get(i + 1..i + 1 + len)?;
        let value = data
            .iter()
            .rev()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        match prefix & 0xfc {
            0x94 => count = Some(value), // Report Count
            0x74 => size = Some(value),  // Report Size (bits)
            0x80 => {
                // Input item: the report layout is known now.
                return match (count, size) {
                    (Some(c), Some(8)) if (8..=64).contains(&c) => Some(c),
                    _ => None,
                };
            }
            _ => {}
        }
        i += 1 + len;
    }
    None
}

impl ReportIo for HidReports {
    fn write_report(&mut self, report: &[u8]) -> io::Result<()> {
        // Report ID 0 prefix: FIDO devices use unnumbered reports.
        let mut buf = Vec::with_capacity(report.len() + 1);
        buf.push(0);
        buf.extend_from_slice(report);
        self.device
            .write(&buf)
            .map(|_| ())
            .map_err(|e| io::Error::other(e.to_string()))
    }

    fn read_report(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        let mut buf = [0u8; 65];
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        match self.device.read_timeout(&mut buf, ms) {
            Ok(0) => Ok(None),
            Ok(n) => Ok(Some(buf[..n].to_vec())),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!("hid:{}", self.path)
    }

    fn report_size(&self) -> usize {
        self.report_size
    }
}

/// Opens the FIDO device at `path`.
pub fn open(path: &str) -> Result<CtapHid<HidReports>, TransportError> {
    let api = api()?;
    let cpath = std::ffi::CString::new(path)
        .map_err(|_| TransportError::NotFound(format!("invalid device path {path:?}")))?;
    let device = api.open_path(&cpath).map_err(|e| {
        let text = e.to_string();
        if text.contains("ermission") || text.contains("EACCES") {
            TransportError::PermissionDenied {
                path: path.to_string(),
                hint: PERMISSION_HINT.to_string(),
            }
        } else {
            TransportError::Backend(format!("cannot open {path}: {text}"))
        }
    })?;
    let mut descriptor = [0u8; 4096];
    let report_size = device
        .get_report_descriptor(&mut descriptor)
        .ok()
        .and_then(|n| report_size_from_descriptor(&descriptor[..n]))
        .unwrap_or(crate::ctaphid::DEFAULT_REPORT_SIZE);
    CtapHid::open(HidReports {
        device,
        path: path.to_string(),
        report_size,
    })
}

/// Opens the only FIDO device present; with none or several, says which exist.
pub fn open_only() -> Result<CtapHid<HidReports>, TransportError> {
    let devices = enumerate()?;
    match devices.as_slice() {
        [one] => open(&one.path),
        [] => Err(TransportError::NotFound(
            "no FIDO HID device found: plug in a security key, or use --device emulator".into(),
        )),
        many => Err(TransportError::NotFound(format!(
            "{} FIDO devices found; pick one with --device hid:PATH:\n{}",
            many.len(),
            many.iter()
                .map(|d| format!(
                    "  {}  {} {} ({:04x}:{:04x})",
                    d.path, d.manufacturer, d.product, d.vendor_id, d.product_id
                ))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_size_comes_from_the_descriptor() {
        let fido = crate::transport::uhid::FIDO_REPORT_DESCRIPTOR;
        assert_eq!(report_size_from_descriptor(&fido), Some(64));
        let mut small = fido;
        small[17] = 0x20; // Report Count 32
        assert_eq!(report_size_from_descriptor(&small), Some(32));
        assert_eq!(report_size_from_descriptor(&[]), None);
        assert_eq!(report_size_from_descriptor(&[0x95]), None, "truncated item");
        assert_eq!(
            report_size_from_descriptor(&[0x75, 0x10, 0x95, 0x40, 0x81, 0x02]),
            None,
            "16-bit fields"
        );
    }
}
