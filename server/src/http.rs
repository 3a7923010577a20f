//! The router and the middleware every request passes through.

use std::{
    any::Any,
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use app::{
    auth::{sessions, sessions::Stage, ClientInfo},
    http::{context::RequestSession, cookies, state::AppState},
    redirect::PublicUrl,
    shared::{
        error::{AppError, UNAVAILABLE_RETRY_SECS},
        paths,
    },
    shell, App,
};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{
        predicate::{NotForContentType, Predicate},
        CompressionLayer, CompressionLevel, DefaultPredicate,
    },
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::{RequestBodyTimeoutLayer, TimeoutLayer},
    trace::TraceLayer,
};

use crate::{
    assets::{self, is_static_asset},
    responses::error_response,
};

/// No form of ours comes near this; anything larger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longer user agents are cut: they are shown to people, not parsed for trust.
const MAX_USER_AGENT: usize = 256;
/// A body that goes quiet this long is cut off, however long the request may take.
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Two years, as hstspreload.org recommends; sent only when cookies are `Secure`, that
/// is when the operator says Gatehouse is served over TLS.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000; includeSubDomains");

/// How the router is built, from the command line.
pub struct Options {
    /// Adds the per-request counters; without an exporter they would only cost
    /// allocations on every request.
    pub record_metrics: bool,
    /// The most one request may take, its body included: a client that trickles its body
    /// cannot hold a connection open for long.
    pub request_timeout: Duration,
}

pub fn router(state: AppState, options: Options) -> Router {
    let secure = state.services.config.secure_cookies;
    let routes = generate_route_list(App);
    let pkg = std::path::Path::new(&*state.leptos_options.site_root)
        .join(&*state.leptos_options.site_pkg_dir);
    Router::new()
        .nest_service("/pkg", assets::router(&pkg))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            paths::PROVIDER_START,
            axum::routing::post(crate::social::start),
        )
        .route(paths::PROVIDER_CALLBACK, get(crate::social::callback))
        .route(
            paths::CODES_DOWNLOAD,
            axum::routing::post(crate::codes_download::download),
        )
        .leptos_routes_with_context(&state, routes, leptos::nonce::provide_nonce, {
            let options = (*state.leptos_options).clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(leptos::nonce::provide_nonce, shell))
        .layer(middleware::from_fn_with_state(state.clone(), guard_pages))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            resolve_session,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            keep_redirects_on_site,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            reject_cross_site,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(BODY_IDLE_TIMEOUT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(middleware::from_fn(word_panic_answer))
        .layer(middleware::from_fn(security_headers))
        .layer(tower::util::option_layer(secure.then(|| {
            SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HSTS)
        })))
        // Pages and answers are a few kilobytes, made fresh for each request: the lowest
        // quality sends a little more of each than the default for a fraction of its
        // server time. The bundle is compressed once, at build time, at the highest
        // quality.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(1))
                .compress_when(
                    DefaultPredicate::new().and(NotForContentType::const_new("application/wasm")),
                ),
        )
        .layer(tower::util::option_layer(
            options
                .record_metrics
                .then(|| middleware::from_fn(crate::metrics::record_request)),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(finish_span),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// One span per request: method, route, path (never the query, which may carry a `next`
/// URL or an error), the request id that is also sent back as `x-request-id`, and once
/// answered, the status and latency.
fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = %crate::metrics::route_label(req),
        path = %req.uri().path(),
        request_id = %id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

fn finish_span(response: &Response, latency: Duration, span: &tracing::Span) {
    let latency_ms = latency.as_secs_f64() * 1000.0;
    span.record("status", response.status().as_u16());
    span.record("latency_ms", latency_ms);
    tracing::info!(status = response.status().as_u16(), latency_ms, "answered");
}

async fn readyz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.services.db).await {
        Ok(_) => "ready".into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, UNAVAILABLE_RETRY_SECS)],
                "database unreachable",
            )
                .into_response()
        }
    }
}

/// Resolves the session cookie once per request and records where the request came from;
/// pages and server functions read both from the request's extensions.
async fn resolve_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Test builds can make requests panic or stall here (`FAILPOINTS=http_request=1*panic`).
    fail::fail_point!("http_request");
    let path = req.uri().path();
    // Assets and health checks never look at the session, so they answer while the
    // database is away.
    if is_static_asset(path) || path == "/healthz" || path == "/readyz" {
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
async fn guard_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
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
async fn keep_redirects_on_site(
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
async fn reject_cross_site(State(state): State<AppState>, req: Request, next: Next) -> Response {
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
fn answer_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
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
async fn word_panic_answer(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    if res.extensions().get::<Panicked>().is_some() {
        return error_response(&AppError::Internal, &path);
    }
    res
}

async fn security_headers(req: Request, next: Next) -> Response {
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
