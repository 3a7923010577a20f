//! Every message Gatehouse sends, in plain language, as plain text with a simple HTML
//! twin (no images, nothing loaded from elsewhere).

use serde::{Deserialize, Serialize};

use crate::auth::kernel::{client::ClientInfo, user_agent};

/// One message, as the outbox keeps it until it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub to: String,
    pub subject: String,
    /// Paragraphs; a paragraph that is a URL becomes a link in the HTML.
    pub paragraphs: Vec<String>,
}

impl Message {
    pub fn text(&self) -> String {
        let mut text = self.paragraphs.join("\n\n");
        text.push_str("\n\n— Gatehouse\n");
        text
    }

    pub fn html(&self) -> String {
        let body: String = self
            .paragraphs
            .iter()
            .map(|p| {
                let escaped = escape(p);
                if p.starts_with("http://") || p.starts_with("https://") {
                    format!("<p><a href=\"{escaped}\">{escaped}</a></p>\n")
                } else {
                    format!("<p>{}</p>\n", escaped.replace('\n', "<br>\n"))
                }
            })
            .collect();
        format!(
            "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5; max-width: 40em\">\n\
             {body}<p>— Gatehouse</p>\n</body></html>\n"
        )
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What kind of message it is, for the outbox's records and the logs.
pub fn kind_of(subject: &str) -> &'static str {
    match subject {
        s if s.starts_with("Confirm your email") => "verify",
        s if s.starts_with("Reset your") => "reset",
        s if s.starts_with("Confirm your new") => "change_email",
        _ => "notice",
    }
}

pub fn verify_email(to: &str, link: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Confirm your email address".into(),
        paragraphs: vec![
            "Please confirm that this is your email address for Gatehouse. Open this link within 24 hours:".into(),
            link.to_owned(),
            "If you did not create a Gatehouse account, you can ignore this message.".into(),
        ],
    }
}

pub fn reset_password(to: &str, link: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Reset your Gatehouse password".into(),
        paragraphs: vec![
            format!("Someone asked to reset the password of the Gatehouse account {to}. To choose a new password, open this link within 30 minutes:"),
            link.to_owned(),
            "If you did not ask for this, ignore this message: your password stays as it is, and nobody can use the link without access to your email.".into(),
            "Resetting your password does not turn off two-factor authentication: you will still be asked for your code.".into(),
        ],
    }
}

/// "Forgot password?" for an account whose address was never proved: whoever receives
/// this owns the address, and may take the account over from whoever made it.
pub fn claim_account(to: &str, link: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Reset your Gatehouse password".into(),
        paragraphs: vec![
            format!("Someone asked to reset the password of the Gatehouse account {to}. This address was never confirmed for that account, so the link below also makes the account yours alone: it confirms the address, signs out every session, and removes every other way in (connected providers, passkeys and two-factor authentication). Open it within 30 minutes:"),
            link.to_owned(),
            "If you did not ask for this, ignore this message: nothing changes.".into(),
        ],
    }
}

/// The link that finishes a sign-up through a provider that did not prove the address.
pub fn finish_sign_up(to: &str, provider: &str, link: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Confirm your email address to finish signing up".into(),
        paragraphs: vec![
            format!("To finish creating your Gatehouse account with {provider}, open this link within 30 minutes, in the browser you signed up in:"),
            link.to_owned(),
            format!("If you did not just sign up with {provider}, ignore this message: no account is made."),
        ],
    }
}

/// To the owner of an address someone tried to sign up with through a provider.
pub fn sign_up_attempted(to: &str, provider: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Someone tried to sign up with your email address".into(),
        paragraphs: vec![
            format!("Someone signing up with {provider} gave this address, which already belongs to your Gatehouse account. Nothing changed, and no account was made."),
            format!("If it was you: sign in as usual, and connect {provider} under Settings → Sign-in methods."),
            "If it was not you, you need not do anything.".into(),
        ],
    }
}

/// To the owner of an address another account asked to move to. It says nothing of the
/// other account or of who asked: the asker learns nothing, and neither does the owner.
pub fn address_taken(to: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Someone tried to move another Gatehouse account to this address".into(),
        paragraphs: vec![
            format!("Someone signed in to another Gatehouse account asked to change that account's email address to {to}. This address already belongs to your Gatehouse account, so the request was refused."),
            "Nothing was changed: your account, its password and its email address stay as they are, and no one can take this address from you this way.".into(),
            "If you asked for this yourself, from a second account, give that account another address. Otherwise there is nothing to do.".into(),
        ],
    }
}

pub fn confirm_new_email(to: &str, link: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Confirm your new email address".into(),
        paragraphs: vec![
            "To make this the email address of your Gatehouse account, open this link within 24 hours:".into(),
            link.to_owned(),
            "If you did not ask for this, ignore this message: nothing changes.".into(),
        ],
    }
}

