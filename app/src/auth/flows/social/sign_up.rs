//! Signing up through a provider that did not prove the person's address (Facebook never
//! does; an OpenID provider may say `email_verified: false`). Taking its address as it is
//! would let anyone make an account in someone else's name and keep a way into it, so
//! the provider's account waits, bound to the browser that came back, while the person
//! gives an address; the account is made when the link sent there is opened in that
//! same browser, with the address proved. Whether an address has an account is never
//! told: its owner is told by mail instead.

use crate::store::{self, outbox::NO_ACCOUNT, pending_sign_ups::NewPending, tx::Tx};

use crate::auth::{
    adapters::messages,
    flows::{accounts, email::verification},
    guards::{
        audit::{self, EventKind},
        outbox,
        sessions::Checked,
    },
    kernel::{client::ClientInfo, email_address::Email, error::AuthError, tokens},
    services::Services,
};
use crate::auth::{
    adapters::{provider_apis::Identity, providers::Provider},
    flows::social::{
        hashes::keyed_hash,
        links::{insert_link, IdentityKey},
    },
};

/// The address must be given, and its link opened, within half an hour of the
/// provider's sign-in.
pub const PENDING_TTL_SECS: i64 = 30 * 60;

/// The cookie that ties a waiting sign-up to its browser; `__Host-` behind TLS.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_signup"
    } else {
        "gatehouse_signup"
    }
}

/// A waiting sign-up, as its page shows it.
pub struct Pending {
    /// The provider's name.
    pub provider: String,
    /// The address the provider gave, unproved: a suggestion for the field.
    pub email_hint: String,
    /// Where the last link went, once one was asked for.
    pub sent_to: Option<String>,
}

/// Keeps the provider's account until an address is proved; returns the value of the
/// cookie that binds it to this browser.
pub(super) async fn hold(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
) -> Result<String, AuthError> {
    let binding = tokens::generate(&*services.random);
    let now = services.clock.now();
    store::pending_sign_ups::insert(
        &services.db,
        NewPending {
            binding_hash: &keyed_hash(services, "signup-binding", &binding),
            provider_id: &provider.id,
            provider_key: &identity.provider_key,
            subject: &identity.subject,
            email_hint: identity.email.as_deref().unwrap_or_default(),
            now,
            expires_at: now + PENDING_TTL_SECS,
        },
    )
    .await?;
    Ok(binding)
}

/// The sign-up waiting in this browser, if any.
pub async fn pending(services: &Services, binding: &str) -> Result<Option<Pending>, AuthError> {
    let hash = keyed_hash(services, "signup-binding", binding);
    let row = store::pending_sign_ups::find(&services.db, &hash, services.clock.now()).await?;
    Ok(row.map(|row| Pending {
        provider: provider_name(services, &row.provider_id),
        email_hint: row.email_hint,
        sent_to: row.email,
    }))
}

/// Sends the link that finishes the sign-up to `email`, counted like every message asked
/// for. An address that has an account already gets a word to its owner instead, and the
/// answer is the same.
pub async fn send_link(
    services: &Services,
    binding: &str,
    email: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let email = Email::parse(email)?;
    let binding_hash = keyed_hash(services, "signup-binding", binding);
    let now = services.clock.now();
    let Some(row) = store::pending_sign_ups::find(&services.db, &binding_hash, now).await? else {
        return Err(AuthError::SignUpExpired);
    };
    verification::count_mail(services, &format!("signup:{}", email.as_str()), client).await?;
    let provider = provider_name(services, &row.provider_id);
    let token = tokens::generate(&*services.random);
    let link_hash = keyed_hash(services, "signup-link", &token);
    let mut tx = Tx::begin(&services.db).await?;
    // Recorded for a taken address too, with a link nobody receives: the page then says
    // "We sent a link to …" as it does for a free address, and an earlier link stops
    // working either way.
    if !store::pending_sign_ups::set_link(&mut *tx, &binding_hash, email.as_str(), &link_hash, now)
        .await?
    {
        return Err(AuthError::SignUpExpired);
    }
    match store::users::find_by_email(&mut *tx, email.as_str()).await? {
        Some(owner) => {
            let message = messages::sign_up_attempted(email.as_str(), &provider);
            outbox::enqueue_in(&mut *tx, services, owner.id, &message).await?;
        }
        None => {
            let base = services.config.public_url.as_url().as_str();
            let link = format!("{}/signup/finish?token={token}", base.trim_end_matches('/'));
            let message = messages::finish_sign_up(email.as_str(), &provider, &link);
            outbox::enqueue_in(&mut *tx, services, NO_ACCOUNT, &message).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A sign-up finished: the new account, and the provider it signed up with.
pub struct Finished {
    pub account: Checked,
    pub provider: String,
}

/// Opens the link in the browser the sign-up waits in: the account is made with the
/// address proved and the provider's account connected, in one commit, and returned to
/// start its session. A link opened in any other browser, a second time or late does
/// nothing.
pub async fn finish(
    services: &Services,
    binding: &str,
    token: &str,
    client: &ClientInfo,
) -> Result<Finished, AuthError> {
    let (binding_hash, link_hash) = (
        keyed_hash(services, "signup-binding", binding),
        keyed_hash(services, "signup-link", token),
    );
    accounts::count_sign_up(services, client).await?;
    let now = services.clock.now();
    let mut tx = Tx::begin(&services.db).await?;
    let row = store::pending_sign_ups::take(&mut *tx, &binding_hash, &link_hash, now).await?;
    let Some((row, email)) = row.and_then(|row| row.email.clone().map(|email| (row, email))) else {
        return Err(AuthError::LinkExpired);
    };
    let user_id = match store::users::insert_without_password(&mut *tx, &email, now).await {
        Ok(id) => id,
        Err(err) if store::is_unique_violation(&err) => return Err(AuthError::EmailTaken),
        Err(err) => return Err(err.into()),
    };
    store::users::mark_email_verified(&mut *tx, user_id, &email, now).await?;
    // The session starts at the link's own epoch.
    let key = IdentityKey {
        provider_key: &row.provider_key,
        subject: &row.subject,
    };
    let credentials_epoch = insert_link(&mut tx, services, user_id, &row.provider_id, &key).await?;
    let provider = provider_name(services, &row.provider_id);
    let detail = format!("with {provider}");
    audit::record_in(
        &mut *tx,
        services,
        user_id,
        EventKind::SignedUp,
        client,
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Finished {
        account: Checked {
            user_id,
            credentials_epoch,
        },
        provider,
    })
}

fn provider_name(services: &Services, id: &str) -> String {
    services
        .providers
        .get(id)
        .map_or_else(|| id.to_owned(), |p| p.name.clone())
}
