//! Password hashing (argon2id) on a few threads of its own.
//!
//! argon2id with the default parameters needs 19 MiB per hash. Run on the shared blocking pool,
//! a flood of sign-in attempts ran hundreds at once (gigabytes of RSS, kept by the allocator
//! afterwards) and starved the store's reads queued on the same pool. Here a fixed number of
//! threads (one per core by default) each own one 19 MiB block buffer, reused for every hash:
//! memory is bounded by `threads × 19 MiB`, whatever the load. Requests beyond the threads wait
//! in a bounded queue; when it is full they are refused at once (`rate_limited`), not queued.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use flint_proto::Secret;
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

/// Hashes waiting for a thread; past this, requests are refused.
const QUEUE: usize = 256;
/// What a refusal for a full queue asks to wait.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// The largest memory cost (KiB) a stored hash may ask for; more is refused, not allocated.
const MAX_M_COST_KIB: u32 = 256 * 1024;

enum Job {
    Hash {
        password: Secret,
        reply: oneshot::Sender<Result<String, AppError>>,
    },
    Verify {
        password: Secret,
        stored: String,
        reply: oneshot::Sender<bool>,
    },
}

/// The hashing threads; cheap to clone. The threads stop when the last handle is dropped.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    dummy: Arc<String>,
}

impl Hasher {
    /// Starts `threads` hashing threads (0: one per core).
    pub fn start(threads: usize) -> Result<Self, AppError> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let (jobs, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("flint-hash-{index}"))
                .spawn(move || work(&queue))
                .map_err(|e| AppError::Internal(format!("starting a hashing thread: {e}")))?;
        }
        // A hash of a random password: unknown users are verified against it, so that the
        // time an answer takes does not tell which usernames exist.
        let dummy = hash_with(
            &Secret::new(crate::credentials::new_token()),
            &mut Vec::new(),
        )?;
        Ok(Self {
            jobs,
            dummy: Arc::new(dummy),
        })
    }

    /// An argon2id PHC string of `password` with a random salt.
    pub async fn hash(&self, password: Secret) -> Result<String, AppError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply }).await?;
        answer.await.map_err(|_| stopped())?
    }

    /// True when `password` matches `stored`; `None` checks against a hash nobody knows the
    /// password of, spending the same time.
    pub async fn verify(&self, password: Secret, stored: Option<String>) -> Result<bool, AppError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.as_ref().clone());
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            stored,
            reply,
        })
        .await?;
        Ok(answer.await.map_err(|_| stopped())? && known)
    }

    async fn submit(&self, job: Job) -> Result<(), AppError> {
        self.jobs.try_send(job).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => AppError::rate_limited(BUSY_WAIT),
            mpsc::error::TrySendError::Closed(_) => stopped(),
        })
    }
}

fn stopped() -> AppError {
    AppError::Internal("the hashing threads stopped".into())
}

/// One hashing thread: takes jobs until every handle is gone, reusing one block buffer.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut blocks = Vec::new();
    loop {
        let job = match queue.lock() {
            Ok(mut queue) => queue.blocking_recv(),
            Err(_) => return,
        };
        match job {
            Some(Job::Hash { password, reply }) => {
                let _ = reply.send(hash_with(&password, &mut blocks));
            }
            Some(Job::Verify {
                password,
                stored,
                reply,
            }) => {
                let _ = reply.send(verify_with(&password, &stored, &mut blocks));
            }
            None => return,
        }
    }
}

/// The thread's buffer grows to the default parameters' size once and stays; a stored hash
/// asking for more memory (made with other parameters) gets a buffer of its own for that
/// one check, so the kept memory stays `threads × 19 MiB`.
fn blocks_for(params: &Params, blocks: &mut Vec<Block>) -> Option<Vec<Block>> {
    let needed = params.block_count();
    if needed <= Params::default().block_count() {
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        None
    } else {
        Some(vec![Block::default(); needed])
    }
}

/// Hashes with the default argon2id parameters into the thread's buffer.
fn hash_with(password: &Secret, blocks: &mut Vec<Block>) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AppError::Internal(format!("encoding salt: {e}")))?;
    let params = Params::default();
    let _kept = blocks_for(&params, blocks);
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| AppError::Internal(format!("decoding salt: {e}")))?;
    argon
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            salt_raw,
            &mut output,
            &mut blocks[..],
        )
        .map_err(|e| AppError::Internal(format!("hashing password: {e}")))?;
    let hash = argon2::password_hash::Output::new(&output)
        .map_err(|e| AppError::Internal(format!("hash output: {e}")))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e| AppError::Internal(format!("hash params: {e}")))?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a PHC string, in the thread's buffer (constant-time compare).
fn verify_with(password: &Secret, stored: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(phc.algorithm), Params::try_from(&phc))
    else {
        return false;
    };
    let version = phc
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST_KIB {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut own = blocks_for(&params, blocks);
    let memory = match own.as_mut() {
        Some(own) => &mut own[..],
        None => &mut blocks[..],
    };
    let mut output = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    let hashed = argon.hash_password_into_with_memory(
        password.expose().as_bytes(),
        salt,
        &mut output,
        memory,
    );
    hashed.is_ok()
        && argon2::password_hash::Output::new(&output).is_ok_and(|output| output == expected)
}

/// For tests of stored hashes made elsewhere: the argon2 crate's own PHC hashing.
#[cfg(test)]
fn reference_hash(password: &str) -> String {
    use argon2::PasswordHasher;
    let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_and_match_the_reference_implementation() {
        let mut blocks = Vec::new();
        let hash = hash_with(&Secret::new("correct horse"), &mut blocks).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_with(
            &Secret::new("correct horse"),
            &hash,
            &mut blocks
        ));
        assert!(!verify_with(
            &Secret::new("wrong horse"),
            &hash,
            &mut blocks
        ));
        assert!(!verify_with(&Secret::new("x"), "not a hash", &mut blocks));
        let reference = reference_hash("battery staple");
        assert!(verify_with(
            &Secret::new("battery staple"),
            &reference,
            &mut blocks
        ));
        assert!(!verify_with(
            &Secret::new("battery stapler"),
            &reference,
            &mut blocks
        ));
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies_unknown_users_as_false() {
        let hasher = Hasher::start(1).unwrap();
        let hash = hasher.hash(Secret::new("long enough")).await.unwrap();
        let good = hasher.verify(Secret::new("long enough"), Some(hash)).await;
        assert!(good.unwrap());
        let unknown = hasher.verify(Secret::new("anything"), None).await;
        assert!(!unknown.unwrap());
    }
}
