//! Signing in, signing up and confirming who you are through Google, GitHub, Facebook
//! or any OpenID provider.
//!
//! An account is found by the provider's subject, never by its email, and a sign-in
//! through a provider meets the second factor exactly like one with a password.
//! Each round trip has its own `state`, PKCE verifier and nonce, kept here on the server,
//! bound to the browser that began it by a cookie, spent by the first callback that names
//! it, and gone after ten minutes.

pub mod hashes;
pub mod links;
pub mod new_identity;
pub mod sign_up;

use crate::auth::adapters::provider_apis::Identity;
use crate::auth::adapters::provider_apis::ProviderError;
use crate::auth::adapters::providers::Provider;
use crate::auth::capabilities::step_up;
use crate::auth::capabilities::step_up::linked_before;
use crate::auth::flows::social::links::owner_of;
use crate::auth::guards::account;

use crate::auth::capabilities::step_up::StepUp;
use crate::auth::flows::social::hashes::keyed_hash;
use crate::auth::flows::social::new_identity::{account_for_new_identity, NewIdentity};
use crate::auth::{
    flows::sign_in::{self, FirstFactor, FirstStep},
    guards::{
        remembered_devices::DeviceToken,
        sessions::{Checked, Session},
        throttle,
    },
    kernel::{client::ClientInfo, error::AuthError, tokens},
    services::Services,
};
use crate::shared::provider_refusal::Refusal;
use crate::store::{
    self,
    social_flows::{FlowRow, NewFlow},
};

/// A round trip to a provider must come back within ten minutes.
pub const FLOW_TTL_SECS: i64 = 10 * 60;
/// How far a provider's clock may run behind ours when it says when the person signed in.
const AUTH_TIME_SKEW_SECS: i64 = 60;
/// The cookie that ties a round trip to the browser that began it. Behind TLS its
/// `__Host-` prefix makes browsers refuse one set by any other host, a sibling subdomain
/// included, or sent without Secure.
pub fn binding_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_oauth"
    } else {
        "gatehouse_oauth"
    }
}

/// What a round trip is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sign in, or sign up where the provider allows it.
    SignIn,
    /// Connect the provider to the signed-in account.
    Link,
    /// Prove again who the signed-in person is, in place of a password they do not have.
    Reauth,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::Link => "link",
            Purpose::Reauth => "reauth",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sign_in" => Some(Purpose::SignIn),
            "link" => Some(Purpose::Link),
            "reauth" => Some(Purpose::Reauth),
            _ => None,
        }
    }
}

/// A round trip that may begin: where to send the browser, and the cookie value that
/// binds it to this browser.
pub struct Begun {
    pub authorize_url: String,
    pub binding: String,
}

/// Starts a round trip to `provider_id`. Links and confirmations need a full session,
/// whose id the flow keeps. Every start mints its own binding: one the browser brings may
/// have been planted, to finish someone else's round trip in it. Each start is a row
/// anyone may cause, so every one counts against the client's address. A link adds a way
/// in, so it is confirmed here like every other change: the code is spent in the commit
/// that records the flow, and the account's address must be proved.
pub async fn begin(
    services: &Services,
    provider_id: &str,
    purpose: Purpose,
    session: Option<&Session>,
    next: &str,
    confirmation: StepUp,
    client: &ClientInfo,
) -> Result<Begun, AuthError> {
    let provider = services
        .providers
        .get(provider_id)
        .ok_or(AuthError::Social(Refusal::UnknownProvider))?;
    let counted = throttle::reserve(
        services,
        throttle::address_key("social-start", &client.ip),
        throttle::REQUESTS_BEGUN_PER_IP,
    )
    .await?;
    throttle::stands(services, &counted).await?;
    let session_id = match purpose {
        Purpose::SignIn => None,
        Purpose::Link | Purpose::Reauth => Some(session.ok_or(AuthError::NotSignedIn)?.id),
    };
    if purpose == Purpose::Reauth && !provider.can_confirm_fresh_sign_in() {
        return Err(AuthError::Social(Refusal::CannotConfirm));
    }
    let linking = match (purpose, session) {
        (Purpose::Link, Some(session)) => {
            account::require_verified_address(&services.db, session.user_id).await?;
            step_up::confirm_identity(services, session, confirmation.password, client).await?;
            Some(session)
        }
        _ => None,
    };
    let authorization = provider
        .authorization(&services.providers, purpose == Purpose::Reauth)
        .await
        .map_err(|err| provider_failed(provider, err))?;
    let binding = tokens::generate(&*services.random);
    let now = services.clock.now();
    let (state_hash, binding_hash) = (
        keyed_hash(services, "state", &authorization.state),
        keyed_hash(services, "binding", &binding),
    );
    let flow = NewFlow {
        state_hash: &state_hash,
        binding_hash: &binding_hash,
        provider_id: &provider.id,
        purpose: purpose.as_str(),
        session_id,
        pkce_verifier: &authorization.pkce_verifier,
        nonce: &authorization.nonce,
        next,
        now,
        expires_at: now + FLOW_TTL_SECS,
    };
    match linking {
        Some(session) => {
            let mut tx =
                step_up::second_factor_if_on(services, session, &confirmation.code, client).await?;
            store::social_flows::insert(&mut *tx, flow).await?;
            tx.commit().await?;
        }
        None => store::social_flows::insert(&services.db, flow).await?,
    }
    Ok(Begun {
        authorize_url: authorization.url,
        binding,
    })
}

