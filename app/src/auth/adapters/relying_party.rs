//! Gatehouse as a WebAuthn relying party, built from its public URL.

use webauthn_rs::prelude::{Webauthn, WebauthnBuilder};

use crate::auth::kernel::error::AuthError;
use crate::auth::kernel::public_url::PublicUrl;

/// The relying party Gatehouse is to authenticators, or `None` where passkeys cannot work.
#[derive(Debug, Clone, Default)]
pub struct RelyingParty(Option<Webauthn>);

impl RelyingParty {
    /// The public URL's host is the RP ID and its origin the only one accepted. Browsers
    /// refuse IP addresses as RP IDs, so an IP-addressed Gatehouse has no passkeys.
    pub fn for_public_url(public_url: &PublicUrl, name: &str) -> Self {
        let url = public_url.as_url();
        let built = url.domain().and_then(|host| {
            WebauthnBuilder::new(host, url)
                .and_then(|builder| builder.rp_name(name).build())
                .ok()
        });
        RelyingParty(built)
    }

    pub fn available(&self) -> bool {
        self.0.is_some()
    }

    pub(crate) fn get(&self) -> Result<&Webauthn, AuthError> {
        self.0.as_ref().ok_or(AuthError::PasskeysUnavailable)
    }
}
