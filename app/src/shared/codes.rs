//! Codes as people type them, read the same way by the server's parsers and the browser's
//! auto-submit. Apps show "123 456", recovery codes are printed in dashed groups, and
//! people paste either way: the separators never count.

/// Digits in an authenticator app's code.
pub const DIGITS: usize = 6;
/// Recovery codes issued per set: an `i64`, as the database counts the codes left.
pub const CODES_PER_SET: i64 = 10;

/// The code without its separators: every whitespace character and dash is dropped.
pub fn compact(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Six digits, ignoring the spaces and dashes people paste with them.
pub fn is_app_code(typed: &str) -> bool {
    let code = compact(typed);
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_tabs_and_dashes_are_dropped() {
        assert_eq!(compact(" 123 456 "), "123456");
        assert_eq!(compact("12-34\t56"), "123456");
        assert_eq!(compact("abcd-EFGH"), "abcdEFGH");
        assert_eq!(compact(" - "), "");
    }

    #[test]
    fn six_digits_make_an_app_code_whatever_separates_them() {
        assert!(is_app_code("123456"));
        assert!(is_app_code("123 456"));
        assert!(is_app_code("12-34-56"));
        assert!(!is_app_code("12345"));
        assert!(!is_app_code("1234567"));
        assert!(!is_app_code("12345a"));
        assert!(!is_app_code("ABCD-EFGH"));
    }
}