/// The query a provider sends back to the callback.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub iss: Option<String>,
}

/// What a finished round trip did.
pub enum Completed {
    /// Signed in: a full session, or one waiting at the code prompt.
    SignedIn {
        first_factor: FirstFactor,
        next: String,
    },
    /// The provider did not prove the person's address: they give one, and the sign-up
    /// waits for its link in this browser, bound by this cookie value.
    ConfirmEmail {
        binding: String,
    },
    Linked {
        next: String,
    },
    Reauthenticated {
        next: String,
    },
}

/// A round trip that came back, and what it was for as far as that is known; a refusal
/// is shown on the page of its purpose.
pub struct Returned {
    pub purpose: Purpose,
    pub next: String,
    pub result: Result<Completed, AuthError>,
}

/// Finishes the round trip that `callback.state` names. The state is spent first, so a
/// replay finds nothing; then the browser, the provider and the issuer must all be the
/// ones that began it.
pub async fn complete(
    services: &Services,
    provider_id: &str,
    callback: Callback,
    binding: Option<&str>,
    session: Option<&Session>,
    device: Option<&DeviceToken>,
    client: &ClientInfo,
) -> Returned {
    let (flow, purpose) = match spend_flow(
        services,
        provider_id,
        callback.state.as_deref(),
        binding,
        session,
    )
    .await
    {
        Ok(spent) => spent,
        Err(refused) => return *refused,
    };
    let next = flow.next.clone();
    let Some(provider) = services.providers.get(provider_id) else {
        return returned(purpose, next, refuse(Refusal::UnknownProvider));
    };
    if let Some(error) = callback.error {
        let err = if error == "access_denied" {
            ProviderError::Declined
        } else {
            ProviderError::Refused(format!("error={error}"))
        };
        return returned(purpose, next, Err(provider_failed(provider, err)));
    }
    let Some(code) = callback.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return returned(
            purpose,
            next,
            Err(provider_failed(
                provider,
                ProviderError::Refused("no code in the callback".into()),
            )),
        );
    };
    let identity = match provider
        .identify(
            &services.providers,
            code,
            callback.iss.as_deref(),
            flow.pkce_verifier.clone(),
            &flow.nonce,
        )
        .await
    {
        Ok(identity) => identity,
        Err(err) => return returned(purpose, next, Err(provider_failed(provider, err))),
    };
    let result = finish(
        services, provider, &identity, &flow, session, device, client,
    )
    .await;
    returned(purpose, next, result)
}

/// Spends the round trip that `state` names, then checks it is this browser's (the
/// binding), this provider's and this session's. A refusal is the answer to give.
async fn spend_flow(
    services: &Services,
    provider_id: &str,
    state: Option<&str>,
    binding: Option<&str>,
    session: Option<&Session>,
) -> Result<(FlowRow, Purpose), Box<Returned>> {
    let refused = |purpose, next, refusal| Box::new(returned(purpose, next, refuse(refusal)));
    let flow = match state {
        Some(state) if !state.is_empty() && state.len() <= 256 => {
            let hash = keyed_hash(services, "state", state);
            match store::social_flows::take(&services.db, &hash, services.clock.now()).await {
                Ok(flow) => flow,
                Err(err) => {
                    return Err(Box::new(returned(
                        Purpose::SignIn,
                        String::new(),
                        Err(err.into()),
                    )))
                }
            }
        }
        _ => None,
    };
    let Some(flow) = flow else {
        return Err(refused(Purpose::SignIn, String::new(), Refusal::Expired));
    };
    let purpose = Purpose::parse(&flow.purpose).unwrap_or(Purpose::SignIn);
    let bound = binding.is_some_and(|b| {
        use subtle::ConstantTimeEq;
        bool::from(keyed_hash(services, "binding", b).ct_eq(&flow.binding_hash))
    });
    // A flow begun for a session finishes only in that session.
    let same_session = flow.session_id.is_none() || flow.session_id == session.map(|s| s.id);
    if !bound || flow.provider_id != provider_id || !same_session {
        return Err(refused(purpose, flow.next, Refusal::Expired));
    }
    Ok((flow, purpose))
}

