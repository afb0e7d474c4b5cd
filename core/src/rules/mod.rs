//! The rules the engine follows, as plain functions over plain values: no socket, no database,
//! no clock of their own (time comes in as an argument). The engine (`engine`, `sync`,
//! `outbox`) reads state, asks these, and carries out the answer; the tables in each module's
//! tests pin the behaviour down.

pub mod call;
pub mod outbox;
pub mod progress;
pub mod receipts;
pub mod reconnect;
pub mod sync;
pub mod transfer;
