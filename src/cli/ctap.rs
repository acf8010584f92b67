//! Device commands: devices, info, wink, make-credential, get-assertion, pin, creds, reset.

use std::io::{BufRead as _, Write as _};

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};

use super::device;
use super::Outcome;
use ctapkit::cose::CoseAlgorithm;
use ctapkit::ctap2::client::{ClientError, Ctap2, PinUvAuthToken};
use ctapkit::ctap2::client_pin::permission;
use ctapkit::ctap2::extensions::{CredBlobInput, ExtensionInputs, HmacSecretInput};
use ctapkit::ctap2::{CredProtect, GetInfoResponse, StatusCode};
use ctapkit::platform::{self, CreateOptions, GetOptions};
use ctapkit::transport::{hid, CtapDevice, DeviceSpec};
use ctapkit::webauthn::Base64Url;

/// Which device to talk to.
#[derive(Debug, Args, Clone)]
pub struct DeviceArgs {
    /// hid (the only FIDO key present), hid:PATH, udp:HOST:PORT, or emulator[:PROFILE].
    #[arg(long, default_value = "hid")]
    device: DeviceSpec,
}

/// `ctapkit info` arguments.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Print the decoded getInfo as JSON.
    #[arg(long)]
    json: bool,
    /// Fail if the device's answer is not CTAP2 canonical CBOR (and show the byte diff).
    #[arg(long)]
    strict: bool,
}

/// `ctapkit make-credential` arguments.
#[derive(Debug, Args)]
pub struct MakeCredentialArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// The relying party ID.
    #[arg(long)]
    rp_id: String,
    /// The page origin (default https://RP_ID).
    #[arg(long)]
    origin: Option<String>,
    /// The challenge, base64url (default: 32 random bytes).
    #[arg(long)]
    challenge: Option<String>,
    /// User name.
    #[arg(long, default_value = "user")]
    user_name: String,
    /// User handle, base64url (default: 16 random bytes).
    #[arg(long)]
    user_id: Option<String>,
    /// Algorithm, in preference order (repeatable): es256, es384, eddsa, rs256, ps256.
    #[arg(long = "alg", default_values = ["es256", "rs256"])]
    algs: Vec<String>,
    /// Make a discoverable (resident) credential.
    #[arg(long)]
    rk: bool,
    /// Require user verification.
    #[arg(long)]
    uv: bool,
    /// The device PIN (a pinUvAuthToken is obtained with it).
    #[arg(long, env = "CTAPKIT_PIN", hide_env_values = true)]
    pin: Option<String>,
    /// credProtect level: 1 (optional), 2 (optional with credential ID list), 3 (UV required).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3))]
    cred_protect: Option<u64>,
    /// Ask for an hmac-secret capable credential.
    #[arg(long)]
    hmac_secret: bool,
    /// Store this blob (base64url, up to 32 bytes) with the credential (credBlob).
    #[arg(long)]
    cred_blob: Option<String>,
    /// Ask for a largeBlobKey (discoverable credentials).
    #[arg(long)]
    large_blob_key: bool,
    /// Ask for the minimum PIN length (minPinLength).
    #[arg(long)]
    min_pin_length: bool,
}

/// `ctapkit get-assertion` arguments.
#[derive(Debug, Args)]
pub struct GetAssertionArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// The relying party ID.
    #[arg(long)]
    rp_id: String,
    /// The page origin (default https://RP_ID).
    #[arg(long)]
    origin: Option<String>,
    /// The challenge, base64url (default: 32 random bytes).
    #[arg(long)]
    challenge: Option<String>,
    /// An allowed credential ID, base64url (repeatable; none: discoverable credentials).
    #[arg(long = "allow")]
    allow: Vec<String>,
    /// Require user verification.
    #[arg(long)]
    uv: bool,
    /// The device PIN.
    #[arg(long, env = "CTAPKIT_PIN", hide_env_values = true)]
    pin: Option<String>,
    /// hmac-secret salt, base64url, 32 bytes (repeatable: at most two); outputs are printed
    /// in clientExtensionResults.hmacGetSecret.
    #[arg(long = "hmac-salt")]
    hmac_salts: Vec<String>,
    /// Read the credential's credBlob (clientExtensionResults.getCredBlob).
    #[arg(long)]
    get_cred_blob: bool,
}

