//! Codes as people type them. Apps show "123 456", recovery codes are printed in dashed
//! groups, and people paste either way: the separators never count. Shared by the
//! server's parsers and the browser's auto-submit, so both read a code the same way.

/// The code without its separators: every whitespace character and dash is dropped.
pub fn compact(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn spaces_tabs_and_dashes_are_dropped() {
        assert_eq!(compact(" 123 456 "), "123456");
        assert_eq!(compact("12-34\t56"), "123456");
        assert_eq!(compact("abcd-EFGH"), "abcdEFGH");
        assert_eq!(compact(" - "), "");
    }
}