/// What happened, for a security notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    TwoFactorEnabled,
    TwoFactorDisabled,
    AuthenticatorSwitched,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeyDisabled {
        name: String,
    },
    RecoveryCodesRegenerated,
    RecoveryCodeUsed {
        left: i64,
    },
    PasswordChanged,
    PasswordReset,
    EmailChangeRequested {
        new_email: String,
    },
    EmailChanged {
        new_email: String,
    },
    SecondFactorLocked {
        minutes: u64,
    },
    AdminReset,
    /// An address's owner took the account over with a reset link.
    AccountClaimed {
        removed: Vec<String>,
    },
    ProviderConnected {
        provider: String,
    },
    ProviderDisconnected {
        provider: String,
    },
    PasswordSet,
}

/// The few recovery codes left at which a notice says to make new ones.
const FEW_CODES: i64 = 2;

impl Notice {
    /// The subject line, after "Security notice: ".
    fn subject(&self) -> String {
        match self {
            Notice::TwoFactorEnabled => "Two-factor authentication was turned on".into(),
            Notice::TwoFactorDisabled => "Two-factor authentication was turned off".into(),
            Notice::AuthenticatorSwitched => "Two-factor authentication moved to a new app".into(),
            Notice::PasskeyAdded => "A passkey was added".into(),
            Notice::PasskeyRemoved => "A passkey was removed".into(),
            Notice::PasskeyDisabled { .. } => "A passkey was disabled".into(),
            Notice::RecoveryCodesRegenerated => "New recovery codes were made".into(),
            Notice::RecoveryCodeUsed { .. } => "A recovery code was used".into(),
            Notice::PasswordChanged => "Your password was changed".into(),
            Notice::PasswordReset => "Your password was reset".into(),
            Notice::EmailChangeRequested { .. } => "Your email address is about to change".into(),
            Notice::EmailChanged { .. } => "Your email address was changed".into(),
            Notice::SecondFactorLocked { .. } => "Signing in to your account is paused".into(),
            Notice::AdminReset => "An administrator turned off two-factor authentication".into(),
            Notice::AccountClaimed { .. } => "You claimed your account".into(),
            Notice::ProviderConnected { provider } => {
                format!("{provider} was connected to your account")
            }
            Notice::ProviderDisconnected { provider } => {
                format!("{provider} was disconnected from your account")
            }
            Notice::PasswordSet => "A password was set for your account".into(),
        }
    }

    /// What happened, as the message's first paragraph.
    fn what(&self) -> String {
        match self {
            Notice::TwoFactorEnabled => "Two-factor authentication was turned on for your Gatehouse account. Signing in now asks for a code from your authenticator app.".into(),
            Notice::TwoFactorDisabled => "Two-factor authentication was turned off for your Gatehouse account. Signing in now asks only for your password.".into(),
            Notice::AuthenticatorSwitched => "The authenticator app of your Gatehouse account was replaced, and a new set of recovery codes was made. The old app's codes and the old recovery codes no longer work.".into(),
            Notice::PasskeyAdded => "A passkey or security key was added to your Gatehouse account. It can now be used to sign in.".into(),
            Notice::PasskeyRemoved => "A passkey or security key was removed from your Gatehouse account.".into(),
            Notice::PasskeyDisabled { name } => format!("The passkey “{name}” of your Gatehouse account answered with a signature counter lower than one it had already sent. That happens when a copy of the passkey is used, so it was disabled: it no longer signs you in, and your recovery codes answer in its place."),
            Notice::RecoveryCodesRegenerated => "A new set of recovery codes was made for your Gatehouse account. The old codes no longer work.".into(),
            Notice::RecoveryCodeUsed { left } => if *left <= FEW_CODES {
                format!("A recovery code was used to sign in to your Gatehouse account. Only {left} {} left: make a new set under Settings → Two-Factor Auth before they run out.", if *left == 1 { "is" } else { "are" })
            } else {
                format!("A recovery code was used to sign in to your Gatehouse account. {left} are left.")
            },
            Notice::PasswordChanged => "The password of your Gatehouse account was changed, and your other sessions were signed out.".into(),
            Notice::PasswordReset => "The password of your Gatehouse account was reset with a link sent to this address, and every session was signed out. Two-factor authentication is unchanged.".into(),
            Notice::EmailChangeRequested { new_email } => format!("Someone asked to change the email address of your Gatehouse account to {new_email}. It changes only when the link sent to that address is opened."),
            Notice::EmailChanged { new_email } => format!("The email address of your Gatehouse account is now {new_email}. Messages about the account go there from now on."),
            Notice::SecondFactorLocked { minutes } => format!("There were too many wrong two-factor codes for your Gatehouse account, so signing in is paused for {minutes} minutes. Whoever tried knew your password."),
            Notice::AdminReset => "An administrator turned off two-factor authentication for your Gatehouse account and signed out every session.".into(),
            Notice::AccountClaimed { removed } => if removed.is_empty() {
                "Your email address is now confirmed for your Gatehouse account, its password was set with the link we sent, and every session was signed out. It had no other way in.".into()
            } else {
                format!("Your email address is now confirmed for your Gatehouse account, its password was set with the link we sent, and every session was signed out. These ways in, which someone else may have added, were removed: {}.", removed.join(", "))
            },
            Notice::ProviderConnected { provider } => format!("A {provider} account was connected to your Gatehouse account: it can now be used to sign in. Your other sessions were signed out."),
            Notice::ProviderDisconnected { provider } => format!("{provider} was disconnected from your Gatehouse account and can no longer be used to sign in. Your other sessions were signed out."),
            Notice::PasswordSet => "Your Gatehouse account, which signed in only through a provider, now has a password too. Your other sessions were signed out.".into(),
        }
    }

