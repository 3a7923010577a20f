//! The WASM, JS, CSS and icons: files that never look at a session or the database.

use std::path::Path;

use axum::{
    http::{header, HeaderValue},
    Router,
};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

/// Serves `dir`: the `.br` or `.gz` file a release build wrote beside each one is sent
/// when the browser accepts it, so nothing is compressed per request. The names do not
/// change between releases, so browsers revalidate (`Last-Modified`) instead of keeping a
/// stale copy.
pub fn router(dir: &Path) -> Router {
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, no-cache"),
            ))
            .service(ServeDir::new(dir).precompressed_br().precompressed_gzip()),
    )
}

pub fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg" || path == "/favicon.ico"
}
