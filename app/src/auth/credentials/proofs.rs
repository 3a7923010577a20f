//! How a session was proven: which ways of proving the person succeeded in it, and when.
//! An app that signs in through Gatehouse is told this (OpenID's `amr`, `acr` and
//! `auth_time`), and a step-up asks only for what is missing.

/// One way of proving the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    /// A sign-in at an identity provider.
    Provider,
    /// An authenticator app's code.
    Totp,
    RecoveryCode,
    /// A passkey with user verification: a first factor on its own, and a second one.
    Passkey,
    /// A browser the account remembers, which stands in for the second step.
    RememberedDevice,
}

/// How strongly a session was proven, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Acr {
    OneFactor,
    TwoFactor,
    /// A passkey, which a look-alike site cannot collect.
    PhishingResistant,
}

/// When each method last succeeded in a session (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Proven {
    pub password_at: Option<i64>,
    pub provider_at: Option<i64>,
    pub totp_at: Option<i64>,
    pub recovery_code_at: Option<i64>,
    pub passkey_at: Option<i64>,
    pub device_at: Option<i64>,
}

impl Proven {
    /// These methods, each proven at `at`.
    pub fn by(methods: &[Method], at: i64) -> Self {
        methods
            .iter()
            .fold(Proven::default(), |proven, method| proven.with(*method, at))
    }

    /// This record with `method` proven again at `at`.
    pub fn with(mut self, method: Method, at: i64) -> Self {
        let slot = match method {
            Method::Password => &mut self.password_at,
            Method::Provider => &mut self.provider_at,
            Method::Totp => &mut self.totp_at,
            Method::RecoveryCode => &mut self.recovery_code_at,
            Method::Passkey => &mut self.passkey_at,
            Method::RememberedDevice => &mut self.device_at,
        };
        *slot = Some(at);
        self
    }

    /// When a first factor last succeeded.
    pub fn first_at(&self) -> Option<i64> {
        [self.password_at, self.provider_at, self.passkey_at]
            .into_iter()
            .flatten()
            .max()
    }

    /// When a second step last succeeded; a remembered device counts only if `device`.
    pub fn second_at(&self, device: bool) -> Option<i64> {
        let remembered = self.device_at.filter(|_| device);
        [
            self.totp_at,
            self.recovery_code_at,
            self.passkey_at,
            remembered,
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// When the person last proved themselves by hand: a device cookie is no such proof.
    pub fn auth_time(&self) -> Option<i64> {
        self.first_at().max(self.second_at(false))
    }

    pub fn acr(&self) -> Acr {
        if self.passkey_at.is_some() {
            Acr::PhishingResistant
        } else if self.first_at().is_some() && self.second_at(true).is_some() {
            Acr::TwoFactor
        } else {
            Acr::OneFactor
        }
    }

    /// The RFC 8176 values for what was used. A provider has no RFC value; `fed` is the
    /// one Entra ID documents. A recovery code is a one-time password.
    pub fn amr(&self) -> Vec<&'static str> {
        let mut amr = Vec::new();
        let used = [
            (self.password_at, "pwd"),
            (self.provider_at, "fed"),
            (self.totp_at.or(self.recovery_code_at), "otp"),
            (self.passkey_at, "hwk"),
        ];
        amr.extend(
            used.into_iter()
                .filter(|(at, _)| at.is_some())
                .map(|(_, v)| v),
        );
        if self.acr() >= Acr::TwoFactor {
            amr.push("mfa");
        }
        amr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_alone_is_one_factor() {
        let proven = Proven::by(&[Method::Password], 100);
        assert_eq!(proven.acr(), Acr::OneFactor);
        assert_eq!(proven.amr(), ["pwd"]);
        assert_eq!(proven.auth_time(), Some(100));
    }

    #[test]
    fn a_password_and_a_code_are_two_factors_timed_by_the_later() {
        let proven = Proven::by(&[Method::Password], 100).with(Method::Totp, 130);
        assert_eq!(proven.acr(), Acr::TwoFactor);
        assert_eq!(proven.amr(), ["pwd", "otp", "mfa"]);
        assert_eq!(proven.auth_time(), Some(130));
        let recovered = Proven::by(&[Method::Provider], 100).with(Method::RecoveryCode, 110);
        assert_eq!(recovered.amr(), ["fed", "otp", "mfa"]);
    }

    #[test]
    fn a_remembered_device_is_a_second_step_but_not_a_fresh_proof() {
        let proven = Proven::by(&[Method::Password, Method::RememberedDevice], 100);
        assert_eq!(proven.acr(), Acr::TwoFactor);
        assert_eq!(proven.amr(), ["pwd", "mfa"]);
        assert_eq!(proven.second_at(false), None);
        assert_eq!(proven.second_at(true), Some(100));
    }

    #[test]
    fn a_passkey_is_phishing_resistant_alone_or_after_a_password() {
        assert_eq!(
            Proven::by(&[Method::Passkey], 5).acr(),
            Acr::PhishingResistant
        );
        let after = Proven::by(&[Method::Password], 5).with(Method::Passkey, 9);
        assert_eq!(after.acr(), Acr::PhishingResistant);
        assert_eq!(after.amr(), ["pwd", "hwk", "mfa"]);
    }
}
