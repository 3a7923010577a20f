//! Names a device the way a person recognises it: "Chrome on Linux".

/// A short description of a user agent, or "Unknown device".
pub fn describe(user_agent: &str) -> String {
    match woothee::parser::Parser::new().parse(user_agent) {
        Some(ua) if ua.name != "UNKNOWN" && ua.os != "UNKNOWN" => {
            format!("{} on {}", ua.name, ua.os)
        }
        Some(ua) if ua.name != "UNKNOWN" => ua.name.to_string(),
        _ => "Unknown device".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::kernel::user_agent::describe;

    #[test]
    fn common_browsers_are_named() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(describe(chrome), "Chrome on Linux");
        assert_eq!(describe(""), "Unknown device");
        assert_eq!(describe("curl/8.0"), "HTTP Library");
    }
}
