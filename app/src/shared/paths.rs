//! Every address Gatehouse answers at, and the addresses with a query that one step hands
//! to the next. Server functions and host handlers redirect to them, the host's gate
//! allows or refuses them, and pages link to them.
//!
//! Two places spell paths as literals instead, and a test in `routes::router` checks
//! both against the routes: the router's `path!`, which takes literals only, and the
//! links of wholly static elements in the markup, which Leptos renders from one string
//! (a constant there would make the element code in the WASM).

/// The start page.
pub const HOME: &str = "/";
pub const SIGN_IN: &str = "/signin";
/// The second step of signing in.
pub const CODE_PROMPT: &str = "/signin/code";
pub const SIGN_UP: &str = "/signup";
/// A provider sign-up asks for the address its provider did not prove.
pub const SIGN_UP_EMAIL: &str = "/signup/email";
/// The emailed link that finishes a provider sign-up.
pub const SIGN_UP_FINISH: &str = "/signup/finish";
pub const FORGOT_PASSWORD: &str = "/forgot-password";
pub const RESET_PASSWORD: &str = "/reset-password";
pub const VERIFY_EMAIL: &str = "/verify-email";
pub const CONFIRM_EMAIL: &str = "/confirm-email";

/// Settings, on its Profile tab.
pub const SETTINGS: &str = "/settings";
pub const SIGN_IN_METHODS: &str = "/settings/sign-in-methods";
/// The Two-Factor Auth tab, which is also where an account that must set up two-factor
/// authentication is sent.
pub const TWO_FACTOR: &str = "/settings/two-factor";
pub const ENABLE_TWO_FACTOR: &str = "/settings/two-factor/enable";
pub const DISABLE_TWO_FACTOR: &str = "/settings/two-factor/disable";
pub const REGENERATE_CODES: &str = "/settings/two-factor/recovery-codes";
/// Where a browser without JavaScript is sent to see a new set of codes.
pub const NEW_CODES: &str = "/settings/two-factor/new-codes";
/// The server-made download of the codes' file, for browsers without JavaScript.
pub const CODES_DOWNLOAD: &str = "/settings/two-factor/recovery-codes.txt";
pub const ADD_PASSKEY: &str = "/settings/two-factor/passkeys/add";
pub const RENAME_PASSKEY: &str = "/settings/two-factor/passkeys/rename";
pub const REMOVE_PASSKEY: &str = "/settings/two-factor/passkeys/remove";
pub const SESSIONS: &str = "/settings/sessions";
pub const ACTIVITY: &str = "/settings/activity";

/// The form post that sends the browser to a provider, as the host routes it.
pub const PROVIDER_START: &str = "/auth/{provider}/start";
/// Where a provider sends the browser back, as the host routes it.
pub const PROVIDER_CALLBACK: &str = "/auth/{provider}/callback";
/// What every server function's path starts with (Leptos's default prefix).
pub const SERVER_FNS: &str = "/api/";
/// The host's liveness check.
pub const HEALTH: &str = "/healthz";
/// The host's readiness check: the database answers.
pub const READY: &str = "/readyz";

/// What a session that must set up two-factor authentication may open: the enrollment,
/// and the pages an emailed link opens.
pub const ENROLLMENT_PAGES: &[&str] = &[
    TWO_FACTOR,
    ENABLE_TWO_FACTOR,
    NEW_CODES,
    ADD_PASSKEY,
    VERIFY_EMAIL,
    CONFIRM_EMAIL,
    FORGOT_PASSWORD,
    RESET_PASSWORD,
];

// Where a finished step lands, with the notice its page shows.
pub const RESET_LINK_SENT: &str = "/forgot-password?sent=1";
pub const PASSWORD_WAS_RESET: &str = "/signin?reset=1";
pub const VERIFICATION_SENT: &str = "/settings?verification=sent";
pub const VERIFIED_SIGNED_IN: &str = "/settings?verification=done";
pub const VERIFIED_SIGNED_OUT: &str = "/signin?verified=1";
pub const EMAIL_CHANGE_SENT: &str = "/settings?email=sent";
pub const EMAIL_CHANGED_SIGNED_IN: &str = "/settings?email=changed";
pub const EMAIL_CHANGED_SIGNED_OUT: &str = "/signin?email_changed=1";
pub const SIGN_UP_LINK_SENT: &str = "/signup/email?sent=1";
pub const PASSWORD_LINK_SENT: &str = "/settings/sign-in-methods?done=link_sent";
pub const PASSWORD_WAS_SET: &str = "/settings/sign-in-methods?done=password_set";
pub const PASSWORD_CHANGED: &str = "/settings/sign-in-methods?done=password_changed";

