//! Signing in, signing up and confirming who you are through Google, GitHub, Facebook
//! or any OpenID provider.
//!
//! An account is found by the provider's subject, never by its email, and a sign-in
//! through a provider meets the second factor exactly like one with a password.
//! Each round trip has its own `state`, PKCE verifier and nonce, kept here on the server,
//! bound to the browser that began it by a cookie, spent by the first callback that names
//! it, and gone after ten minutes.

pub mod providers;
pub mod sign_up;

use crate::store::Tx;
use data_encoding::BASE64URL_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{
    accounts,
    audit::{self, EventKind},
    email::Email,
    error::AuthError,
    notices::Notice,
    random,
    remembered_devices::DeviceToken,
    sessions::{Checked, Session},
    sign_in::{self, FirstFactor},
    throttle,
    two_factor::{self, AccountChange},
    ClientInfo, Services,
};
use crate::store::{
    self,
    linked_identities::{LinkedIdentityRow, Owner},
    social_flows::NewFlow,
};
pub use providers::{Identity, Provider, ProviderError, Providers};

/// A round trip to a provider must come back within ten minutes.
pub const FLOW_TTL_SECS: i64 = 10 * 60;
/// A confirmation at a provider stands in for the password for five minutes.
pub const REAUTH_WINDOW_SECS: i64 = 5 * 60;
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

pub use crate::shared::provider_refusal::Refusal;

/// A round trip that may begin: where to send the browser, and the cookie value that
/// binds it to this browser.
pub struct Begun {
    pub authorize_url: String,
    pub binding: String,
}

/// What confirms a new way in before its round trip begins: the password (empty for an
/// account without one, which confirms with a fresh provider sign-in instead) and a
/// code when two-factor authentication is on.
#[derive(Default)]
pub struct Confirmation {
    pub password: String,
    pub code: String,
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
    confirmation: Confirmation,
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
            accounts::require_verified_address(&services.db, session.user_id).await?;
            accounts::confirm_identity(services, session, confirmation.password, client).await?;
            Some(session)
        }
        _ => None,
    };
    let authorization = provider
        .authorization(&services.providers, purpose == Purpose::Reauth)
        .await
        .map_err(|err| provider_failed(provider, err))?;
    let binding = random_token();
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
                accounts::second_factor_if_on(services, session, &confirmation.code, client)
                    .await?;
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
    let now = services.clock.now();
    let flow = match callback.state.as_deref() {
        Some(state) if !state.is_empty() && state.len() <= 256 => {
            match store::social_flows::take(
                &services.db,
                &keyed_hash(services, "state", state),
                now,
            )
            .await
            {
                Ok(flow) => flow,
                Err(err) => return returned(Purpose::SignIn, String::new(), Err(err.into())),
            }
        }
        _ => None,
    };
    let Some(flow) = flow else {
        return returned(Purpose::SignIn, String::new(), refuse(Refusal::Expired));
    };
    let purpose = Purpose::parse(&flow.purpose).unwrap_or(Purpose::SignIn);
    let next = flow.next.clone();
    let bound = binding.is_some_and(|b| {
        use subtle::ConstantTimeEq;
        bool::from(keyed_hash(services, "binding", b).ct_eq(&flow.binding_hash))
    });
    // A flow begun for a session finishes only in that session.
    let same_session = flow.session_id.is_none() || flow.session_id == session.map(|s| s.id);
    if !bound || flow.provider_id != provider_id || !same_session {
        return returned(purpose, next, refuse(Refusal::Expired));
    }
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
            flow.pkce_verifier,
            &flow.nonce,
        )
        .await
    {
        Ok(identity) => identity,
        Err(err) => return returned(purpose, next, Err(provider_failed(provider, err))),
    };
    let result = match (purpose, session) {
        (Purpose::SignIn, _) => {
            sign_in_with(services, provider, &identity, device, client, next.clone()).await
        }
        // Until it has a second factor, an account that must have one adds no way in.
        (Purpose::Link, Some(session)) if session.must_enroll => Err(AuthError::EnrollmentRequired),
        (Purpose::Link, Some(session)) => link(services, provider, &identity, session, client)
            .await
            .map(|()| Completed::Linked { next: next.clone() }),
        (Purpose::Reauth, Some(session)) => {
            reauthenticate(services, provider, &identity, session, flow.created_at)
                .await
                .map(|()| Completed::Reauthenticated { next: next.clone() })
        }
        (_, None) => Err(AuthError::NotSignedIn),
    };
    returned(purpose, next, result)
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
    let first_factor =
        sign_in::first_factor_passed(services, account, client, &provider.name, device).await?;
    Ok(Completed::SignedIn { first_factor, next })
}

