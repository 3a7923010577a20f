//! The middleware of the router (`http::router`): the session and the client, the gate of
//! pages, the same-site checks, panics and the security headers.

use std::{
    any::Any,
    net::{IpAddr, SocketAddr},
};

use app::{
    auth::{
        guards::sessions::{self, Stage},
        kernel::{client::ClientInfo, public_url::PublicUrl},
    },
    http::{context::RequestSession, cookies, state::AppState},
    shared::{error::AppError, paths},
};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use crate::{assets::is_static_asset, responses::error_response};

/// Longer user agents are cut: they are shown to people, not parsed for trust.
const MAX_USER_AGENT: usize = 256;

/// Resolves the session cookie once per request and records where the request came from;
/// pages and server functions read both from the request's extensions.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    // Test builds can make requests panic or stall here (`FAILPOINTS=http_request=1*panic`).
    fail::fail_point!("http_request");
    let path = req.uri().path();
    // Assets and health checks never look at the session, so they answer while the
    // database is away.
    if is_static_asset(path) || path == paths::HEALTH || path == paths::READY {
        return next.run(req).await;
    }
    let services = &state.services;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = ClientInfo {
        ip: peer
            .map(|peer| {
                client_ip(peer, req.headers(), &services.config.trusted_proxies).to_string()
            })
            .unwrap_or_default(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect())
            .unwrap_or_default(),
    };
    let session = match cookies::session_token(req.headers(), services.config.secure_cookies) {
        Some(token) => match sessions::resolve(services, &token).await {
            Ok(session) => session,
            Err(err) => return error_response(&err.into(), req.uri().path()),
        },
        None => None,
    };
    req.extensions_mut().insert(client);
    req.extensions_mut().insert(RequestSession(session));
    next.run(req).await
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// last `X-Forwarded-For` hop that is not itself a trusted proxy.
fn client_ip(peer: IpAddr, headers: &http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

/// Sends a person to the page their session allows, before anything is rendered.
pub async fn guard_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let session = req
        .extensions()
        .get::<RequestSession>()
        .and_then(|s| s.0.as_ref());
    let stage = session.map(|s| s.stage);
    let path = req.uri().path();
    // Until it has a second factor, an account that must have one reaches only its
    // enrollment (and the pages an emailed link opens).
    // A provider's callback passes: a password-less account confirms itself there before
    // it can enroll (linking is refused inside).
    if session.is_some_and(|s| s.stage == Stage::Full && s.must_enroll)
        && !paths::ENROLLMENT_PAGES.contains(&path)
        && !paths::is_provider_round_trip(path)
    {
        return Redirect::to(paths::TWO_FACTOR).into_response();
    }
    let needs_account = paths::is_within(paths::SETTINGS, path);
    let at_code_prompt = path == paths::CODE_PROMPT;
    let target = match stage {
        Some(Stage::Full) if path == paths::SIGN_IN || path == paths::SIGN_UP || at_code_prompt => {
            Some(paths::SETTINGS.to_owned())
        }
        Some(Stage::PendingSecondFactor) if needs_account => Some(paths::CODE_PROMPT.to_owned()),
        None if at_code_prompt => Some(paths::SIGN_IN.to_owned()),
        None if needs_account => {
            let wanted = req.uri().path_and_query().map(|pq| pq.as_str());
            let wanted = state.services.config.public_url.next_target(wanted);
            Some(paths::signin_with_next(&wanted))
        }
        _ => None,
    };
    match target {
        Some(target) => Redirect::to(&target).into_response(),
        None => next.run(req).await,
    }
}

/// Server functions redirect to fixed paths, to a checked `next`, or (leptos does this
/// for plain form posts) to the request's `Referer`, which the client wrote. Every
/// `Location` they send passes the redirect parser, so none can lead off the site.
pub async fn keep_redirects_on_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let is_api = req.uri().path().starts_with(paths::SERVER_FNS);
    let mut res = next.run(req).await;
    if !is_api {
        return res;
    }
    let Some(location) = res.headers().get(header::LOCATION) else {
        return res;
    };
    let public_url = &state.services.config.public_url;
    let kept = public_url.location(location.to_str().unwrap_or_default());
    if location.as_bytes() != kept.as_bytes() {
        if let Ok(kept) = HeaderValue::from_str(&kept) {
            res.headers_mut().insert(header::LOCATION, kept);
        }
    }
    res
}

/// State changes come only from our own pages: a POST from another site is refused
/// whatever cookies it carries.
pub async fn reject_cross_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_site(&req, &state.services.config.public_url) {
        tracing::warn!(path = %req.uri().path(), "refused a cross-site request");
        return error_response(&AppError::Forbidden, req.uri().path());
    }
    next.run(req).await
}

/// Fetch metadata decides when the browser sends it. Otherwise the `Origin` must be the
/// public URL's (some browsers send `Origin: null` for their own form posts, which is why
/// fetch metadata comes first); the `Host` header proves nothing, the client wrote it. A
/// request with neither header is not from a browser page.
fn is_cross_site(req: &Request, public_url: &PublicUrl) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return !(site == "same-origin" || site == "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    !origin.to_str().is_ok_and(|o| public_url.is_origin(o))
}

/// Logs a panic that [`CatchPanicLayer`] caught and answers 500, marked so that
/// [`word_panic_answer`] can say it the way the path expects.
pub fn answer_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request panicked; answered 500");
    let mut res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    res.extensions_mut().insert(Panicked);
    res
}

#[derive(Clone, Copy)]
struct Panicked;

/// A panic is answered like any internal error: JSON for server functions, the
/// sentence for pages.
pub async fn word_panic_answer(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    if res.extensions().get::<Panicked>().is_some() {
        return error_response(&AppError::Internal, &path);
    }
    res
}

pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_asset = is_static_asset(req.uri().path());
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    // The body limit answers before any server function exists to word it.
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res = error_response(&AppError::TooLarge, &path);
    }
    let headers = res.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // Never tell another site where a person came from; our own forms need the Referer to
    // return to the page with their error when JavaScript is off.
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    // Pages set their own policy with a nonce; everything else may load nothing at all.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    // Every page and answer is about one person's account: no cache may keep it.
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let headers = forwarded("198.51.100.9, 203.0.113.7");
        assert_eq!(
            client_ip(proxy, &headers, &[proxy]).to_string(),
            "203.0.113.7"
        );
        assert_eq!(
            client_ip(proxy, &headers, &[]),
            proxy,
            "an untrusted peer cannot name another client"
        );
        let spoofed_hop = forwarded("203.0.113.7, 10.0.0.2");
        assert_eq!(
            client_ip(proxy, &spoofed_hop, &[proxy]).to_string(),
            "203.0.113.7"
        );
        assert_eq!(client_ip(proxy, &forwarded("garbage"), &[proxy]), proxy);
    }
}
