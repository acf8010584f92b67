//! Verification-core benchmarks: parsers, full ceremonies, and — in the same run — the bare
//! signature verification of the backend, so the pipeline's overhead is a ratio.
//!
//! Run: `cargo bench --bench verify`; `scripts/bench-table` prints the README table.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ctapkit::cose::PublicKey;
use ctapkit::webauthn::attestation::AttestationObject;
use ctapkit::webauthn::authentication::verify_assertion_parts;
use ctapkit::webauthn::registration::verify_registration_parts;
use ctapkit::webauthn::{sha256, AuthenticatorData, CredentialRecord, Policy, TrustStore};

struct Vector {
    reg_challenge: Vec<u8>,
    reg_cdj: Vec<u8>,
    att: Vec<u8>,
    anchors: Vec<Vec<u8>>,
    auth_challenge: Vec<u8>,
    auth_cdj: Vec<u8>,
    auth_data: Vec<u8>,
    sig: Vec<u8>,
}

fn load(name: &str) -> Vector {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("vectors/w3c/{name}.json"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let h = |p: &serde_json::Value| hex::decode(p.as_str().unwrap()).unwrap();
    let r = &v["registration"];
    let a = &v["authentication"];
    Vector {
        reg_challenge: h(&r["challenge"]),
        reg_cdj: h(&r["client_data_json"]),
        att: h(&r["attestation_object"]),
        anchors: r["attestation_trust_anchors"]
            .as_array()
            .unwrap()
            .iter()
            .map(h)
            .collect(),
        auth_challenge: h(&a["challenge"]),
        auth_cdj: h(&a["client_data_json"]),
        auth_data: h(&a["authenticator_data"]),
        sig: h(&a["signature"]),
    }
}

fn policy(v: &Vector) -> Policy {
    let mut p = Policy::new("example.org");
    let mut store = TrustStore::new();
    for a in &v.anchors {
        store.add_der(a.clone()).unwrap();
    }
    p.require_trusted_attestation = !store.is_empty();
    p.trust_store = store;
    p.attestation_time = Some(1_735_689_600);
    p
}

fn record(v: &Vector) -> CredentialRecord {
    verify_registration_parts(
        &policy(v),
        &v.reg_challenge,
        &v.reg_cdj,
        &v.att,
        None,
        vec![],
    )
    .unwrap()
    .credential
}

fn parsers(c: &mut Criterion) {
    let v = load("packed-es256");
    let att = AttestationObject::from_bytes(&v.att).unwrap();
    let cose = att
        .auth_data
        .attested_credential_data
        .unwrap()
        .public_key_cose;
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("cose_key_es256", |b| {
        b.iter(|| PublicKey::from_cose_bytes(black_box(&cose)).unwrap())
    });
    g.bench_function("auth_data_with_attested_credential", |b| {
        b.iter(|| AuthenticatorData::from_bytes(black_box(&att.auth_data_raw)).unwrap())
    });
    g.bench_function("auth_data_assertion", |b| {
        b.iter(|| AuthenticatorData::from_bytes(black_box(&v.auth_data)).unwrap())
    });
    g.finish();
}

/// Sign-in: bare backend verify (baseline) and the full §7.2 pipeline, per algorithm.
fn sign_in(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign_in");
    g.throughput(Throughput::Elements(1));
    for (label, name) in [
        ("ES256", "packed-es256"),
        ("EdDSA", "packed-eddsa"),
        ("RS256", "packed-rs256"),
    ] {
        let v = load(name);
        let p = policy(&v);
        let rec = record(&v);
        let signed = [v.auth_data.as_slice(), &sha256(&v.auth_cdj)].concat();
        g.bench_with_input(BenchmarkId::new("bare_verify", label), &(), |b, _| {
            b.iter(|| {
                rec.public_key
                    .verify(black_box(&signed), black_box(&v.sig))
                    .unwrap()
            })
        });
        g.bench_with_input(BenchmarkId::new("full", label), &(), |b, _| {
            b.iter(|| {
                verify_assertion_parts(
                    &p,
                    black_box(&v.auth_challenge),
                    &rec,
                    black_box(&v.auth_cdj),
                    black_box(&v.auth_data),
                    black_box(&v.sig),
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

/// Alternative backends for the same ES256 / Ed25519 verification (chooses the backend).
fn backends(c: &mut Criterion) {
    use aws_lc_rs::signature as sig;
    let mut g = c.benchmark_group("backend");
    g.throughput(Throughput::Elements(1));
    let v = load("packed-es256");
    let rec = record(&v);
    let signed = [v.auth_data.as_slice(), &sha256(&v.auth_cdj)].concat();
    let ctapkit::cose::KeyMaterial::Ec2 { x, y, .. } = rec.public_key.material().clone() else {
        unreachable!()
    };
    let sec1 = [&[4u8][..], &x, &y].concat();
    g.bench_function("es256_aws_lc_unparsed_key", |b| {
        b.iter(|| {
            sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_ASN1, black_box(&sec1))
                .verify(&signed, &v.sig)
                .unwrap()
        })
    });
    let v = load("packed-eddsa");
    let rec = record(&v);
    let signed = [v.auth_data.as_slice(), &sha256(&v.auth_cdj)].concat();
    let ctapkit::cose::KeyMaterial::Ed25519(pk) = rec.public_key.material().clone() else {
        unreachable!()
    };
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    let dalek_sig = ed25519_dalek::Signature::from_slice(&v.sig).unwrap();
    g.bench_function("ed25519_dalek", |b| {
        b.iter(|| dalek.verify_strict(black_box(&signed), &dalek_sig).unwrap())
    });
    g.finish();
}

fn registration(c: &mut Criterion) {
    let mut g = c.benchmark_group("registration");
    g.throughput(Throughput::Elements(1));
    for (label, name) in [
        ("none_ES256", "none-es256"),
        ("packed_x5c_ES256", "packed-es256"),
        ("packed_self_ES256", "packed-self-es256"),
    ] {
        let v = load(name);
        let p = policy(&v);
        g.bench_function(label, |b| {
            b.iter(|| {
                verify_registration_parts(
                    &p,
                    &v.reg_challenge,
                    black_box(&v.reg_cdj),
                    black_box(&v.att),
                    None,
                    vec![],
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

/// A batch of 256 ES256 sign-ins on 1 thread and on every core.
fn batch(c: &mut Criterion) {
    let v = load("packed-es256");
    let p = policy(&v);
    let rec = record(&v);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group("batch_sign_in_ES256");
    const N: usize = 256;
    g.throughput(Throughput::Elements(N as u64));
    for threads in [1, cores] {
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{threads}_threads")),
            &threads,
            |b, &t| {
                b.iter(|| {
                    std::thread::scope(|s| {
                        for _ in 0..t {
                            s.spawn(|| {
                                for _ in 0..N / t {
                                    verify_assertion_parts(
                                        &p,
                                        &v.auth_challenge,
                                        &rec,
                                        &v.auth_cdj,
                                        &v.auth_data,
                                        &v.sig,
                                    )
                                    .unwrap();
                                }
                            });
                        }
                    })
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, parsers, sign_in, backends, registration, batch);
criterion_main!(benches);
