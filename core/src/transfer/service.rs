//! The file service's HTTP calls. A call is bounded by its connection and by silence (a
//! server that stops answering mid-transfer fails the call), never by a total time: a large
//! chunk on a slow link may take as long as it takes.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use flint_proto::files;
use flint_proto::{ErrorBody, Secret};
use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RANGE};
use reqwest::{RequestBuilder, Response, StatusCode};
use url::Url;

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::tls;

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server may stay silent during a call.
const SILENCE_TIMEOUT: Duration = Duration::from_secs(30);

/// A created upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Where the upload lives.
    pub location: Url,
    /// Bytes to prove possession of instead of sending the file (inclusive range).
    pub proof: Option<(u64, u64)>,
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Bytes the server holds.
    pub offset: u64,
    /// The stored file, once complete.
    pub file_id: Option<String>,
    /// The hex SHA-256 of the stored file's content, once complete.
    pub sha256_hex: Option<String>,
}

impl Progress {
    /// Reads an upload's answer headers; `offset` when they name none.
    fn from_headers(headers: &reqwest::header::HeaderMap, offset: Option<u64>) -> Result<Self> {
        let offset = header(headers, "upload-offset")
            .and_then(|o| o.parse().ok())
            .or(offset)
            .ok_or_else(|| Error::Protocol("an upload without Upload-Offset".into()))?;
        Ok(Self {
            offset,
            file_id: header(headers, files::FILE_ID),
            sha256_hex: header(headers, files::FILE_SHA256),
        })
    }
}

/// A client of one server's file service, signed in with a session token.
#[derive(Clone)]
pub struct FileService {
    base: Url,
    token: Secret,
    client: reqwest::Client,
}

impl std::fmt::Debug for FileService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileService")
            .field("base", &self.base)
            .finish()
    }
}

impl FileService {
    /// The file service of the server at `base`.
    pub fn new(base: Url, token: Secret, tls: Arc<rustls::ClientConfig>) -> Result<Self> {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(SILENCE_TIMEOUT)
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        Ok(Self {
            base,
            token,
            client,
        })
    }

    /// The file service of `config`'s server, after checking the connection is secure enough
    /// (the TLS settings are read off the async threads).
    pub async fn connect(config: &ClientConfig, token: Secret) -> Result<Self> {
        config.check_transport()?;
        let roots = config.extra_roots_pem.clone();
        let tls = tokio::task::spawn_blocking(move || tls::client_config(&roots))
            .await
            .map_err(|_| Error::Closed)??;
        Self::new(config.server_url.clone(), token, tls)
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::Invalid(format!("server URL: {e}")))
    }

    fn tus(&self, request: RequestBuilder) -> RequestBuilder {
        request
            .bearer_auth(self.token.expose())
            .header("tus-resumable", files::TUS_VERSION)
    }

    /// Creates an upload of `length` bytes named `name`, declaring its SHA-256 when known
    /// (the server checks it at the end, and offers a possession proof when it holds that
    /// content already).
    pub async fn create(
        &self,
        length: u64,
        name: &str,
        sha256: Option<&[u8; 32]>,
    ) -> Result<Created> {
        let mut metadata = format!("{} {}", files::META_NAME, STANDARD.encode(name));
        if let Some(sha256) = sha256 {
            let hash = STANDARD.encode(hex::encode(sha256));
            metadata.push_str(&format!(",{} {hash}", files::META_SHA256));
        }
        let request = self
            .client
            .post(self.url(files::UPLOADS_PATH)?)
            .header("upload-length", length)
            .header("upload-metadata", metadata);
        let response = send(self.tus(request)).await?;
        let location = header(response.headers(), LOCATION.as_str())
            .ok_or_else(|| Error::Protocol("an upload without a Location".into()))?;
        let location = self.url(&location)?;
        let proof = header(response.headers(), files::PROOF_RANGE).and_then(|range| {
            let (start, end) = range.split_once('-')?;
            Some((start.parse().ok()?, end.parse().ok()?))
        });
        Ok(Created { location, proof })
    }

    /// Where an upload stands (`HEAD`).
    pub async fn progress(&self, upload: &Url) -> Result<Progress> {
        let response = send(self.tus(self.client.head(upload.clone()))).await?;
        Progress::from_headers(response.headers(), None)
    }

    /// Appends `length` bytes of `body` at `offset`; the answer says the new offset, and the
    /// file once the upload is complete.
    pub async fn append(
        &self,
        upload: &Url,
        offset: u64,
        length: u64,
        body: reqwest::Body,
    ) -> Result<Progress> {
        let request = self
            .client
            .patch(upload.clone())
            .header(CONTENT_TYPE, files::PATCH_CONTENT_TYPE)
            .header(CONTENT_LENGTH, length)
            .header("upload-offset", offset)
            .body(body);
        let response = send(self.tus(request)).await?;
        Progress::from_headers(response.headers(), Some(offset + length))
    }

    /// Proves possession with the hex SHA-256 of the asked range; the answer names the file.
    pub async fn prove(&self, upload: &Url, proof_hex: &str) -> Result<String> {
        let mut url = upload.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Invalid("upload URL cannot take a path".into()))?
            .push("proof");
        let request = self.client.post(url).header(files::PROOF, proof_hex);
        let response = send(self.tus(request)).await?;
        header(response.headers(), files::FILE_ID)
            .ok_or_else(|| Error::Protocol("a proof answer without a file".into()))
    }

    /// Deletes an unfinished upload (tus termination).
    pub async fn terminate(&self, upload: &Url) -> Result<()> {
        send(self.tus(self.client.delete(upload.clone())))
            .await
            .map(drop)
    }

    /// Starts a download of a file from byte `from`; the answer streams its bytes.
    pub async fn fetch(&self, file_id: &str, from: u64) -> Result<Response> {
        let mut url = self.url(files::FILES_PATH)?;
        url.path_segments_mut()
            .map_err(|()| Error::Invalid("server URL cannot take a path".into()))?
            .push(file_id);
        let mut request = self.client.get(url).bearer_auth(self.token.expose());
        if from > 0 {
            request = request.header(RANGE, format!("bytes={from}-"));
        }
        let response = send(request).await?;
        if from > 0 && response.status() != StatusCode::PARTIAL_CONTENT {
            return Err(Error::Protocol(
                "the server ignored the range asked for".into(),
            ));
        }
        Ok(response)
    }
}

/// A text header's value.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// Sends a request; an answer other than success becomes the server's error.
async fn send(request: RequestBuilder) -> Result<Response> {
    let response = request.send().await.map_err(|error| {
        if error.is_timeout() {
            Error::Timeout
        } else {
            Error::Connection(error.to_string())
        }
    })?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    Err(match response.json::<ErrorBody>().await {
        Ok(body) => body.into(),
        Err(_) => Error::Protocol(format!("HTTP {status}")),
    })
}
