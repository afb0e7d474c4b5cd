//! Pieces the screens are built from.

pub mod attachment;
pub mod avatar;
pub mod call;
pub mod chat;
pub mod composer;
pub mod conversation_list;
pub mod new_chat;
pub mod problem;
pub mod profile;
pub mod staging;
pub mod stickers;
pub mod viewer;