/// `path` is `section` or one of the pages below it.
pub fn is_within(section: &str, path: &str) -> bool {
    path.strip_prefix(section)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A provider round trip's own paths (start and callback).
pub fn is_provider_round_trip(path: &str) -> bool {
    path.starts_with("/auth/")
}

/// The sign-in page, coming back to `next` afterwards.
pub fn signin_with_next(next: &str) -> String {
    format!("{SIGN_IN}?next={}", query_value(next))
}

/// The code prompt, coming back to `next` afterwards.
pub fn code_prompt_with_next(next: &str) -> String {
    format!("{CODE_PROMPT}?next={}", query_value(next))
}

/// The code prompt asking for `method` ("app" or "recovery"), keeping its `next`.
pub fn code_prompt_for(method: &str, next: &str) -> String {
    format!("{CODE_PROMPT}?method={method}&next={}", query_value(next))
}

/// Where a person goes when the code prompt's session ended: the sign-in page, told why
/// and, when signing in is paused, for how long.
pub fn sign_in_ended(retry_after_secs: Option<u64>) -> String {
    match retry_after_secs {
        Some(secs) => format!("{SIGN_IN}?ended=locked&retry={secs}"),
        None => format!("{SIGN_IN}?ended=codes"),
    }
}

/// The page `page` (its query dropped) saying why a provider round trip was refused.
pub fn refused_at(page: &str, refusal_code: &str, provider_id: &str) -> String {
    let page = page.split('?').next().unwrap_or(SIGN_IN);
    format!(
        "{page}?error={refusal_code}&provider={}",
        query_value(provider_id)
    )
}

/// The form post that starts a round trip to `provider_id`.
pub fn provider_start(provider_id: &str) -> String {
    format!("/auth/{provider_id}/start")
}

pub fn rename_passkey(id: i64) -> String {
    format!("{RENAME_PASSKEY}?id={id}")
}

pub fn remove_passkey(id: i64) -> String {
    format!("{REMOVE_PASSKEY}?id={id}")
}

/// The Sign-in methods tab with one provider's panel open (`panel` is "connect" or
/// "disconnect").
pub fn sign_in_methods_panel(panel: &str, provider_id: &str) -> String {
    format!("{SIGN_IN_METHODS}?{panel}={provider_id}")
}

/// The activity page with the events older than `id`.
pub fn activity_before(id: i64) -> String {
    format!("{ACTIVITY}?before={id}")
}

/// `value` as a query value, so a `next` that carries a query of its own comes back
/// whole: form encoding, as browsers write form fields (`url`'s `byte_serialize`, which
/// is not in the WASM; a test holds the two together).
fn query_value(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_with_a_query_of_its_own_is_encoded_once() {
        assert_eq!(
            signin_with_next("/settings/two-factor?x=1"),
            "/signin?next=%2Fsettings%2Ftwo-factor%3Fx%3D1"
        );
        assert_eq!(
            code_prompt_with_next("/settings"),
            "/signin/code?next=%2Fsettings"
        );
        assert_eq!(
            code_prompt_for("recovery", "/a b&c"),
            "/signin/code?method=recovery&next=%2Fa+b%26c"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn query_values_are_form_encoded_as_url_does() {
        for value in ["/settings/two-factor?x=1&y=a b", "ü/€?#%+*-._~!'()", ""] {
            let expected: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            assert_eq!(query_value(value), expected, "{value:?}");
        }
    }

    #[test]
    fn a_section_holds_its_pages_and_no_namesakes() {
        assert!(is_within(SETTINGS, "/settings"));
        assert!(is_within(SETTINGS, "/settings/sessions"));
        assert!(!is_within(SETTINGS, "/settingsx"));
        assert!(!is_within(SETTINGS, "/signin"));
    }

    #[test]
    fn a_refusal_page_keeps_its_path_and_names_the_provider_safely() {
        assert_eq!(
            refused_at("/settings/two-factor?x=1", "expired", "a&b"),
            "/settings/two-factor?error=expired&provider=a%26b"
        );
        assert_eq!(sign_in_ended(Some(900)), "/signin?ended=locked&retry=900");
        assert_eq!(sign_in_ended(None), "/signin?ended=codes");
    }
}
