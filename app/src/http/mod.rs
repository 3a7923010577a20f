//! The request edge, shared by server functions and the host's own handlers: the
//! request's context, the cookies, how an answer ends, the domain's refusals in words for
//! people, and the page's security policy.

pub mod context;
pub mod cookies;
pub mod csp;
pub mod errors;
pub mod respond;
pub mod state;