/// What a provider's account with no link comes to.
enum NewIdentity {
    /// Linked to an account, new or found by its trusted email.
    Linked,
    /// Waiting for an address, in the browser bound by this cookie value.
    ConfirmEmail(String),
}

async fn account_for_new_identity(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    client: &ClientInfo,
) -> Result<NewIdentity, AuthError> {
    let email = identity.email.as_deref().and_then(|e| Email::parse(e).ok());
    let Some(email) = email.filter(|_| identity.email_verified) else {
        if !provider.allow_signup {
            return refuse(Refusal::NotLinked);
        }
        return Ok(NewIdentity::ConfirmEmail(
            sign_up::hold(services, provider, identity).await?,
        ));
    };
    let existing = store::users::find_by_email(&services.db, email.as_str()).await?;
    if let Some(existing) = existing {
        let may_link = provider.trust_email && existing.email_verified_at.is_some();
        if !may_link {
            return refuse(Refusal::EmailExists);
        }
        // A new way in like any other: every session ends, and the owner is told.
        let mut tx = Tx::begin(&services.db).await?;
        insert_link(
            &mut tx,
            services,
            existing.id,
            &provider.id,
            &identity.key(),
        )
        .await?;
        let change = AccountChange {
            user_id: existing.id,
            keep: None,
            kind: EventKind::ProviderLinked,
            detail: &format!("{} (by its verified email)", provider.name),
            notice: Some(Notice::ProviderConnected {
                provider: provider.name.clone(),
            }),
        };
        two_factor::commit_account_change(tx, services, change, client).await?;
        return Ok(NewIdentity::Linked);
    }
    if !provider.allow_signup {
        return refuse(Refusal::NotLinked);
    }
    super::accounts::count_sign_up(services, client).await?;
    let mut tx = Tx::begin(&services.db).await?;
    let user_id =
        match store::users::insert_without_password(&mut *tx, email.as_str(), services.clock.now())
            .await
        {
            Ok(id) => id,
            Err(err) if store::is_unique_violation(&err) => return refuse(Refusal::EmailExists),
            Err(err) => return Err(err.into()),
        };
    insert_link(&mut tx, services, user_id, &provider.id, &identity.key()).await?;
    let detail = format!("with {}", provider.name);
    audit::record_in(
        &mut *tx,
        services,
        user_id,
        EventKind::SignedUp,
        client,
        &detail,
    )
    .await?;
    // The provider proved the address; where the operator trusts that, so does Gatehouse.
    if provider.trust_email {
        store::users::mark_email_verified(&mut *tx, user_id, email.as_str(), services.clock.now())
            .await?;
    } else {
        super::verification::send_in(&mut tx, services, user_id, email.as_str()).await?;
    }
    tx.commit().await?;
    Ok(NewIdentity::Linked)
}

/// Links the identity to the account in `tx`, at a credentials epoch of its own, which it
/// returns: no session begun before the link counts it as linked before it began.
async fn insert_link(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    provider_id: &str,
    identity: &IdentityKey<'_>,
) -> Result<i64, AuthError> {
    let epoch = store::users::bump_credentials_epoch(&mut **tx, user_id).await?;
    match store::linked_identities::insert(
        &mut **tx,
        user_id,
        provider_id,
        identity.provider_key,
        identity.subject,
        services.clock.now(),
    )
    .await
    {
        Ok(()) => Ok(epoch),
        // Linked elsewhere a moment ago, or this account has another one of this provider.
        Err(err) if store::is_unique_violation(&err) => {
            let owner = owner_by_key(services, identity).await?;
            refuse(match owner {
                Some(owner) if owner.user_id != user_id => Refusal::LinkedElsewhere,
                _ => Refusal::AlreadyLinked,
            })
        }
        Err(err) => Err(err.into()),
    }
}

