//! The enrollment report: one line per manual step (1–8, then the second scan), with what the
//! site saw. Rendered for people (a table, colour on a terminal), as JSON (schema
//! [`SCHEMA`], documented in the README) and as JUnit XML for CI.

use serde::Serialize;

/// The JSON schema identifier; bumped when a field changes meaning or goes away.
pub const SCHEMA: &str = "ctapkit.enroll.v1";

/// A step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Done as the manual describes.
    Pass,
    /// The flow stopped here.
    Fail,
    /// Not reached (an earlier step failed) or not asked for.
    Skip,
}

/// Whose failure a failed step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// The authenticator's: it refused, failed, stopped answering, or produced something the
    /// site's policy refuses (exit 1).
    Authenticator,
    /// Not the authenticator's: the site (unreachable, refusing the password or URL, not
    /// following the flow), the network, or the arguments (exit 2).
    Site,
}

/// One manual step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// Step number as in the manual ("1".."8"; "2.3".."2.8" for the second scan).
    pub id: String,
    /// What the step is.
    pub name: String,
    /// Its outcome.
    pub status: Status,
    /// How long it took, milliseconds.
    pub millis: u64,
    /// What happened.
    pub detail: String,
    /// The manual's guidance, for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    /// Whose failure it is, for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

/// What the site saw of one ceremony.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CeremonySeen {
    /// Attestation format (registration only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation_format: Option<String>,
    /// Credential algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// AAGUID (registration only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<String>,
    /// Model name for the AAGUID, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Authenticator data flags.
    pub up: bool,
    /// User verified.
    pub uv: bool,
    /// Backup eligible.
    pub be: bool,
    /// Backed up.
    pub bs: bool,
    /// Signature counter.
    pub sign_count: u32,
    /// Credential ID, base64url.
    pub credential_id: String,
    /// The label the site filled in (registration only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl CeremonySeen {
    /// The flags as `UP UV BE BS` with absent ones as `--`.
    pub fn flags(&self) -> String {
        [
            (self.up, "UP"),
            (self.uv, "UV"),
            (self.be, "BE"),
            (self.bs, "BS"),
        ]
        .iter()
        .map(|(set, name)| if *set { *name } else { "--" })
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The device, as `--device` named it.
    pub device: String,
    /// Its description (transport, product).
    pub device_description: String,
    /// Its model, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_model: Option<String>,
    /// The site's origin.
    pub site: String,
    /// The site's policy profile, when known (in-process site).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The applicant's username.
    pub username: String,
    /// Whether the authenticator got through every step.
    pub passed: bool,
    /// The first step that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Every step.
    pub steps: Vec<StepReport>,
    /// The registration, as the site saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<CeremonySeen>,
    /// The second scan's sign-in, as the site saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<CeremonySeen>,
    /// Total time, milliseconds.
    pub total_millis: u64,
}

