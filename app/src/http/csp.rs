//! The page's Content Security Policy, sent with each rendered page.

use http::{header::CONTENT_SECURITY_POLICY, HeaderValue};
use leptos::prelude::use_context;

use super::state::AppState;

/// Scripts run only with this response's nonce (the hydration script) or from our own
/// origin (the WASM glue); nothing may frame the page.
pub fn send_content_security_policy() {
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // The provider buttons post here and are redirected to the provider's own page,
    // which browsers check against `form-action` too.
    let providers = use_context::<AppState>()
        .map(|s| s.services.providers.authorization_origins().join(" "))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self' {providers}; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
