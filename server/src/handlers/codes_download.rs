//! The recovery codes as a text file, made on the server for browsers without JavaScript.
//! A form POST (so no link prefetcher can spend it), answered once and never cached.

use app::{
    auth::guards::{code_handoff, sessions::Stage},
    http::{context::RequestSession, state::AppState},
    shared::{
        paths,
        recovery_file::{codes_file, DOWNLOAD_NAME},
        words,
    },
};
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Redirect, Response},
    Extension,
};

pub async fn download(
    State(state): State<AppState>,
    Extension(RequestSession(session)): Extension<RequestSession>,
) -> Response {
    let Some(session) = session.filter(|s| s.stage == Stage::Full) else {
        return Redirect::to(paths::SIGN_IN).into_response();
    };
    let taken = match code_handoff::take(&state.services, &session).await {
        Ok(taken) => taken,
        Err(err) => return crate::responses::error_response(&err.into(), DOWNLOAD_NAME),
    };
    // Already downloaded or expired: the page explains that and offers a new set.
    let Some(taken) = taken else {
        return Redirect::to(paths::NEW_CODES).into_response();
    };
    let file = codes_file(
        &session.email,
        &words::date_time(taken.generated_at),
        &taken.codes,
    );
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{DOWNLOAD_NAME}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        file,
    )
        .into_response()
}