/// `ctapkit pin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Set the first PIN.
    Set {
        #[command(flatten)]
        device: DeviceArgs,
        /// The new PIN.
        #[arg(long, env = "CTAPKIT_NEW_PIN", hide_env_values = true)]
        new_pin: String,
    },
    /// Change the PIN.
    Change {
        #[command(flatten)]
        device: DeviceArgs,
        /// The current PIN.
        #[arg(long, env = "CTAPKIT_PIN", hide_env_values = true)]
        pin: String,
        /// The new PIN.
        #[arg(long, env = "CTAPKIT_NEW_PIN", hide_env_values = true)]
        new_pin: String,
    },
    /// Show how many PIN attempts are left.
    Retries {
        #[command(flatten)]
        device: DeviceArgs,
    },
}

/// How `ctapkit creds` authenticates.
#[derive(Debug, Args)]
pub struct CredsAuthArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// The device PIN (credential management needs a pinUvAuthToken with the cm permission;
    /// without --pin, built-in user verification is used if the device has it).
    #[arg(long, env = "CTAPKIT_PIN", hide_env_values = true)]
    pin: Option<String>,
}

/// `ctapkit creds` subcommands (authenticatorCredentialManagement).
#[derive(Debug, Subcommand)]
pub enum CredsCommand {
    /// List the discoverable credentials, per relying party.
    List {
        #[command(flatten)]
        auth: CredsAuthArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete one discoverable credential.
    Delete {
        #[command(flatten)]
        auth: CredsAuthArgs,
        /// The credential ID, base64url (as `creds list` shows it).
        #[arg(long)]
        id: String,
    },
}

/// `ctapkit reset` arguments.
#[derive(Debug, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

/// `ctapkit devices`.
pub fn devices(json: bool) -> Result<Outcome> {
    let list = hid::enumerate()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(Outcome::Pass);
    }
    if list.is_empty() {
        println!("no FIDO HID devices found (usage page 0xF1D0).");
        println!("plug in a security key, or use the emulator: --device emulator[:PROFILE]");
        return Ok(Outcome::Pass);
    }
    for d in &list {
        let versions = match hid::open(&d.path).map(Ctap2::new) {
            Ok(mut c) => c
                .get_info()
                .map(|i| i.versions.join(" "))
                .unwrap_or_else(|_| "CTAP1/U2F".into()),
            Err(e) => format!("(cannot open: {e})"),
        };
        println!(
            "{}  {:04x}:{:04x}  {} {}  [{}]",
            d.path, d.vendor_id, d.product_id, d.manufacturer, d.product, versions
        );
    }
    Ok(Outcome::Pass)
}

/// `ctapkit info`.
pub fn info(args: InfoArgs) -> Result<Outcome> {
    let mut ctap = device::client(&args.device.device)?.strict(args.strict);
    let info = ctap.get_info()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info_json(&info))?);
    } else {
        println!("device       {}", ctap.device_mut().describe());
        print_info(&info);
    }
    for finding in ctap.findings() {
        eprintln!("warning: {finding}");
    }
    Ok(Outcome::Pass)
}

fn info_json(info: &GetInfoResponse) -> serde_json::Value {
    serde_json::json!({
        "versions": info.versions,
        "extensions": info.extensions,
        "aaguid": info.aaguid.to_string(),
        "options": info.options.as_ref().map(|o| o.iter().map(|(k, v)| (k.clone(), serde_json::Value::Bool(*v))).collect::<serde_json::Map<_, _>>()),
        "maxMsgSize": info.max_msg_size,
        "pinUvAuthProtocols": info.pin_uv_auth_protocols,
        "maxCredentialCountInList": info.max_credential_count_in_list,
        "maxCredentialIdLength": info.max_credential_id_length,
        "transports": info.transports,
        "algorithms": info.algorithms.as_ref().map(|a| a.iter().map(|p| p.alg.name()).collect::<Vec<_>>()),
        "minPINLength": info.min_pin_length,
        "firmwareVersion": info.firmware_version,
        "maxCredBlobLength": info.max_cred_blob_length,
        "remainingDiscoverableCredentials": info.remaining_discoverable_credentials,
    })
}