/// What the identified person came for: a sign-in, a link or a confirmation.
async fn finish(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    flow: &FlowRow,
    session: Option<&Session>,
    device: Option<&DeviceToken>,
    client: &ClientInfo,
) -> Result<Completed, AuthError> {
    let next = flow.next.clone();
    match (
        Purpose::parse(&flow.purpose).unwrap_or(Purpose::SignIn),
        session,
    ) {
        (Purpose::SignIn, _) => {
            sign_in_with(services, provider, identity, device, client, next.clone()).await
        }
        // Until it has a second factor, an account that must have one adds no way in.
        (Purpose::Link, Some(session)) if session.must_enroll => Err(AuthError::EnrollmentRequired),
        (Purpose::Link, Some(session)) => {
            links::link(services, provider, identity, session, client)
                .await
                .map(|()| Completed::Linked { next: next.clone() })
        }
        (Purpose::Reauth, Some(session)) => {
            reauthenticate(services, provider, identity, session, flow.created_at)
                .await
                .map(|()| Completed::Reauthenticated { next: next.clone() })
        }
        (_, None) => Err(AuthError::NotSignedIn),
    }
}

fn returned(purpose: Purpose, next: String, result: Result<Completed, AuthError>) -> Returned {
    Returned {
        purpose,
        next,
        result,
    }
}

fn refuse<T>(refusal: Refusal) -> Result<T, AuthError> {
    Err(AuthError::Social(refusal))
}

/// The provider's own failure, logged with its cause; the person is told it failed.
fn provider_failed(provider: &Provider, err: ProviderError) -> AuthError {
    match err {
        ProviderError::Declined => AuthError::Social(Refusal::Declined),
        err => {
            tracing::warn!(provider = %provider.id, error = %err, "social sign-in failed at the provider");
            AuthError::Social(Refusal::ProviderFailed)
        }
    }
}

/// The account this identity signs in to: the one it is linked to; or, where the
/// operator trusts the provider's email and both sides have verified it, the account
/// with that email; or a new account where sign-up is open, which waits for its address
/// to be proved when the provider did not prove it.
async fn sign_in_with(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    device: Option<&DeviceToken>,
    client: &ClientInfo,
    next: String,
) -> Result<Completed, AuthError> {
    let owner = match owner_of(services, identity).await? {
        Some(owner) => owner,
        None => {
            if let NewIdentity::ConfirmEmail(binding) =
                account_for_new_identity(services, provider, identity, client).await?
            {
                return Ok(Completed::ConfirmEmail { binding });
            }
            // Read again, with the epoch the new link left.
            owner_of(services, identity)
                .await?
                .ok_or(AuthError::Social(Refusal::Expired))?
        }
    };
    let account = Checked {
        user_id: owner.user_id,
        credentials_epoch: owner.credentials_epoch,
    };
    let first_factor = sign_in::first_factor_passed(
        services,
        account,
        client,
        FirstStep::Provider(&provider.name),
        device,
    )
    .await?;
    Ok(Completed::SignedIn { first_factor, next })
}

