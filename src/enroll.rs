//! `ctapkit enroll`: drives an authenticator through the enrollment site's exact flow (manual
//! §1.2 steps 1–8, then the second scan) over HTTP, as the applicant's phone would, and
//! reports every step. [`LocalSite`] runs the site in-process on a temporary database.

pub mod browser;
mod flow;
pub mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use flow::guidance;
pub use report::{Report, Status, StepReport};

use crate::authenticator::Authenticator;
use crate::ctap2::client::Ctap2;
use crate::enrollment::store::NewApplicant;
use crate::enrollment::{now, SqliteStore, Store};
use crate::site::{RunningSite, SitePolicy};
use crate::transport::{loopback, CtapDevice, CtapHid, TransportError};

/// The authenticator being tested.
pub struct DeviceUnderTest<D: CtapDevice> {
    /// Its CTAP2 client.
    pub ctap: Ctap2<D>,
    /// A platform authenticator (the phone's own), as opposed to a roaming key.
    pub platform: bool,
    /// Its model, when known (e.g. from the emulator profile).
    pub model: Option<String>,
    /// The User-Agent of the browser used with it (a phone's Safari or Chrome), if any.
    pub browser_user_agent: Option<String>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct EnrollOptions {
    /// The device as `--device` named it (for the report).
    pub device_name: String,
    /// The applicant's registration URL (`…/r/TOKEN`).
    pub registration_url: String,
    /// The password printed on the QR sheet.
    pub password: String,
    /// The registry number (the expected username is `<number>-jpa`).
    pub registry_number: Option<String>,
    /// Wrong passwords to enter first (5 or more rehearse the lockout).
    pub wrong_passwords: u32,
    /// Scan again after enrolment: step 5 must read Sign In, and the sign-in must verify.
    pub second_scan: bool,
    /// The device PIN, for keys that verify the user with a PIN.
    pub pin: Option<String>,
    /// The site's policy profile, when known (for the report).
    pub policy: Option<String>,
    /// How long one HTTP exchange may take.
    pub http_timeout: Duration,
    /// Certificate authorities (PEM) to trust for an https site, instead of the public
    /// web PKI roots (a staging site with a private CA).
    pub trusted_ca_pem: Option<Vec<u8>>,
}

impl EnrollOptions {
    /// The User-Agent: the browser used with the device (a phone's Safari or Chrome), if
    /// known, then ctapkit's own product token.
    pub fn user_agent<D: CtapDevice>(&self, device: &DeviceUnderTest<D>) -> String {
        let ours = format!(
            "ctapkit-enroll/{} ({})",
            env!("CARGO_PKG_VERSION"),
            self.device_name
        );
        match &device.browser_user_agent {
            Some(browser) => format!("{browser} {ours}"),
            None => ours,
        }
    }
}

/// Runs the flow for `device`. `reissue` lets the lockout rehearsal go on with a re-issued
/// URL (in-process site); `progress` receives a line whenever the run waits for something.
pub fn enroll<D: CtapDevice>(
    device: &mut DeviceUnderTest<D>,
    options: &EnrollOptions,
    reissue: Option<&mut dyn FnMut() -> Result<String, String>>,
    progress: &mut dyn FnMut(&str),
) -> Report {
    flow::run(device, options, reissue, progress)
}

/// An emulated authenticator (in-process, over CTAPHID) as the device under test, with a strict
/// client (Chromium's CTAP2 CBOR reader refuses non-canonical answers too).
pub fn emulated(
    authenticator: Authenticator,
) -> Result<DeviceUnderTest<CtapHid<loopback::ChannelReports>>, TransportError> {
    let profile = authenticator.profile().clone();
    let faults = authenticator.hid_faults();
    let hid = loopback::connect(&format!("emulator:{}", profile.name), authenticator, faults)?;
    Ok(DeviceUnderTest {
        ctap: Ctap2::new(hid).strict(true),
        platform: profile.platform,
        model: Some(profile.model.to_string()),
        browser_user_agent: profile.browser_user_agent.map(str::to_string),
    })
}

/// The sample applicant of in-process runs: registry number 999999 (username `999999-jpa`),
/// born 17 March 1990 (password `19900317`), as in the manual's examples.
pub const SAMPLE_REGISTRY_NUMBER: &str = "999999";
/// The sample applicant's date of birth.
pub const SAMPLE_BIRTH_DATE: &str = "1990-03-17";

/// The enrollment site running in this process on a temporary SQLite file (removed on drop).
pub struct LocalSite {
    /// The running site.
    pub site: RunningSite,
    /// Its store.
    pub store: Arc<SqliteStore>,
    /// The database file.
    pub db_path: PathBuf,
}

/// An applicant added to a [`LocalSite`].
#[derive(Debug, Clone)]
pub struct LocalApplicant {
    /// Registry number.
    pub registry_number: String,
    /// The registration URL.
    pub url: String,
    /// The password (birth date, YYYYMMDD).
    pub password: String,
}

impl LocalSite {
    /// Starts the site on `localhost` (`port` 0: any free port) with a new temporary database
    /// (removed when the site is dropped, or at once if the site cannot start).
    pub fn start(policy: SitePolicy, port: u16) -> Result<Self, String> {
        let mut bytes = [0u8; 8];
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        let db_path = std::env::temp_dir().join(format!(
            "ctapkit-site-{}-{}.db",
            std::process::id(),
            hex::encode(bytes)
        ));
        let store =
            Arc::new(SqliteStore::open(&db_path).map_err(|e| {
                format!("cannot create the site database {}: {e}", db_path.display())
            })?);
        match RunningSite::start_localhost(port, policy, store.clone()) {
            Ok(site) => Ok(LocalSite {
                site,
                store,
                db_path,
            }),
            Err(e) => {
                drop(store);
                remove_database(&db_path);
                Err(format!("cannot start the site on localhost:{port}: {e}"))
            }
        }
    }

    /// Adds an applicant with a registration URL valid for `ttl`.
    pub fn add_applicant(
        &self,
        registry_number: &str,
        name: &str,
        birth_date: &str,
        ttl: Duration,
    ) -> Result<LocalApplicant, String> {
        let new = NewApplicant {
            registry_number: registry_number.into(),
            name: name.into(),
            birth_date: birth_date.into(),
        };
        let (applicant, token) = self
            .store
            .add_applicant(&new, ttl, now())
            .map_err(|e| e.to_string())?;
        Ok(LocalApplicant {
            registry_number: applicant.registry_number.clone(),
            url: self.site.registration_url(&token),
            password: applicant.password(),
        })
    }

    /// The office re-issues the URL of `registry_number`; returns the new URL.
    pub fn reissue(&self, registry_number: &str) -> Result<String, String> {
        let token = self
            .store
            .reissue_url(registry_number, Duration::from_secs(30 * 86_400), now())
            .map_err(|e| e.to_string())?;
        Ok(self.site.registration_url(&token))
    }
}

impl Drop for LocalSite {
    fn drop(&mut self) {
        remove_database(&self.db_path);
    }
}

/// Removes an SQLite file and its WAL companions.
fn remove_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}
