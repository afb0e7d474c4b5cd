//! Files for tests: users with a raw socket and the core file service, random files with
//! their SHA-256, attachment messages, and raw tus requests for what a well-behaved client
//! never sends.

use std::io::Write;
use std::path::Path;

use flint_core::transfer::{self, FileService, Resume};
use flint_core::ClientConfig;
use flint_proto::api::LoginResponse;
use flint_proto::files;
use flint_proto::wire::{self, message_content::Kind, request, response};
use prost::Message as _;
use reqwest::{Method, RequestBuilder};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::raw::login;
use crate::seed;
use crate::users::PASSWORD;
use crate::RawSocket;

/// A user with a protocol socket and the file service.
pub struct FileUser {
    /// The user's id.
    pub id: i64,
    /// The session.
    pub session: LoginResponse,
    /// A signed-in socket.
    pub socket: RawSocket,
    /// The file service, signed in.
    pub service: FileService,
    url: Url,
}

impl FileUser {
    /// Registers `username` and signs in.
    pub async fn register(url: &Url, username: &str) -> Self {
        seed::register(url, username).await;
        Self::sign_in(url, username).await
    }

    /// Signs `username` in on a device of its own.
    pub async fn sign_in(url: &Url, username: &str) -> Self {
        let device = format!("files-{username}");
        let session = login(url, username, PASSWORD, &device).await;
        let socket = RawSocket::signed_in(url, &session, &device).await;
        let config = ClientConfig::new(url.clone(), std::env::temp_dir());
        let service = FileService::connect(&config, session.token.clone())
            .await
            .unwrap();
        Self {
            id: session.user.id,
            session,
            socket,
            service,
            url: url.clone(),
        }
    }

    /// The id of the user called `username`.
    pub async fn find_user(&self, username: &str) -> i64 {
        let found: Vec<flint_proto::api::User> = self
            .request(Method::GET, &format!("/api/v1/users?q={username}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        found.iter().find(|u| u.username == username).unwrap().id
    }

    /// Uploads a file; returns its id.
    pub async fn upload(&self, path: &Path, name: &str) -> Result<String, flint_core::Error> {
        let mut resume = Resume::default();
        self.upload_resuming(path, name, &mut resume).await
    }

    /// Uploads (or resumes uploading) a file with `resume`.
    pub async fn upload_resuming(
        &self,
        path: &Path,
        name: &str,
        resume: &mut Resume,
    ) -> Result<String, flint_core::Error> {
        let cancel = CancellationToken::new();
        transfer::upload(
            &self.service,
            path,
            name,
            resume,
            &mut |_, _, _| {},
            &cancel,
        )
        .await
        .map(|uploaded| uploaded.file_id)
    }

    /// Downloads a file to `dest`.
    pub async fn download(
        &self,
        file_id: &str,
        size: u64,
        dest: &Path,
    ) -> Result<u64, flint_core::Error> {
        let cancel = CancellationToken::new();
        transfer::download(&self.service, file_id, size, dest, &mut |_, _| {}, &cancel).await
    }

    /// Sends a message with `kind` to a conversation.
    pub async fn send(&mut self, conversation_id: i64, kind: Kind) -> response::Result {
        let content = wire::MessageContent { kind: Some(kind) }.encode_to_vec();
        self.socket
            .request(request::Body::Send(wire::SendMessage {
                client_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
                conversation_id,
                content,
            }))
            .await
    }

    /// A signed-in request to a path of the server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        reqwest::Client::new()
            .request(method, self.url.join(path).unwrap())
            .bearer_auth(self.session.token.expose())
    }

    /// A signed-in tus request (with `Tus-Resumable`).
    pub fn tus(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path)
            .header("tus-resumable", files::TUS_VERSION)
    }

    /// `GET` of a file, with an optional `Range`.
    pub async fn get(&self, file_id: &str, range: Option<&str>) -> reqwest::Response {
        let mut request = self.request(Method::GET, &format!("{}/{file_id}", files::FILES_PATH));
        if let Some(range) = range {
            request = request.header("range", range);
        }
        request.send().await.unwrap()
    }
}

/// A `File` message for an uploaded file.
pub fn file_message(file_id: &str, name: &str, size: u64) -> Kind {
    Kind::File(wire::File {
        file_id: file_id.into(),
        name: name.into(),
        mime: String::new(),
        size,
    })
}

/// Writes `len` pseudo-random bytes (seeded by `seed`) to `path`; returns their SHA-256.
pub fn random_file(path: &Path, len: u64, seed: u64) -> [u8; 32] {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut hasher = Sha256::new();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut block = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            // xorshift64*: fast, and never the same block twice.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            word.copy_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        let take = left.min(block.len() as u64) as usize;
        out.write_all(&block[..take]).unwrap();
        hasher.update(&block[..take]);
        left -= take as u64;
    }
    out.flush().unwrap();
    hasher.finalize().into()
}

/// Writes a 3000×2000 photo-like JPEG (noise over gradients, quality 97: ~12.6 MB, the size
/// of a phone photo) to `path`; returns its size.
pub fn photo(path: &Path) -> u64 {
    let mut state = 7u32;
    let noise = image::RgbImage::from_fn(3000, 2000, |x, y| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let n = (state >> 24) as u8 / 2;
        image::Rgb([(x / 12) as u8 ^ n, (y / 8) as u8 ^ n, n])
    });
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 97)
        .encode_image(&noise)
        .unwrap();
    drop(out);
    std::fs::metadata(path).unwrap().len()
}

/// SHA-256 of a file.
pub fn sha256_of(path: &Path) -> [u8; 32] {
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path).unwrap(), &mut hasher).unwrap();
    hasher.finalize().into()
}

/// The error code of a JSON error answer.
pub async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// Files under `dir`, at any depth, whose names end with `suffix`.
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if entry.file_name().to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found
}
