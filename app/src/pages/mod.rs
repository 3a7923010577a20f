//! One module per page.

pub mod activity;
pub mod code_prompt;
pub mod email_links;
pub mod home;
pub mod not_found;
pub mod passkeys;
pub mod password_reset;
pub mod provider_sign_up;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod sign_in_methods;
pub mod sign_up;
pub mod two_factor;