/// Accepts a fresh sign-in at an OpenID provider, by the identity linked to this account,
/// in place of the password for the next few minutes. Only an identity linked before
/// this session began confirms it: one linked since could be the session's thief's.
async fn reauthenticate(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    session: &Session,
    began_at: i64,
) -> Result<(), AuthError> {
    let owner = owner_of(services, identity).await?;
    match owner {
        Some(owner) if owner.user_id == session.user_id => {
            if !linked_before(owner.linked_epoch, session) {
                return refuse(Refusal::LinkedThisSession);
            }
        }
        _ => return refuse(Refusal::WrongAccount),
    }
    let fresh = provider.can_confirm_fresh_sign_in()
        && identity
            .auth_time
            .is_some_and(|at| at >= began_at - AUTH_TIME_SKEW_SECS);
    if !fresh {
        return refuse(Refusal::NotFresh);
    }
    if !store::sessions::mark_reauthenticated(&services.db, session.id, services.clock.now())
        .await?
    {
        return Err(AuthError::NotSignedIn);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::auth::capabilities::step_up;
    use crate::auth::credentials::proofs::Method;

    use crate::auth::capabilities::step_up::REAUTH_WINDOW_SECS;
    use crate::auth::flows::social::links::disconnect;
    use crate::auth::flows::social::links::methods;
    use data_encoding::BASE64URL_NOPAD;

    use super::*;
    use crate::auth::{flows::accounts, guards::sessions, testing};

    /// A password-less account linked to `providers`, signed in and just confirmed at one
    /// of them, as a change asks.
    async fn confirmed_social_account(services: &Services, providers: &[&str]) -> Session {
        let session = social_account(services, providers).await;
        let now = services.clock.now();
        store::sessions::mark_reauthenticated(&services.db, session.id, now)
            .await
            .unwrap();
        Session {
            reauthenticated_at: Some(now),
            ..session
        }
    }

    /// A password-less account linked to `providers`, signed in.
    async fn social_account(services: &Services, providers: &[&str]) -> Session {
        let now = services.clock.now();
        let user = store::users::insert_without_password(&services.db, "sam@example.com", now)
            .await
            .unwrap();
        for (i, provider) in providers.iter().enumerate() {
            store::linked_identities::insert(
                &services.db,
                user,
                provider,
                provider,
                &i.to_string(),
                now,
            )
            .await
            .unwrap();
        }
        let client = testing::client("203.0.113.9");
        let account = sessions::Checked {
            user_id: user,
            credentials_epoch: 0,
        };
        let token = sessions::start(
            services,
            account,
            sessions::Stage::Full,
            &client,
            "Google",
            &[Method::Provider],
        )
        .await
        .unwrap();
        sessions::resolve(services, &token).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn of_two_disconnects_at_once_only_one_leaves_the_account_a_way_in() {
        let (services, _clock, _dir) = testing::services().await;
        let session = confirmed_social_account(&services, &["google", "github"]).await;
        let client = testing::client("203.0.113.9");
        let (a, b) = tokio::join!(
            disconnect(&services, &session, "google", StepUp::default(), &client),
            disconnect(&services, &session, "github", StepUp::default(), &client),
        );
        let refused = [&a, &b]
            .iter()
            .filter(|r| matches!(r, Err(AuthError::Social(Refusal::LastMethod))))
            .count();
        assert_eq!(
            (a.is_ok() as u8 + b.is_ok() as u8, refused),
            (1, 1),
            "{a:?} {b:?}"
        );
        assert_eq!(
            methods(&services, session.user_id)
                .await
                .unwrap()
                .linked
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn a_provider_confirmation_stands_in_for_the_password_for_five_minutes() {
        let (services, clock, _dir) = testing::services().await;
        let session = social_account(&services, &["google"]).await;
        let client = testing::client("203.0.113.9");
        let confirm =
            |session| step_up::confirm_identity(&services, session, String::new(), &client);
        assert!(matches!(
            confirm(&session).await,
            Err(AuthError::ReauthenticationRequired)
        ));
        store::sessions::mark_reauthenticated(&services.db, session.id, services.clock.now())
            .await
            .unwrap();
        let refreshed = Session {
            reauthenticated_at: Some(services.clock.now()),
            ..session.clone()
        };
        clock.advance(REAUTH_WINDOW_SECS);
        assert!(confirm(&refreshed).await.is_ok());
        clock.advance(1);
        assert!(matches!(
            confirm(&refreshed).await,
            Err(AuthError::ReauthenticationRequired)
        ));
    }

    #[tokio::test]
    async fn a_first_password_is_set_once_even_when_two_arrive_at_once() {
        let (services, _clock, _dir) = testing::services().await;
        let session = confirmed_social_account(&services, &["google"]).await;
        let client = testing::client("203.0.113.9");
        let (a, b) = tokio::join!(
            accounts::set_password(
                &services,
                &session,
                "first-Horse-battery-92".into(),
                "",
                &client
            ),
            accounts::set_password(
                &services,
                &session,
                "second-Horse-battery-92".into(),
                "",
                &client
            ),
        );
        assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
        assert!(matches!(a.and(b), Err(AuthError::PasswordAlreadySet)));
    }

    #[tokio::test]
    async fn a_callback_without_a_known_state_is_refused_before_anything_else() {
        let (services, _clock, _dir) = testing::services().await;
        for state in [None, Some(String::new()), Some("never-issued".to_owned())] {
            let returned = complete(
                &services,
                "google",
                Callback {
                    state,
                    code: Some("code".into()),
                    ..Callback::default()
                },
                Some("binding"),
                None,
                None,
                &testing::client("203.0.113.9"),
            )
            .await;
            assert_eq!(returned.purpose, Purpose::SignIn);
            assert!(matches!(
                returned.result,
                Err(AuthError::Social(Refusal::Expired))
            ));
        }
    }

    #[tokio::test]
    async fn states_and_bindings_are_hashed_under_their_own_labels() {
        let (services, _clock, _dir) = testing::services().await;
        let token = tokens::generate(&*services.random);
        assert_eq!(BASE64URL_NOPAD.decode(token.as_bytes()).unwrap().len(), 32);
        assert_ne!(
            keyed_hash(&services, "state", &token),
            keyed_hash(&services, "binding", &token),
            "a binding cookie must never pass as a state"
        );
        assert_eq!(
            keyed_hash(&services, "state", &token),
            keyed_hash(&services, "state", &token)
        );
    }
}
