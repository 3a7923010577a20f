//! Writing messages into the outbox, in the caller's transaction, and the worker's pass
//! that sends what is due, with backoff, for up to a day.

use sqlx::{Any, Executor};

use crate::auth::adapters::{
    mailer::Mailer,
    messages::{self, Message},
};
use crate::{
    auth::{kernel::error::AuthError, services::Services},
    store::{self, Backend},
};

/// A message still not sent a day after it was written is given up on, and logged.
pub const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;
/// The first retry comes after this long, each next one after twice as long, at most
/// [`MAX_BACKOFF_SECS`].
const FIRST_BACKOFF_SECS: i64 = 5;
const MAX_BACKOFF_SECS: i64 = 30 * 60;

/// Queues `message` for account `user_id` (or [`store::outbox::NO_ACCOUNT`]) inside the
/// caller's transaction: it is sent if and only if what caused it commits.
pub async fn enqueue_in<'c>(
    ex: impl Executor<'c, Database = Any>,
    services: &Services,
    user_id: i64,
    message: &Message,
) -> Result<(), AuthError> {
    let json = serde_json::to_vec(message).map_err(AuthError::internal)?;
    let sealed = services
        .keys
        .outbox
        .seal(user_id, &json, &mut services.rng())
        .map_err(AuthError::internal)?;
    let kind = messages::kind_of(&message.subject);
    store::outbox::insert(ex, user_id, kind, &sealed, services.clock.now()).await?;
    metrics::counter!("gatehouse_mail_queued_total").increment(1);
    Ok(())
}

/// What one pass of the worker did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

/// Sends every message that is due, one claim at a time, until none is left.
pub async fn deliver_due(
    services: &Services,
    backend: Backend,
    mailer: &Mailer,
) -> Result<Pass, AuthError> {
    let mut pass = Pass::default();
    loop {
        let now = services.clock.now();
        let Some(claimed) = store::outbox::claim(&services.db, backend, now).await? else {
            break;
        };
        let message = claimed
            .sealed_message
            .as_deref()
            .ok_or_else(|| "no message".to_owned())
            .and_then(|sealed| {
                services
                    .keys
                    .outbox
                    .open(claimed.user_id, sealed)
                    .map_err(|err| err.to_string())
            })
            .and_then(|json| serde_json::from_slice::<Message>(&json).map_err(|e| e.to_string()));
        let outcome = match message {
            Ok(message) => mailer.send(&message).await.map_err(|err| err.to_string()),
            Err(err) => {
                // Never going to open: no point in trying again.
                tracing::error!(id = claimed.id, error = %err, "an outbox message cannot be read; giving up on it");
                store::outbox::mark_failed(&services.db, claimed.id, now).await?;
                metrics::counter!("gatehouse_mail_failed_total").increment(1);
                pass.failed += 1;
                continue;
            }
        };
        let now = services.clock.now();
        match outcome {
            Ok(()) => {
                store::outbox::mark_sent(&services.db, claimed.id, now).await?;
                metrics::counter!("gatehouse_mail_sent_total").increment(1);
                pass.sent += 1;
            }
            Err(err) if now - claimed.created_at >= GIVE_UP_AFTER_SECS => {
                tracing::error!(id = claimed.id, kind = %claimed.kind, attempts = claimed.attempts, error = %err, "gave up sending a message after a day");
                store::outbox::mark_failed(&services.db, claimed.id, now).await?;
                metrics::counter!("gatehouse_mail_failed_total").increment(1);
                pass.failed += 1;
            }
            Err(err) => {
                let wait = backoff(claimed.attempts);
                tracing::warn!(id = claimed.id, kind = %claimed.kind, attempts = claimed.attempts, retry_in_secs = wait, error = %err, "could not send a message; will try again");
                store::outbox::retry_at(&services.db, claimed.id, now + wait).await?;
                pass.retried += 1;
                // The server is likely away for every message: leave the rest for later.
                break;
            }
        }
    }
    let (queued, oldest) = store::outbox::queue(&services.db).await?;
    metrics::gauge!("gatehouse_mail_queue").set(queued as f64);
    let age = oldest.map_or(0, |at| services.clock.now() - at);
    metrics::gauge!("gatehouse_mail_oldest_queued_seconds").set(age as f64);
    Ok(pass)
}

/// Seconds before attempt `attempts + 1`: 5, 10, 20, … up to half an hour.
fn backoff(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    (FIRST_BACKOFF_SECS << doublings).min(MAX_BACKOFF_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::testing;
    use crate::store::tx::Tx;

    async fn account(services: &Services) -> i64 {
        store::users::insert(&services.db, "mail@example.com", "x", services.clock.now())
            .await
            .unwrap()
    }

    fn message(n: usize) -> Message {
        Message {
            to: "mail@example.com".into(),
            subject: format!("Security notice: {n}"),
            paragraphs: vec!["text".into()],
        }
    }

    #[tokio::test]
    async fn a_message_is_queued_only_if_its_cause_commits() {
        let (services, _clock, _dir) = testing::services().await;
        let user = account(&services).await;
        let mut tx = Tx::begin(&services.db).await.unwrap();
        enqueue_in(&mut *tx, &services, user, &message(0))
            .await
            .unwrap();
        drop(tx);
        assert_eq!(store::outbox::queue(&services.db).await.unwrap().0, 0);
        let mut tx = Tx::begin(&services.db).await.unwrap();
        enqueue_in(&mut *tx, &services, user, &message(1))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store::outbox::queue(&services.db).await.unwrap().0, 1);
    }

    #[tokio::test]
    async fn workers_running_at_once_send_each_message_once() {
        let (services, _clock, _dir) = testing::services().await;
        let user = account(&services).await;
        for n in 0..30 {
            let mut tx = Tx::begin(&services.db).await.unwrap();
            enqueue_in(&mut *tx, &services, user, &message(n))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let mailer = Mailer::new(None, "Gatehouse <no-reply@example.com>").unwrap();
        let passes = futures::future::join_all(
            (0..4).map(|_| deliver_due(&services, Backend::Sqlite, &mailer)),
        )
        .await;
        let sent: u64 = passes.into_iter().map(|p| p.unwrap().sent).sum();
        assert_eq!(sent, 30);
        assert_eq!(store::outbox::queue(&services.db).await.unwrap().0, 0);
        // Nothing left to send, and the messages themselves are gone.
        let again = deliver_due(&services, Backend::Sqlite, &mailer)
            .await
            .unwrap();
        assert_eq!(again, Pass::default());
        assert!(store::outbox::all_sealed(&services.db)
            .await
            .unwrap()
            .is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_half_an_hour() {
        assert_eq!(backoff(1), 5);
        assert_eq!(backoff(2), 10);
        assert_eq!(backoff(3), 20);
        assert_eq!(backoff(40), MAX_BACKOFF_SECS);
    }
}
