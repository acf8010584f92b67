//! The label the system fills in at step 7: the authenticator's model (from its AAGUID, else
//! the device named by the browser) and the date, in Japan time.

use crate::webauthn::models::model_name;
use crate::webauthn::Aaguid;

/// The device a User-Agent names, for authenticators without a known AAGUID (phones'
/// platform authenticators report none under attestation `none`).
fn device_from_user_agent(user_agent: &str) -> Option<&'static str> {
    [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Macintosh", "Mac"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map(|(_, name)| name)
}

/// The civil date (YYYY-MM-DD) of Unix time `unix` in Japan (UTC+9, no daylight saving).
pub fn japan_date(unix: i64) -> String {
    let days = (unix + 9 * 3600).div_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The automatic label: "<model> <date>", e.g. "Google Password Manager 2026-11-30".
pub fn automatic_label(aaguid: &Aaguid, user_agent: &str, unix: i64) -> String {
    let model = model_name(aaguid)
        .or_else(|| device_from_user_agent(user_agent))
        .unwrap_or("認証器");
    format!("{model} {}", japan_date(unix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japan_dates() {
        assert_eq!(japan_date(0), "1970-01-01");
        // 2026-11-30 15:00 UTC is already 2026-12-01 in Japan.
        assert_eq!(japan_date(1_796_050_800), "2026-12-01");
        assert_eq!(japan_date(1_796_050_799), "2026-11-30");
        // A leap day.
        assert_eq!(japan_date(951_782_400), "2000-02-29");
    }

    #[test]
    fn labels_name_the_model_or_the_device() {
        let gpm = Aaguid::parse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").unwrap_or(Aaguid::ZERO);
        assert_eq!(
            automatic_label(&gpm, "", 0),
            "Google Password Manager 1970-01-01"
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15";
        assert_eq!(
            automatic_label(&Aaguid::ZERO, iphone, 0),
            "iPhone 1970-01-01"
        );
        assert_eq!(
            automatic_label(&Aaguid::ZERO, "curl/8", 0),
            "認証器 1970-01-01"
        );
    }
}
