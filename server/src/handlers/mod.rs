//! The host's own handlers: plain HTTP that no server function can be, since each answers
//! with a redirect or a file.

pub mod codes_download;
pub mod social;
