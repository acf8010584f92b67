//! `ctapkit site ...`: the registration office's operations on the enrollment site's
//! database (every one recorded in the audit trail).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use super::Outcome;
use ctapkit::enrollment::now;
use ctapkit::enrollment::store::{reason_text, NewApplicant, SqliteStore, Store};
use ctapkit::site::{SiteConfig, SitePolicy};

/// Where the database lives.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// The site's SQLite database file (created if missing).
    #[arg(long, default_value = "ctapkit-site.db", env = "CTAPKIT_DB")]
    db: PathBuf,
}

impl DbArgs {
    fn open(&self) -> Result<SqliteStore> {
        SqliteStore::open(&self.db)
            .with_context(|| format!("cannot open the site database {}", self.db.display()))
    }
}

/// `site` subcommands.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Run the enrollment site (the applicant's pages) until Ctrl-C.
    Serve(ServeArgs),
    /// Applicants.
    #[command(subcommand)]
    Applicant(ApplicantCommand),
    /// Registration URLs.
    #[command(subcommand)]
    Url(UrlCommand),
    /// Revoke a certificate (HPKI card lost: --card; mobile device lost: --second).
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// The applicant's registry number.
        #[arg(long)]
        registry_number: String,
        /// Revoke the HPKI card certificate (mobile sign-in keeps working).
        #[arg(long)]
        card: bool,
        /// Revoke the second certificate (mobile sign-in is refused).
        #[arg(long)]
        second: bool,
    },
    /// Registered credentials.
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// Show applicants, their URLs and credentials.
    Status {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a registration URL as a QR code (terminal), and write it as PNG and/or SVG for
    /// the QR sheet. URLs are shown once at creation: only their hash is stored.
    Qr {
        /// The registration URL (as printed by `applicant add` or `url reissue`).
        #[arg(long)]
        url: String,
        /// Write a PNG here.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Write an SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// PNG pixels per module.
        #[arg(long, default_value_t = 8)]
        scale: usize,
    },
    /// Print the audit trail.
    Audit {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `site serve` arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on. Browsers must open the site by a name (WebAuthn refuses IP
    /// addresses): with the default, open http://localhost:8080.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The WebAuthn RP ID.
    #[arg(long, default_value = "localhost")]
    rp_id: String,
    /// The site's origin as browsers send it [default: http://localhost:<listen port>].
    #[arg(long)]
    origin: Option<String>,
    /// Serve https with this certificate chain (PEM, leaf first); needs --tls-key. Phones and
    /// other devices on the network need https (WebAuthn's secure context) and must trust it.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The policy profile (jpa-hpki: phone biometrics only; jpa-hpki-cross-platform: USB keys too).
    #[arg(long, default_value = ctapkit::site::policy::DEFAULT_POLICY)]
    policy: SitePolicy,
}

/// `site applicant` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApplicantCommand {
    /// Add an applicant; prints the registration URL as the last line.
    Add {
        #[command(flatten)]
        db: DbArgs,
        /// Pharmacist registry number (digits).
        #[arg(long)]
        registry_number: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Date of birth, YYYY-MM-DD (the URL password is YYYYMMDD).
        #[arg(long)]
        birth_date: String,
        /// The site's base URL.
        #[arg(long, default_value = "http://localhost:8080")]
        base_url: String,
        /// Days until the URL expires.
        #[arg(long, default_value_t = 30)]
        valid_days: u64,
        /// Print the applicant and URL as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `site url` subcommands.
#[derive(Debug, Subcommand)]
pub enum UrlCommand {
    /// Issue a new registration URL; the old ones stop working.
    Reissue {
        #[command(flatten)]
        db: DbArgs,
        /// The applicant's registry number.
        #[arg(long)]
        registry_number: String,
        /// The site's base URL.
        #[arg(long, default_value = "http://localhost:8080")]
        base_url: String,
        /// Days until the URL expires.
        #[arg(long, default_value_t = 30)]
        valid_days: u64,
    },
}

/// `site credential` subcommands.
#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Delete an applicant's registered credentials (mobile device lost); they can enrol again.
    Delete {
        #[command(flatten)]
        db: DbArgs,
        /// The applicant's registry number.
        #[arg(long)]
        registry_number: String,
    },
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

fn url(base: &str, token: &str) -> String {
    format!("{}/r/{token}", base.trim_end_matches('/'))
}

/// Runs a `site` subcommand.
pub fn run(cmd: SiteCommand) -> Result<Outcome> {
    match cmd {
        SiteCommand::Serve(args) => return serve(args),
        SiteCommand::Applicant(ApplicantCommand::Add {
            db,
            registry_number,
            name,
            birth_date,
            base_url,
            valid_days,
            json,
        }) => {
            let store = db.open()?;
            let new = NewApplicant {
                registry_number,
                name,
                birth_date,
            };
            let (applicant, token) = store.add_applicant(&new, days(valid_days), now())?;
            let link = url(&base_url, &token);
            if json {
                let out = serde_json::json!({ "applicant": applicant, "url": link, "username": applicant.username() });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "applicant {} ({}) added; username {}",
                    applicant.registry_number,
                    applicant.name,
                    applicant.username()
                );
                println!(
                    "password: the date of birth as YYYYMMDD; URL valid for {valid_days} days"
                );
                println!("{link}");
            }
        }
        SiteCommand::Url(UrlCommand::Reissue {
            db,
            registry_number,
            base_url,
            valid_days,
        }) => {
            let store = db.open()?;
            let token = store.reissue_url(&registry_number, days(valid_days), now())?;
            println!("new registration URL for {registry_number}; earlier URLs no longer work");
            println!("{}", url(&base_url, &token));
        }
        SiteCommand::Revoke {
            db,
            registry_number,
            card,
            second,
        } => {
            db.open()?.revoke(&registry_number, card, second, now())?;
            println!(
                "revoked for {registry_number}:{}{}",
                if card { " card certificate" } else { "" },
                if second { " second certificate" } else { "" }
            );
        }
        SiteCommand::Credential(CredentialCommand::Delete {
            db,
            registry_number,
        }) => {
            let n = db.open()?.delete_credentials(&registry_number, now())?;
            println!("deleted {n} credential(s) of {registry_number}; the applicant can enrol a new device");
        }
        SiteCommand::Status { db, json } => {
            let store = db.open()?;
            let mut rows = Vec::new();
            for a in store.applicants()? {
                let urls = store.urls(a.id)?;
                let creds = store.credentials(a.id)?;
                rows.push(serde_json::json!({
                    "applicant": a,
                    "urls": urls.iter().map(|u| serde_json::json!({
                        "id": u.id, "state": reason_text(u.invalid), "failedAttempts": u.failed_attempts, "expiresAt": u.expires_at,
                    })).collect::<Vec<_>>(),
                    "credentials": creds.iter().map(|c| serde_json::json!({
                        "label": c.label, "aaguid": c.aaguid, "alg": c.alg, "signCount": c.sign_count,
                        "createdAt": c.created_at, "lastUsedAt": c.last_used_at,
                    })).collect::<Vec<_>>(),
                }));
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no applicants yet: add one with `ctapkit site applicant add`");
            } else {
                for r in &rows {
                    let a = &r["applicant"];
                    println!(
                        "{} {}  card {}  second {}",
                        a["registryNumber"].as_str().unwrap_or(""),
                        a["name"].as_str().unwrap_or(""),
                        a["cardCertificate"].as_str().unwrap_or(""),
                        a["secondCertificate"].as_str().unwrap_or("")
                    );
                    for u in r["urls"].as_array().into_iter().flatten() {
                        println!(
                            "  URL #{}: {} ({} wrong passwords)",
                            u["id"],
                            u["state"].as_str().unwrap_or(""),
                            u["failedAttempts"]
                        );
                    }
                    for c in r["credentials"].as_array().into_iter().flatten() {
                        println!(
                            "  credential \"{}\" AAGUID {} sign count {}",
                            c["label"].as_str().unwrap_or(""),
                            c["aaguid"].as_str().unwrap_or(""),
                            c["signCount"]
                        );
                    }
                }
            }
        }
        SiteCommand::Qr {
            url,
            png,
            svg,
            scale,
        } => {
            use ctapkit::enrollment::qr;
            if !(url.starts_with("https://") || url.starts_with("http://")) || !url.contains("/r/")
            {
                anyhow::bail!("{url:?} is not a registration URL (…/r/TOKEN)");
            }
            println!("{}", qr::terminal(&url)?);
            println!("{url}");
            if let Some(path) = png {
                std::fs::write(&path, qr::png(&url, scale.clamp(1, 64))?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("PNG written to {}", path.display());
            }
            if let Some(path) = svg {
                std::fs::write(&path, qr::svg(&url)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("SVG written to {}", path.display());
            }
        }
        SiteCommand::Audit { db, json } => {
            let trail = db.open()?.audit_trail()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&trail)?);
            } else {
                for e in trail {
                    println!(
                        "{:>5} {} {:<9} {:<28} {} {}",
                        e.id,
                        e.at,
                        e.actor,
                        e.action,
                        e.applicant_id
                            .map(|i| format!("applicant {i}"))
                            .unwrap_or_default(),
                        e.detail
                    );
                }
            }
        }
    }
    Ok(Outcome::Pass)
}

/// `ctapkit site serve`.
fn serve(args: ServeArgs) -> Result<Outcome> {
    let store = std::sync::Arc::new(args.db.open()?);
    let listener = std::net::TcpListener::bind(&args.listen).with_context(|| {
        format!(
            "cannot listen on {}: is another server using it? Pick another with --listen",
            args.listen
        )
    })?;
    let addr = listener.local_addr()?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let read = |p: &PathBuf| {
                std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
            };
            Some(ctapkit::site::Tls::from_pem(&read(cert)?, &read(key)?)?)
        }
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let origin = args
        .origin
        .unwrap_or_else(|| format!("{scheme}://localhost:{}", addr.port()));
    ctapkit::platform::check_rp_id(&args.rp_id, &origin).with_context(|| {
        "browsers would refuse this RP ID for this origin: the RP ID must be the origin's host or a parent domain, over https (or http://localhost)"
    })?;
    let config = SiteConfig {
        rp_id: args.rp_id,
        origin,
        rp_name: "HPKI セカンド電子証明書".into(),
        policy: args.policy,
        password_answer_time: ctapkit::site::DEFAULT_PASSWORD_ANSWER_TIME,
    };
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    eprintln!(
        "serving the enrollment site on {} (listening on {addr}; rp.id {}; policy {}; database {})",
        config.origin,
        config.rp_id,
        config.policy.name,
        args.db.db.display()
    );
    eprintln!(
        "open a registration URL from `ctapkit site applicant add` in a browser; Ctrl-C stops"
    );
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("stopping");
        };
        ctapkit::site::serve_with(
            listener,
            config,
            store,
            ctapkit::site::ServeLimits::default(),
            tls,
            shutdown,
        )
        .await
    })?;
    Ok(Outcome::Pass)
}
