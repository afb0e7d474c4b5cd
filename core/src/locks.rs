//! Taking a lock whose holder panicked: the state behind Flint's locks is plain data that a
//! panic cannot leave half-written, so the lock is taken all the same.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, poisoned or not.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