impl Report {
    /// The first failed step.
    pub fn first_failure(&self) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.status == Status::Fail)
    }

    /// Whether the authenticator is to blame for the failure (`Some(true)`: exit 1), or
    /// something else is (`Some(false)`: exit 2); `None` when nothing failed.
    pub fn authenticator_failed(&self) -> Option<bool> {
        self.first_failure().map(|s| s.cause != Some(Cause::Site))
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The report as a JUnit XML test suite: one test case per step.
    pub fn to_junit(&self) -> String {
        let failures = self
            .steps
            .iter()
            .filter(|s| s.status == Status::Fail)
            .count();
        let skipped = self
            .steps
            .iter()
            .filter(|s| s.status == Status::Skip)
            .count();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<testsuites name=\"ctapkit enroll\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
            self.steps.len(),
            self.total_millis as f64 / 1000.0
        ));
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">\n",
            xml_escape(&format!("enroll {} at {}", self.device, self.site)),
            self.steps.len(),
            self.total_millis as f64 / 1000.0
        ));
        for step in &self.steps {
            xml.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                xml_escape(&format!("enroll.{}", self.device)),
                xml_escape(&format!("step {}: {}", step.id, step.name)),
                step.millis as f64 / 1000.0
            ));
            match step.status {
                Status::Pass => {}
                Status::Skip => xml.push_str(&format!(
                    "<skipped message=\"{}\"/>",
                    xml_escape(&step.detail)
                )),
                Status::Fail => {
                    let text = match &step.guidance {
                        Some(g) => format!("{}\n{g}", step.detail),
                        None => step.detail.clone(),
                    };
                    xml.push_str(&format!(
                        "<failure message=\"{}\">{}</failure>",
                        xml_escape(&step.detail),
                        xml_escape(&text)
                    ));
                }
            }
            xml.push_str(&format!(
                "<system-out>{}</system-out></testcase>\n",
                xml_escape(&step.detail)
            ));
        }
        xml.push_str("  </testsuite>\n</testsuites>\n");
        xml
    }

    /// The report for people; `color` adds ANSI colours.
    pub fn to_text(&self, color: bool) -> String {
        let paint = |status: Status| -> String {
            let (word, code) = match status {
                Status::Pass => ("PASS", "32"),
                Status::Fail => ("FAIL", "31"),
                Status::Skip => ("skip", "2"),
            };
            if color {
                format!("\x1b[{code}m{word}\x1b[0m")
            } else {
                word.to_string()
            }
        };
        let mut out = format!(
            "enroll {} ({}) at {} as {}\n",
            self.device,
            self.device_model
                .as_deref()
                .unwrap_or(&self.device_description),
            self.site,
            self.username
        );
        for s in &self.steps {
            out.push_str(&format!(
                "  {:<4} {} {} {:>6} ms  {}\n",
                s.id,
                pad(&s.name, 38),
                paint(s.status),
                s.millis,
                s.detail
            ));
            if let (Status::Fail, Some(g)) = (s.status, &s.guidance) {
                out.push_str(&format!("       → {g}\n"));
            }
        }
        for (what, seen) in [
            ("registration", &self.registration),
            ("sign-in", &self.sign_in),
        ] {
            if let Some(seen) = seen {
                out.push_str(&format!(
                    "  {what}: {}{}flags {}, sign count {}{}\n",
                    seen.attestation_format
                        .as_ref()
                        .map(|f| format!("fmt {f}, "))
                        .unwrap_or_default(),
                    seen.algorithm
                        .as_ref()
                        .map(|a| format!("{a}, "))
                        .unwrap_or_default(),
                    seen.flags(),
                    seen.sign_count,
                    seen.aaguid
                        .as_ref()
                        .map(|a| format!(
                            ", AAGUID {a}{}",
                            seen.model
                                .as_ref()
                                .map(|m| format!(" ({m})"))
                                .unwrap_or_default()
                        ))
                        .unwrap_or_default(),
                ));
            }
        }
        out.push_str(&match self.first_failure() {
            None => format!(
                "result: {} — the authenticator got through the flow\n",
                paint(Status::Pass)
            ),
            Some(s) => format!(
                "result: {} at step {} ({})\n",
                paint(Status::Fail),
                s.id,
                s.name
            ),
        });
        out
    }
}

/// Columns a character takes in a terminal: 2 for CJK and full-width forms.
fn columns(c: char) -> usize {
    match c as u32 {
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 => 2,
        _ => 1,
    }
}

/// `text` padded with spaces to `width` terminal columns.
pub fn pad(text: &str, width: usize) -> String {
    let used: usize = text.chars().map(columns).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// Escapes text for XML attributes and content (and drops characters XML 1.0 forbids).
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            schema: SCHEMA,
            device: "emulator:no-biometric".into(),
            device_description: "emulator".into(),
            device_model: None,
            site: "http://localhost:1".into(),
            policy: Some("jpa-hpki".into()),
            username: "999999-jpa".into(),
            passed: false,
            failed_step: Some("5".into()),
            steps: vec![
                StepReport {
                    id: "4".into(),
                    name: "SignIn".into(),
                    status: Status::Pass,
                    millis: 3,
                    detail: "ok".into(),
                    guidance: None,
                    cause: None,
                },
                StepReport {
                    id: "5".into(),
                    name: "Register".into(),
                    status: Status::Fail,
                    millis: 9,
                    detail: "Security Key Error <\u{1}&>".into(),
                    guidance: Some("enrol biometrics".into()),
                    cause: Some(Cause::Authenticator),
                },
                StepReport {
                    id: "6".into(),
                    name: "biometrics".into(),
                    status: Status::Skip,
                    millis: 0,
                    detail: "not reached".into(),
                    guidance: None,
                    cause: None,
                },
            ],
            registration: None,
            sign_in: None,
            total_millis: 12,
        }
    }

    #[test]
    fn junit_counts_and_escapes() {
        let xml = report().to_junit();
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("Security Key Error &lt;&amp;&gt;"), "{xml}");
        assert!(!xml.contains('\u{1}'));
    }

    #[test]
    fn text_names_the_failed_step() {
        let text = report().to_text(false);
        assert!(text.contains("FAIL at step 5 (Register)"), "{text}");
        assert!(text.contains("→ enrol biometrics"), "{text}");
    }
}
