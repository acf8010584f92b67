//! `ctapkit cose decode`: print a COSE key's algorithm, curve, coordinates and JWK.

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};

use super::{read_input, Outcome};
use ctapkit::cose::{KeyMaterial, PublicKey};
use ctapkit::webauthn::Base64Url;

/// `cose` subcommands.
#[derive(Debug, Subcommand)]
pub enum CoseCommand {
    /// Decode a COSE_Key (hex, base64url, or raw CBOR with --binary).
    Decode(DecodeArgs),
}

/// `cose decode` arguments.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The key as hex or base64url text; or a file path; - for standard input.
    input: String,
    /// The input is raw CBOR bytes, not text.
    #[arg(long)]
    binary: bool,
    /// Print JSON (algorithm, COSE hex, JWK).
    #[arg(long)]
    json: bool,
}

/// Runs a `cose` subcommand.
pub fn run(cmd: CoseCommand) -> Result<Outcome> {
    match cmd {
        CoseCommand::Decode(args) => decode(args),
    }
}

fn key_bytes(args: &DecodeArgs) -> Result<Vec<u8>> {
    let raw = if args.input == "-" || std::path::Path::new(&args.input).is_file() {
        read_input(&args.input)?
    } else {
        args.input.as_bytes().to_vec()
    };
    if args.binary {
        return Ok(raw);
    }
    let text = String::from_utf8(raw).context("input is not text: use --binary for raw CBOR")?;
    let text = text.trim();
    if let Ok(bytes) = hex::decode(text) {
        return Ok(bytes);
    }
    Base64Url::decode(text)
        .map(|b| b.0)
        .context("input is neither hex nor base64url")
}

fn decode(args: DecodeArgs) -> Result<Outcome> {
    let bytes = key_bytes(&args)?;
    let key = match PublicKey::from_cose_bytes(&bytes) {
        Ok(key) => key,
        Err(err) => {
            println!("invalid COSE key: {err}");
            return Ok(Outcome::Fail);
        }
    };
    if args.json {
        let out = serde_json::json!({
            "alg": key.alg().to_i64(),
            "algName": key.alg().name(),
            "cose": hex::encode(key.to_cose_bytes()),
            "jwk": key.to_jwk(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Outcome::Pass);
    }
    println!("algorithm  {} ({})", key.alg(), key.alg().to_i64());
    match key.material() {
        KeyMaterial::Ec2 { curve, x, y } => {
            println!("key type   EC2, curve {}", curve.name());
            println!("x          {}", hex::encode(x));
            println!("y          {}", hex::encode(y));
        }
        KeyMaterial::Ed25519(x) => {
            println!("key type   OKP, curve Ed25519");
            println!("x          {}", hex::encode(x));
        }
        KeyMaterial::Rsa { n, e } => {
            println!("key type   RSA, {} bits", n.len() * 8);
            println!("n          {}", hex::encode(n));
            println!("e          {}", hex::encode(e));
        }
        _ => println!("key type   other"),
    }
    println!("jwk        {}", key.to_jwk());
    Ok(Outcome::Pass)
}
