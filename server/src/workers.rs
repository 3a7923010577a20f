//! The loops every instance runs beside the server: the sweep of expired rows and the
//! outbox's mail.

use std::{sync::Arc, time::Duration};

use app::auth::{adapters::mailer::Mailer, services::Services};

/// Deletes expired sessions, enrollments and code handoffs and stale throttle counters at
/// start and every few minutes after, so no table grows without bound.
pub async fn sweep(services: Arc<Services>) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        match app::auth::guards::sweep::run(&services).await {
            Ok(swept) if swept.total() == 0 => {}
            Ok(swept) => tracing::info!(
                sessions = swept.sessions,
                throttles = swept.throttles,
                enrollments = swept.enrollments,
                handoffs = swept.handoffs,
                social_flows = swept.social_flows,
                mail = swept.mail,
                devices = swept.devices,
                ceremonies = swept.ceremonies,
                "removed expired rows"
            ),
            Err(err) => tracing::warn!(error = %err, "could not remove expired rows"),
        }
    }
}

/// Sends what the outbox holds, now and every second after; every instance does, and a
/// claim keeps two from sending one message.
pub async fn send_mail(services: Arc<Services>, backend: app::store::Backend, mailer: Mailer) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app::auth::guards::outbox::deliver_due(&services, backend, &mailer).await {
            Ok(pass) if pass.sent + pass.failed > 0 => {
                tracing::info!(sent = pass.sent, failed = pass.failed, "mail sent")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not read the outbox"),
        }
    }
}