    /// What to do if it wasn't the owner, completing "If it wasn't you, …".
    fn advice(&self) -> &'static str {
        match self {
            Notice::TwoFactorEnabled => "sign in, turn two-factor authentication off and on again with your own phone, and change your password.",
            Notice::TwoFactorDisabled => "sign in at once, change your password and turn two-factor authentication on again.",
            Notice::AuthenticatorSwitched => "contact your administrator at once: two-factor authentication is required for your account.",
            Notice::PasskeyAdded => "sign in, remove the passkey under Settings → Two-Factor Auth and change your password.",
            Notice::PasskeyRemoved => "sign in, change your password and check your two-factor settings.",
            Notice::PasskeyDisabled { .. } => "sign in with a recovery code, remove the passkey under Settings → Two-Factor Auth, change your password and add your passkey again.",
            Notice::RecoveryCodesRegenerated => "sign in, change your password and make new recovery codes yourself.",
            Notice::RecoveryCodeUsed { .. } => "sign in, change your password and make new recovery codes under Settings → Two-Factor Auth.",
            Notice::PasswordChanged => "use \"Forgot password?\" on the sign-in page to set a new one at once.",
            Notice::PasswordReset => "use \"Forgot password?\" on the sign-in page to set a new one at once, and check who can read your email.",
            Notice::EmailChangeRequested { .. } => "sign in and change your password: whoever asked knew it.",
            Notice::EmailChanged { .. } => "contact your administrator at once: they can help you take the account back.",
            Notice::SecondFactorLocked { .. } => "change your password as soon as you can sign in.",
            Notice::AdminReset => "contact your administrator at once.",
            Notice::AccountClaimed { .. } => "use \"Forgot password?\" on the sign-in page again at once.",
            Notice::ProviderConnected { .. } => "sign in, disconnect it under Settings → Sign-in methods and change your password.",
            Notice::ProviderDisconnected { .. } => "sign in another way, connect it again under Settings → Sign-in methods and change your password.",
            Notice::PasswordSet => "use \"Forgot password?\" on the sign-in page to set a new one at once.",
        }
    }
}

pub fn security_notice(to: &str, notice: &Notice, client: &ClientInfo, at: i64) -> Message {
    let (subject, what, advice) = (notice.subject(), notice.what(), notice.advice());
    let device = user_agent::describe(&client.user_agent);
    let where_ = if client.ip.is_empty() {
        "unknown"
    } else {
        client.ip.as_str()
    };
    Message {
        to: to.to_owned(),
        subject: format!("Security notice: {subject}"),
        paragraphs: vec![
            what,
            format!(
                "When: {}\nIP address: {where_}\nDevice: {device}",
                crate::shared::words::date_time(at)
            ),
            format!("If this was you, there is nothing to do. If it wasn't you, {advice}"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_everything_and_links_only_urls() {
        let message = Message {
            to: "a@example.com".into(),
            subject: "s".into(),
            paragraphs: vec![
                "<b>x</b> & y".into(),
                "https://example.com/a?b=1&c=2".into(),
            ],
        };
        let html = message.html();
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt; &amp; y"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.com/a?b=1&amp;c=2\">"),
            "{html}"
        );
        assert!(!html.contains("<img"), "no images");
        assert!(message.text().contains("https://example.com/a?b=1&c=2"));
    }

    #[test]
    fn a_notice_says_when_where_and_what_to_do() {
        let client = ClientInfo {
            ip: "203.0.113.7".into(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36".into(),
        };
        let message = security_notice(
            "a@example.com",
            &Notice::RecoveryCodeUsed { left: 1 },
            &client,
            1_800_000_000,
        );
        let text = message.text();
        assert!(text.contains("Only 1 is left"), "{text}");
        assert!(text.contains("203.0.113.7"), "{text}");
        assert!(text.contains("If it wasn't you"), "{text}");
        assert_eq!(kind_of(&message.subject), "notice");
    }
}
