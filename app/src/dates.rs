//! Dates as people read them, formatted on the server so the WASM carries no calendar.

use time::{macros::format_description, OffsetDateTime};

/// "28 November 2026".
pub fn long_date(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[day padding:none] [month repr:long] [year]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// "28 Nov 2026, 19:05 UTC".
pub fn date_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_naturally() {
        assert_eq!(long_date(1_795_892_700), "28 November 2026");
        assert_eq!(date_time(1_795_892_700), "28 Nov 2026, 19:05 UTC");
    }
}
