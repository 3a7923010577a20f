//! The domain's Prometheus series. Recording is a no-op until the host installs an
//! exporter (`--metrics-addr`), so the domain never needs to know whether it is watched.

use metrics::{counter, gauge};

pub const SIGN_INS: &str = "gatehouse_sign_ins_total";
pub const SECOND_FACTOR_FAILURES: &str = "gatehouse_second_factor_failures_total";
pub const LOCKOUTS: &str = "gatehouse_lockouts_total";
pub const TWO_FACTOR_CHANGES: &str = "gatehouse_two_factor_changes_total";
pub const ARGON2_QUEUE_DEPTH: &str = "gatehouse_argon2_queue_depth";
pub const ARGON2_SHED: &str = "gatehouse_argon2_shed_total";

/// Which step of signing in an outcome belongs to.
#[derive(Debug, Clone, Copy)]
pub enum SignInStep {
    Password,
    SecondFactor,
}

/// Counts one attempt at a sign-in step. The outcome is `signed_in`, or
/// `second_factor_required` when the password step hands over to the code prompt; a
/// failure is named by the kind of error its answer carries (`invalid_credentials`,
/// `invalid_code`, `throttled`…).
pub fn sign_in(step: SignInStep, outcome: &'static str) {
    let step = match step {
        SignInStep::Password => "password",
        SignInStep::SecondFactor => "second_factor",
    };
    counter!(SIGN_INS, "step" => step, "outcome" => outcome).increment(1);
}

/// A wrong app or recovery code, wherever it was typed.
pub fn second_factor_failure() {
    counter!(SECOND_FACTOR_FAILURES).increment(1);
}

/// A throttle key was locked; `scope` is its prefix (`pw`, `ip`, `2fa`, `signup`).
pub fn lockout(key: &str) {
    let scope = match key.split_once(':').map(|(scope, _)| scope) {
        Some("pw") => "password_account",
        Some("ip") => "password_ip",
        Some("2fa") => "second_factor",
        Some("signup") => "sign_up_ip",
        _ => "other",
    };
    counter!(LOCKOUTS, "scope" => scope).increment(1);
}

#[derive(Debug, Clone, Copy)]
pub enum Change {
    Enabled,
    Disabled,
    AdminReset,
}

pub fn two_factor_change(change: Change) {
    let change = match change {
        Change::Enabled => "enabled",
        Change::Disabled => "disabled",
        Change::AdminReset => "admin_reset",
    };
    counter!(TWO_FACTOR_CHANGES, "change" => change).increment(1);
}

/// A password check turned away unchecked because the queue was too long.
pub fn password_check_shed() {
    counter!(ARGON2_SHED).increment(1);
}

/// Tracks one password check waiting for a hashing thread; the gauge drops when the
/// guard does, whether a thread took the check up or the check was never queued.
pub struct QueuedHash(());

impl QueuedHash {
    pub fn enter() -> Self {
        gauge!(ARGON2_QUEUE_DEPTH).increment(1.0);
        QueuedHash(())
    }
}

impl Drop for QueuedHash {
    fn drop(&mut self) {
        gauge!(ARGON2_QUEUE_DEPTH).decrement(1.0);
    }
}
