//! Moving files to and from the server's file service: [`service`] speaks its HTTP
//! contract (tus 1.0 uploads, ranged downloads), [`upload`] and [`download`] carry one file
//! each way — resuming from where the server (or the local file) stopped, and cancellable.

mod disk;
pub mod download;
pub mod service;
pub mod upload;

pub use download::download;
pub use service::FileService;
pub use upload::{upload, Resume, Uploaded, SEND_WHILE_HASHING};
