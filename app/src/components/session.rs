//! The actions that change who is signed in, shared so the header can follow them.

use leptos::prelude::*;

use crate::api::{
    account::{SignIn, SignOut, SignUp},
    two_factor::VerifySignInCode,
};

#[derive(Clone, Copy)]
pub struct SessionActions {
    pub sign_in: ServerAction<SignIn>,
    pub sign_up: ServerAction<SignUp>,
    pub sign_out: ServerAction<SignOut>,
    pub verify_code: ServerAction<VerifySignInCode>,
}

impl SessionActions {
    /// Changes whenever any of the actions completes, to key resources that depend on
    /// who is signed in.
    pub fn version(&self) -> usize {
        self.sign_in.version().get()
            + self.sign_up.version().get()
            + self.sign_out.version().get()
            + self.verify_code.version().get()
    }
}

pub fn provide_session_actions() {
    provide_context(SessionActions {
        sign_in: ServerAction::new(),
        sign_up: ServerAction::new(),
        sign_out: ServerAction::new(),
        verify_code: ServerAction::new(),
    });
}

pub fn use_session_actions() -> SessionActions {
    expect_context()
}