fn print_info(info: &GetInfoResponse) {
    println!("versions     {}", info.versions.join(", "));
    if let Some(e) = &info.extensions {
        println!("extensions   {}", e.join(", "));
    }
    println!("AAGUID       {}", info.aaguid);
    if let Some(opts) = &info.options {
        let text: Vec<String> = opts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("options      {}", text.join(" "));
    }
    if let Some(p) = &info.pin_uv_auth_protocols {
        println!("PIN/UV auth  protocols {p:?}");
    }
    if let Some(a) = &info.algorithms {
        let names: Vec<String> = a.iter().map(|p| p.alg.name()).collect();
        println!("algorithms   {}", names.join(", "));
    }
    if let Some(t) = &info.transports {
        println!("transports   {}", t.join(", "));
    }
    if let Some(n) = info.remaining_discoverable_credentials {
        println!("free slots   {n} discoverable credentials");
    }
    if let Some(m) = info.max_msg_size {
        println!("max message  {m} bytes");
    }
}

/// `ctapkit wink`.
pub fn wink(args: DeviceArgs) -> Result<Outcome> {
    let mut device = device::open(&args.device)?;
    device.wink()?;
    println!("winked {}", device.describe());
    Ok(Outcome::Pass)
}

fn parse_alg(name: &str) -> Result<CoseAlgorithm> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "es256" => CoseAlgorithm::Es256,
        "es384" => CoseAlgorithm::Es384,
        "es512" => CoseAlgorithm::Es512,
        "eddsa" => CoseAlgorithm::EdDsa,
        "rs256" => CoseAlgorithm::Rs256,
        "ps256" => CoseAlgorithm::Ps256,
        other => {
            bail!("unknown algorithm {other:?}: use es256, es384, es512, eddsa, rs256 or ps256")
        }
    })
}

fn b64_or_random(value: &Option<String>, what: &str) -> Result<Vec<u8>> {
    match value {
        Some(text) => Base64Url::decode(text)
            .map(|b| b.0)
            .with_context(|| format!("{what} {text:?} is not base64url")),
        None => {
            let mut bytes = vec![0u8; 32];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
            Ok(bytes)
        }
    }
}

fn token(
    ctap: &mut Ctap2<Box<dyn CtapDevice>>,
    pin: &Option<String>,
    permissions: u64,
    rp_id: &str,
) -> Result<Option<PinUvAuthToken>> {
    let Some(pin) = pin else { return Ok(None) };
    let info = ctap.get_info()?;
    let protocol = info.preferred_pin_protocol();
    let ctap21 = info.versions.iter().any(|v| v == "FIDO_2_1");
    Ok(Some(ctap.pin_token(
        protocol,
        pin,
        permissions,
        Some(rp_id),
        ctap21,
    )?))
}

/// `ctapkit make-credential`.
pub fn make_credential(args: MakeCredentialArgs) -> Result<Outcome> {
    let mut ctap = device::client(&args.device.device)?;
    let origin = args
        .origin
        .clone()
        .unwrap_or_else(|| format!("https://{}", args.rp_id));
    let options = CreateOptions {
        rp_id: args.rp_id.clone(),
        rp_name: args.rp_id.clone(),
        user_id: b64_or_random(&args.user_id, "--user-id")?,
        user_name: args.user_name.clone(),
        user_display_name: args.user_name.clone(),
        challenge: b64_or_random(&args.challenge, "--challenge")?,
        algorithms: args
            .algs
            .iter()
            .map(|a| parse_alg(a))
            .collect::<Result<_>>()?,
        resident_key: args.rk,
        user_verification_required: args.uv,
        exclude: vec![],
    };
    let token = token(
        &mut ctap,
        &args.pin,
        permission::MAKE_CREDENTIAL,
        &args.rp_id,
    )?;
    let mut ext = ExtensionInputs {
        cred_protect: args.cred_protect.and_then(CredProtect::from_u64),
        hmac_secret: args.hmac_secret.then_some(HmacSecretInput::Create(true)),
        large_blob_key: args.large_blob_key.then_some(true),
        min_pin_length: args.min_pin_length.then_some(true),
        ..Default::default()
    };
    if let Some(blob) = &args.cred_blob {
        let bytes = Base64Url::decode(blob)
            .with_context(|| format!("--cred-blob {blob:?} is not base64url"))?;
        ext.cred_blob = Some(CredBlobInput::Store(bytes.0));
    }
    let ext = (!ext.is_empty()).then_some(ext);
    let response =
        platform::create_with_extensions(&mut ctap, &origin, &options, token.as_ref(), ext)?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    eprintln!(
        "verify with: ctapkit verify registration --rp-id {} --origin {origin} --challenge {} FILE",
        args.rp_id,
        Base64Url(options.challenge).encode()
    );
    Ok(Outcome::Pass)
}

