//! Pieces shared by several pages.

pub mod code_input;
pub mod dialog;
pub mod form;
pub mod header;
pub mod passkeys;
pub mod providers;
pub mod recovery_codes;
