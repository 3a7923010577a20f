//! The one error type every server function returns.
//!
//! Each variant carries a message written for a person; internal causes are logged on the
//! server and never serialised. The HTTP status is derived from the variant, so the
//! client and the host agree on what went wrong.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
    Bytes, Encodes,
};
use serde::{Deserialize, Serialize};

use super::words::{human_duration, sign_in_ended};

/// How long a client is told to wait when the database is away or busy.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "WireError", from = "WireError")]
pub enum AppError {
    /// Input that can never be valid: missing, malformed or oversized fields.
    #[error("{0}")]
    BadInput(String),
    #[error("Email or password is incorrect.")]
    InvalidCredentials,
    /// A re-entered password was wrong, where the email is already known.
    #[error("That password is not correct.")]
    WrongPassword,
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error("That code is not valid. Check your authenticator app and try again.")]
    InvalidCode,
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("Your passkey was not accepted. Try again, or use another way to sign in.")]
    PasskeyRefused,
    /// The request was understood but conflicts with the account's state.
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {}.", human_duration(*retry_after_secs))]
    Throttled { retry_after_secs: u64 },
    /// The code prompt's session ended after too many wrong codes: the person must start
    /// again from the password, after the lock when there is one.
    #[error("{}", sign_in_ended(*retry_after_secs))]
    SignInEnded { retry_after_secs: Option<u64> },
    #[error("This request came from another site and was refused.")]
    Forbidden,
    /// The account must have two-factor authentication and has not set it up yet: only
    /// the enrollment is open to it.
    #[error("Your account must use two-factor authentication. Set it up under Settings → Two-Factor Auth to continue.")]
    EnrollmentRequired,
    /// The body was over the limit, refused before it was read.
    #[error("The request is too large.")]
    TooLarge,
    /// Too many password checks are queued: this one was turned away unchecked.
    #[error("Many people are signing in right now. Please try again in {}.", human_duration(*retry_after_secs))]
    Busy { retry_after_secs: u64 },
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadInput(_) => 400,
            AppError::InvalidCredentials
            | AppError::WrongPassword
            | AppError::InvalidCode
            | AppError::PasskeyRefused
            | AppError::Unauthorized => 401,
            AppError::Forbidden | AppError::EnrollmentRequired => 403,
            AppError::TooLarge => 413,
            AppError::EmailTaken | AppError::Conflict(_) => 409,
            AppError::Throttled { .. } => 429,
            AppError::SignInEnded {
                retry_after_secs: Some(_),
            } => 429,
            AppError::SignInEnded {
                retry_after_secs: None,
            } => 409,
            AppError::Internal => 500,
            AppError::Busy { .. } | AppError::Unavailable => 503,
        }
    }

    /// How long to wait before trying again, for the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::Throttled { retry_after_secs } | AppError::Busy { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            AppError::SignInEnded { retry_after_secs } => *retry_after_secs,
            _ => None,
        }
    }

    /// The `Retry-After` header's seconds: the error's own wait, or a short one for a
    /// service that is briefly away.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Unavailable => Some(UNAVAILABLE_RETRY_SECS),
            other => other.retry_after_secs(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        AppError::BadInput(message.into())
    }

    /// A stable name for programs: the wire format's `kind` and the metrics' `outcome`.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::BadInput(_) => "bad_input",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::WrongPassword => "wrong_password",
            AppError::EmailTaken => "email_taken",
            AppError::InvalidCode => "invalid_code",
            AppError::Unauthorized => "unauthorized",
            AppError::PasskeyRefused => "passkey_refused",
            AppError::Conflict(_) => "conflict",
            AppError::Throttled { .. } => "throttled",
            AppError::SignInEnded { .. } => "sign_in_ended",
            AppError::Forbidden => "forbidden",
            AppError::EnrollmentRequired => "enrollment_required",
            AppError::TooLarge => "too_large",
            AppError::Busy { .. } => "busy",
            AppError::Unavailable => "unavailable",
            AppError::Internal => "internal",
        }
    }
}

/// The JSON an error travels as: a stable `kind` for programs and the `message` for people.
#[derive(Serialize, Deserialize)]
struct WireError {
    kind: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
}

