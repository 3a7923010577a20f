//! Mail: what Gatehouse tells people, and how it gets to them without being lost.
//!
//! A message is written to the outbox in the same transaction as the change that causes
//! it, sealed under the server key, and a worker in each instance sends what is due. A
//! mail server that is away delays messages; it never loses them.

pub mod mailer;
pub mod messages;
pub mod outbox;
pub mod tokens;

pub use mailer::{MailConfigError, Mailer};
pub use messages::Message;