/// Connects the provider to the signed-in account, confirmed when the round trip began;
/// connecting it again is no change. A factor change: the other sessions end and the
/// owner is told, in the commit that links it.
async fn link(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    session: &Session,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let owner = owner_of(services, identity).await?;
    match owner {
        Some(owner) if owner.user_id == session.user_id => return Ok(()),
        Some(_) => return refuse(Refusal::LinkedElsewhere),
        None => {}
    }
    let mut tx = Tx::begin(&services.db).await?;
    // The address was proved when the round trip began; it must still be.
    accounts::require_verified_address(&mut *tx, session.user_id).await?;
    insert_link(
        &mut tx,
        services,
        session.user_id,
        &provider.id,
        &identity.key(),
    )
    .await?;
    let change = AccountChange {
        user_id: session.user_id,
        keep: Some(session.id),
        kind: EventKind::ProviderLinked,
        detail: &provider.name,
        notice: Some(Notice::ProviderConnected {
            provider: provider.name.clone(),
        }),
    };
    two_factor::commit_account_change(tx, services, change, client).await
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

/// The account's ways to sign in.
pub struct Methods {
    pub has_password: bool,
    /// Linked providers by id, with when each was linked.
    pub linked: Vec<LinkedIdentityRow>,
}

pub async fn methods(services: &Services, user_id: i64) -> Result<Methods, AuthError> {
    let user = super::accounts::by_id(services, user_id).await?;
    Ok(Methods {
        has_password: user.password_hash.is_some(),
        linked: linked(services, user_id).await?,
    })
}

/// The providers linked to the account, with when each was linked.
pub async fn linked(
    services: &Services,
    user_id: i64,
) -> Result<Vec<LinkedIdentityRow>, AuthError> {
    Ok(store::linked_identities::list_for_user(&services.db, user_id).await?)
}

/// Whether a link made at `linked_epoch` was made before `session` began, so that it
/// confirms the session's changes.
pub fn linked_before(linked_epoch: i64, session: &Session) -> bool {
    linked_epoch <= session.credentials_epoch
}

/// Disconnects a provider, unless it is the account's last way to sign in: confirmed
/// like every change of a way in, and a factor change. The account's row is written
/// first, so two disconnects at once take turns and see each other. Nothing to
/// disconnect spends nothing: the code's claim is rolled back.
pub async fn disconnect(
    services: &Services,
    session: &Session,
    provider_id: &str,
    confirmation: Confirmation,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    accounts::confirm_identity(services, session, confirmation.password, client).await?;
    let mut tx =
        accounts::second_factor_if_on(services, session, &confirmation.code, client).await?;
    store::users::lock(&mut *tx, session.user_id).await?;
    let linked = store::linked_identities::list_for_user(&mut *tx, session.user_id).await?;
    if !linked.iter().any(|l| l.provider_id == provider_id) {
        return Ok(());
    }
    if !store::linked_identities::delete_unless_last(&mut *tx, session.user_id, provider_id).await?
    {
        return refuse(Refusal::LastMethod);
    }
    let name = services
        .providers
        .get(provider_id)
        .map_or(provider_id, |p| p.name.as_str());
    let change = AccountChange {
        user_id: session.user_id,
        keep: Some(session.id),
        kind: EventKind::ProviderUnlinked,
        detail: name,
        notice: Some(Notice::ProviderDisconnected {
            provider: name.to_owned(),
        }),
    };
    two_factor::commit_account_change(tx, services, change, client).await
}

/// Whether the session's person proved themselves at a provider within the last few
/// minutes, which stands in for the password of an account without one.
pub fn recently_reauthenticated(services: &Services, session: &Session) -> bool {
    session
        .reauthenticated_at
        .is_some_and(|at| services.clock.now() - at <= REAUTH_WINDOW_SECS)
}

/// The account this provider identity is linked to, if any.
async fn owner_of(services: &Services, identity: &Identity) -> Result<Option<Owner>, AuthError> {
    owner_by_key(services, &identity.key()).await
}

/// What names a provider's account: its issuer (or provider id) and its subject.
struct IdentityKey<'a> {
    provider_key: &'a str,
    subject: &'a str,
}

impl Identity {
    fn key(&self) -> IdentityKey<'_> {
        IdentityKey {
            provider_key: &self.provider_key,
            subject: &self.subject,
        }
    }
}

async fn owner_by_key(
    services: &Services,
    key: &IdentityKey<'_>,
) -> Result<Option<Owner>, AuthError> {
    Ok(store::linked_identities::find_owner(&services.db, key.provider_key, key.subject).await?)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    random::fill(&mut bytes);
    BASE64URL_NOPAD.encode(&bytes)
}

/// States and binding cookies are stored only as keyed hashes, each under its own label.
fn keyed_hash(services: &Services, label: &str, value: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&services.keys.hashing[..])
        .expect("HMAC takes any key length");
    mac.update(b"social-flow/");
    mac.update(label.as_bytes());
    mac.update(b"/");
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{accounts, sessions, testing};

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
        let token = sessions::start(services, account, sessions::Stage::Full, &client, "Google")
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
            disconnect(
                &services,
                &session,
                "google",
                Confirmation::default(),
                &client
            ),
            disconnect(
                &services,
                &session,
                "github",
                Confirmation::default(),
                &client
            ),
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
            |session| accounts::confirm_identity(&services, session, String::new(), &client);
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
        let token = random_token();
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