impl From<AppError> for WireError {
    fn from(err: AppError) -> Self {
        let kind = err.kind();
        let retry_after_secs = err.retry_after_secs();
        WireError {
            kind: kind.to_owned(),
            message: err.to_string(),
            retry_after_secs,
        }
    }
}

impl From<WireError> for AppError {
    fn from(wire: WireError) -> Self {
        match wire.kind.as_str() {
            "bad_input" => AppError::BadInput(wire.message),
            "invalid_credentials" => AppError::InvalidCredentials,
            "wrong_password" => AppError::WrongPassword,
            "email_taken" => AppError::EmailTaken,
            "invalid_code" => AppError::InvalidCode,
            "unauthorized" => AppError::Unauthorized,
            "passkey_refused" => AppError::PasskeyRefused,
            "conflict" => AppError::Conflict(wire.message),
            "throttled" => AppError::Throttled {
                retry_after_secs: wire.retry_after_secs.unwrap_or(60),
            },
            "sign_in_ended" => AppError::SignInEnded {
                retry_after_secs: wire.retry_after_secs,
            },
            "forbidden" => AppError::Forbidden,
            "enrollment_required" => AppError::EnrollmentRequired,
            "too_large" => AppError::TooLarge,
            "busy" => AppError::Busy {
                retry_after_secs: wire.retry_after_secs.unwrap_or(UNAVAILABLE_RETRY_SECS),
            },
            "unavailable" => AppError::Unavailable,
            _ => AppError::Internal,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request itself could not be read: the client's fault, described plainly.
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => {
                AppError::BadInput(format!("The form could not be read: {}", first_line(&msg)))
            }
            ServerFnErrorErr::MissingArg(arg) => {
                AppError::BadInput(format!("The field \"{arg}\" is missing."))
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unavailable,
            _ => AppError::Internal,
        }
    }

    /// Every error a server function returns is encoded here on its way out, which makes
    /// this the one place to give the answer its status: server functions answer 500
    /// unless told otherwise.
    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        set_status(self);
        JsonEncoding::encode(self).expect("an AppError is strings and numbers")
    }
}

/// Gives a server function's error answer its status, and `Retry-After` when waiting
/// helps. A plain form post (one that accepts HTML, as server_fn tells them apart) is left
/// alone: server_fn answers it with a redirect back to its page, which shows the error.
#[cfg(feature = "ssr")]
fn set_status(err: &AppError) {
    use http::{header, request::Parts, HeaderValue, StatusCode};
    use leptos::prelude::use_context;

    let Some(res) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let plain_form_post = use_context::<Parts>().is_some_and(|p| {
        p.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    if plain_form_post {
        return;
    }
    res.set_status(StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    if let Some(secs) = err.retry_after() {
        res.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
    }
}

fn first_line(msg: &str) -> &str {
    let line = msg.lines().next().unwrap_or_default();
    // Bounded so a hostile payload is never echoed back at length.
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_client_or_server_status() {
        assert_eq!(AppError::EmailTaken.status(), 409);
        assert_eq!(
            AppError::Throttled {
                retry_after_secs: 5
            }
            .status(),
            429
        );
        assert_eq!(AppError::bad_input("x").status(), 400);
        let busy = AppError::Busy {
            retry_after_secs: 3,
        };
        assert_eq!((busy.status(), busy.retry_after()), (503, Some(3)));
        assert_eq!(
            busy.to_string(),
            "Many people are signing in right now. Please try again in 3 seconds."
        );
    }

    #[test]
    fn errors_travel_with_their_message_and_come_back_whole() {
        for err in [
            AppError::EmailTaken,
            AppError::bad_input("Enter your email address."),
            AppError::Throttled {
                retry_after_secs: 900,
            },
            AppError::Conflict("Two-factor authentication is already on.".into()),
            AppError::Busy {
                retry_after_secs: 3,
            },
        ] {
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["message"], err.to_string());
            assert_eq!(serde_json::from_value::<AppError>(json).unwrap(), err);
        }
    }

    #[test]
    fn unreadable_arguments_become_bad_input() {
        let err =
            AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `email`".into()));
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("missing field `email`"));
    }
}
