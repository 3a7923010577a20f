//! Two-factor authentication required by policy: for every account by the operator's
//! `--require-two-factor`, or for one by `server admin require-2fa`. Such an account
//! without a second factor reaches only the enrollment (see `Session::must_enroll`), and
//! cannot turn two-factor authentication off.

use crate::auth::{
    guards::audit::{self, EventKind},
    kernel::{client::ClientInfo, email_address::Email, error::AuthError},
    services::Services,
};
use crate::store;
use crate::store::tx::Tx;

/// What `require-2fa` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Required {
    /// Newly required; the account had two-factor authentication on already, or not.
    Now {
        has_second_factor: bool,
    },
    Already,
}

/// Requires two-factor authentication of one account, and records it in its activity.
/// `None` for an unknown email.
pub async fn require_for_account(
    services: &Services,
    email: &str,
) -> Result<Option<Required>, AuthError> {
    let email = Email::parse(email)?;
    let Some(user) = store::users::find_by_email(&services.db, email.as_str()).await? else {
        return Ok(None);
    };
    let mut tx = Tx::begin(&services.db).await?;
    if !store::users::require_two_factor(&mut *tx, user.id).await? {
        return Ok(Some(Required::Already));
    }
    let client = ClientInfo {
        ip: String::new(),
        user_agent: "admin command line".into(),
    };
    audit::record_in(
        &mut *tx,
        services,
        user.id,
        EventKind::TwoFactorRequired,
        &client,
        "by an administrator",
    )
    .await?;
    tx.commit().await?;
    let has_second_factor =
        crate::auth::capabilities::second_factor::is_enabled(services, user.id).await?;
    Ok(Some(Required::Now { has_second_factor }))
}

/// True when the account must keep a second factor.
pub async fn is_required(services: &Services, user_id: i64) -> Result<bool, AuthError> {
    if services.config.require_two_factor {
        return Ok(true);
    }
    Ok(store::users::two_factor_required(&services.db, user_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{guards::sessions, testing};

    #[tokio::test]
    async fn a_required_account_must_enroll_until_it_has_a_second_factor() {
        let (services, _clock, _dir) = testing::services().await;
        let now = services.clock.now();
        let user = store::users::insert(&services.db, "ann@example.com", "hash", now)
            .await
            .unwrap();
        let client = testing::client("203.0.113.9");
        let account = sessions::Checked {
            user_id: user,
            credentials_epoch: 0,
        };
        let token = sessions::start(
            &services,
            account,
            sessions::Stage::Full,
            &client,
            "password",
            &[crate::auth::credentials::proofs::Method::Password],
        )
        .await
        .unwrap();
        let session = sessions::resolve(&services, &token).await.unwrap().unwrap();
        assert!(!session.must_enroll);

        assert_eq!(
            require_for_account(&services, "ANN@example.com")
                .await
                .unwrap(),
            Some(Required::Now {
                has_second_factor: false
            })
        );
        assert_eq!(
            require_for_account(&services, "ann@example.com")
                .await
                .unwrap(),
            Some(Required::Already)
        );
        assert_eq!(
            require_for_account(&services, "nobody@example.com")
                .await
                .unwrap(),
            None
        );
        let session = sessions::resolve(&services, &token).await.unwrap().unwrap();
        assert!(session.must_enroll && session.two_factor_required);
        assert!(is_required(&services, user).await.unwrap());
    }
}