/// `ctapkit get-assertion`.
pub fn get_assertion(args: GetAssertionArgs) -> Result<Outcome> {
    let mut ctap = device::client(&args.device.device)?;
    let origin = args
        .origin
        .clone()
        .unwrap_or_else(|| format!("https://{}", args.rp_id));
    let allow = args
        .allow
        .iter()
        .map(|a| {
            Base64Url::decode(a)
                .map(|b| b.0)
                .with_context(|| format!("--allow {a:?} is not base64url"))
        })
        .collect::<Result<Vec<_>>>()?;
    let options = GetOptions {
        rp_id: args.rp_id.clone(),
        challenge: b64_or_random(&args.challenge, "--challenge")?,
        allow,
        user_verification_required: args.uv,
    };
    let token = token(&mut ctap, &args.pin, permission::GET_ASSERTION, &args.rp_id)?;
    let ext = platform::GetExtensions {
        hmac_salts: args
            .hmac_salts
            .iter()
            .map(|s| {
                Base64Url::decode(s)
                    .map(|b| b.0)
                    .with_context(|| format!("--hmac-salt {s:?} is not base64url"))
            })
            .collect::<Result<_>>()?,
        cred_blob: args.get_cred_blob,
    };
    let response =
        platform::get_with_extensions(&mut ctap, &origin, &options, token.as_ref(), &ext)?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(Outcome::Pass)
}

/// `ctapkit pin ...`.
pub fn pin(cmd: PinCommand) -> Result<Outcome> {
    let spec = match &cmd {
        PinCommand::Set { device, .. }
        | PinCommand::Change { device, .. }
        | PinCommand::Retries { device } => device.device.clone(),
    };
    let mut ctap = device::client(&spec)?;
    let info = ctap.get_info()?;
    if info.option("clientPin").is_none() {
        bail!("this authenticator has no client PIN (getInfo lists no clientPin option)");
    }
    let protocol = info.preferred_pin_protocol();
    match cmd {
        PinCommand::Set { new_pin, .. } => {
            ctap.set_pin(protocol, &new_pin)?;
            println!("PIN set");
        }
        PinCommand::Change { pin, new_pin, .. } => {
            ctap.change_pin(protocol, &pin, &new_pin)?;
            println!("PIN changed");
        }
        PinCommand::Retries { .. } => {
            println!("{} PIN attempts left", ctap.pin_retries(protocol)?);
        }
    }
    Ok(Outcome::Pass)
}

/// `ctapkit reset`.
pub fn reset(args: ResetArgs) -> Result<Outcome> {
    if !args.yes {
        eprint!("reset deletes every credential and the PIN on the device. type \"reset\" to continue: ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if line.trim() != "reset" {
            bail!("not confirmed; nothing was changed (use --yes in scripts)");
        }
    }
    let mut ctap = device::client(&args.device.device)?;
    ctap.reset()?;
    println!("authenticator reset");
    Ok(Outcome::Pass)
}

/// A client and a pinUvAuthToken with the cm permission, with clear errors for devices that
/// cannot manage credentials.
fn creds_session(auth: &CredsAuthArgs) -> Result<(Ctap2<Box<dyn CtapDevice>>, PinUvAuthToken)> {
    let mut ctap = device::client(&auth.device.device)?;
    let info = ctap.get_info()?;
    if info.option("credMgmt") != Some(true) {
        if info.option("credentialMgmtPreview") == Some(true) {
            bail!(
                "this authenticator only supports the CTAP 2.1-PRE credential management prototype \
                 (getInfo has credentialMgmtPreview but no credMgmt option), which ctapkit does not speak"
            );
        }
        bail!(
            "this authenticator does not support credential management (getInfo has no credMgmt option)"
        );
    }
    let protocol = info.preferred_pin_protocol();
    let token = match &auth.pin {
        Some(pin) => {
            if info.option("clientPin") == Some(false) {
                bail!(
                    "no PIN is set on this authenticator, and credential management needs one: \
                     set it first with `ctapkit pin set --new-pin …`"
                );
            }
            if info.option("clientPin").is_none() {
                bail!(
                    "this authenticator has no client PIN (getInfo lists no clientPin option); \
                       omit --pin to use its built-in user verification"
                );
            }
            ctap.pin_token(protocol, pin, permission::CREDENTIAL_MANAGEMENT, None, true)
                .context("cannot get a PIN token with the credential management permission")?
        }
        None if info.option("uv") == Some(true) && info.option("pinUvAuthToken") == Some(true) => {
            ctap.uv_token(protocol, permission::CREDENTIAL_MANAGEMENT, None)
                .context("built-in user verification failed")?
        }
        None => {
            bail!("credential management needs the device PIN: pass --pin (or set CTAPKIT_PIN)")
        }
    };
    Ok((ctap, token))
}

