//! One file per screen.

pub mod main_view;
pub mod sign_in;
