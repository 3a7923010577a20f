//! How a message leaves: over SMTP (STARTTLS, implicit TLS or plain, with optional AUTH),
//! or, where no mail server is configured, into the server's log so a person running
//! Gatehouse locally can still follow the links.

use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
};

use crate::auth::adapters::messages::Message;

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("--smtp-url: {0}")]
    SmtpUrl(String),
    #[error("--mail-from {0:?} is not an address like \"Gatehouse <no-reply@example.com>\"")]
    From(String),
}

/// A password may travel only over TLS, or to this machine.
fn refuse_password_in_the_clear(url: &str) -> Result<(), MailConfigError> {
    let parsed = url::Url::parse(url).map_err(|err| MailConfigError::SmtpUrl(err.to_string()))?;
    // `tls=opportunistic` falls back to plain text when the server offers no STARTTLS,
    // which whoever sits on the path can arrange: only `required` counts.
    let encrypted = parsed.scheme() == "smtps"
        || parsed
            .query_pairs()
            .any(|(k, v)| k == "tls" && v == "required");
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // `smtp:` is not a scheme the URL standard knows, so addresses come as names.
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    };
    if parsed.password().is_some() && !encrypted && !loopback {
        return Err(MailConfigError::SmtpUrl(
            "the password would be sent unencrypted: add ?tls=required (STARTTLS) or use smtps://"
                .into(),
        ));
    }
    Ok(())
}

/// Why one message could not be handed over; the worker tries again later.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(String);

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…` (implicit TLS),
    /// plain `smtp://host:25`, or `None` to write messages to the log.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, MailConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| MailConfigError::From(from.to_owned()))?;
        if let Some(url) = smtp_url {
            refuse_password_in_the_clear(url)?;
        }
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| MailConfigError::SmtpUrl(err.to_string()))?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build(),
            ),
            None => Transport::Log,
        };
        Ok(Mailer { transport, from })
    }

    /// Whether messages really leave, for the start-up line.
    pub fn delivers(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(message
                .to
                .parse()
                .map_err(|err| SendError(format!("recipient: {err}")))?)
            .subject(message.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(message.text()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(message.html()),
                    ),
            )
            .map_err(|err| SendError(err.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(email)
                .await
                .map(drop)
                .map_err(|err| SendError(err.to_string())),
            Transport::Log => {
                tracing::info!(
                    to = %message.to,
                    subject = %message.subject,
                    "mail (not delivered: no --smtp-url)\n{}",
                    message.text()
                );
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The SMTP pool needs a runtime even to be built.
    #[tokio::test]
    async fn a_password_never_travels_in_the_clear() {
        let from = "Gatehouse <no-reply@example.com>";
        assert!(Mailer::new(Some("smtp://u:p@mail.example.com:587"), from).is_err());
        assert!(Mailer::new(Some("smtp://u:p@mail.example.com:587?tls=required"), from).is_ok());
        assert!(
            Mailer::new(
                Some("smtp://u:p@mail.example.com:587?tls=opportunistic"),
                from
            )
            .is_err(),
            "opportunistic TLS can fall back to plain text"
        );
        assert!(Mailer::new(Some("smtps://u:p@mail.example.com"), from).is_ok());
        assert!(Mailer::new(Some("smtp://u:p@127.0.0.1:1025"), from).is_ok());
        assert!(Mailer::new(Some("smtp://relay.internal:25"), from).is_ok());
        assert!(Mailer::new(None, "not an address").is_err());
    }
}