fn cred_protect_name(level: Option<CredProtect>) -> &'static str {
    match level {
        None => "-",
        Some(CredProtect::UserVerificationOptional) => "userVerificationOptional",
        Some(CredProtect::UserVerificationOptionalWithCredentialIdList) => {
            "userVerificationOptionalWithCredentialIDList"
        }
        Some(CredProtect::UserVerificationRequired) => "userVerificationRequired",
    }
}

/// `ctapkit creds ...`.
pub fn creds(cmd: CredsCommand) -> Result<Outcome> {
    match cmd {
        CredsCommand::List { auth, json } => creds_list(&auth, json),
        CredsCommand::Delete { auth, id } => {
            let credential_id = Base64Url::decode(&id)
                .map(|b| b.0)
                .with_context(|| format!("--id {id:?} is not base64url"))?;
            let (mut ctap, token) = creds_session(&auth)?;
            match ctap.delete_credential(&token, &credential_id) {
                Err(ClientError::Status(StatusCode::NO_CREDENTIALS)) => bail!(
                    "no discoverable credential with ID {id} on this authenticator (see `ctapkit creds list`)"
                ),
                other => other?,
            }
            println!("deleted credential {id}");
            Ok(Outcome::Pass)
        }
    }
}

fn creds_list(auth: &CredsAuthArgs, json: bool) -> Result<Outcome> {
    let (mut ctap, token) = creds_session(auth)?;
    let metadata = ctap.creds_metadata(&token)?;
    let mut rps = Vec::new();
    for (rp, hash) in ctap.enumerate_rps(&token)? {
        let creds = ctap.enumerate_credentials(&token, &hash)?;
        rps.push((rp, hash, creds));
    }
    if json {
        let rps: Vec<serde_json::Value> = rps
            .iter()
            .map(|(rp, hash, creds)| {
                serde_json::json!({
                    "id": rp.id,
                    "name": rp.name,
                    "rpIdHash": Base64Url(hash.clone()).encode(),
                    "credentials": creds.iter().map(|c| serde_json::json!({
                        "id": Base64Url(c.credential_id.id.clone()).encode(),
                        "user": {
                            "id": Base64Url(c.user.id.clone()).encode(),
                            "name": c.user.name,
                            "displayName": c.user.display_name,
                        },
                        "alg": c.parsed_public_key().ok().map(|k| k.alg().name()),
                        "credProtect": c.cred_protect.map(CredProtect::to_u64),
                        "largeBlobKey": c.large_blob_key.is_some(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let out = serde_json::json!({
            "existing": metadata.existing,
            "remaining": metadata.remaining,
            "rps": rps,
        });
        let mut text = serde_json::to_string_pretty(&out)?;
        text.push('\n');
        write_stdout(&text)?;
        return Ok(Outcome::Pass);
    }
    use std::fmt::Write as _;
    let mut text = format!(
        "{} discoverable credential{}, room for {} more\n",
        metadata.existing,
        if metadata.existing == 1 { "" } else { "s" },
        metadata.remaining
    );
    for (rp, _, creds) in &rps {
        match &rp.name {
            Some(name) if name != &rp.id => writeln!(text, "\n{} ({name})", rp.id)?,
            _ => writeln!(text, "\n{}", rp.id)?,
        }
        for c in creds {
            let id = Base64Url(c.credential_id.id.clone()).encode();
            writeln!(text, "  credential    {id}")?;
            writeln!(
                text,
                "    user        {} / {}",
                c.user.name.as_deref().unwrap_or("-"),
                c.user.display_name.as_deref().unwrap_or("-")
            )?;
            let handle = Base64Url(c.user.id.clone()).encode();
            writeln!(text, "    handle      {handle}")?;
            if let Ok(key) = c.parsed_public_key() {
                writeln!(text, "    algorithm   {}", key.alg().name())?;
            }
            writeln!(
                text,
                "    credProtect {}",
                cred_protect_name(c.cred_protect)
            )?;
        }
    }
    write_stdout(&text)?;
    Ok(Outcome::Pass)
}

/// Writes to standard output, reporting a closed pipe as an error instead of panicking.
fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
