//! Waits and dates as people say them, for the sentences both targets show. Dates are
//! formatted on the server only, so the WASM carries no calendar.

/// Renders a wait as a person would say it: "45 seconds", "15 minutes", "2 hours".
pub fn human_duration(secs: u64) -> String {
    let (n, unit) = match secs {
        0..=59 => (secs.max(1), "second"),
        60..=3599 => (secs.div_ceil(60), "minute"),
        _ => (secs.div_ceil(3600), "hour"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Why the code prompt sent the person back to the password, and when to come back.
pub fn sign_in_ended(retry_after_secs: Option<u64>) -> String {
    match retry_after_secs {
        Some(secs) => format!(
            "Too many wrong codes. For your safety, signing in to this account is paused: try again in {}.",
            human_duration(secs)
        ),
        None => "Too many wrong codes. Sign in with your password again to get new attempts.".into(),
    }
}

/// "28 November 2026".
#[cfg(feature = "ssr")]
pub fn long_date(unix: i64) -> String {
    format_date(
        unix,
        time::macros::format_description!("[day padding:none] [month repr:long] [year]"),
    )
}

/// "28 Nov 2026, 19:05 UTC".
#[cfg(feature = "ssr")]
pub fn date_time(unix: i64) -> String {
    format_date(
        unix,
        time::macros::format_description!(
            "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
        ),
    )
}

#[cfg(feature = "ssr")]
fn format_date(unix: i64, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(45), "45 seconds");
        assert_eq!(human_duration(61), "2 minutes");
        assert_eq!(human_duration(900), "15 minutes");
        assert_eq!(human_duration(7200), "2 hours");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn dates_read_naturally() {
        assert_eq!(long_date(1_795_892_700), "28 November 2026");
        assert_eq!(date_time(1_795_892_700), "28 Nov 2026, 19:05 UTC");
    }
}
