//! The REST half of the protocol: accounts, sessions, devices and stickers. Every call is bounded in
//! time: a server that accepts the connection and never answers fails the call instead of
//! hanging sign-in or sign-out.

use std::sync::Arc;
use std::time::Duration;

use flint_proto::api::{
    AddSticker, Device, LoginRequest, LoginResponse, RegisterRequest, Sticker, User,
};
use flint_proto::files::STICKERS_PATH;
use flint_proto::{ErrorBody, Secret};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result};

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A REST client for one server.
#[derive(Debug, Clone)]
pub struct Http {
    base: Url,
    client: reqwest::Client,
}

impl Http {
    /// A client for the server at `base`, with `tls` as its TLS settings and `timeout` as the
    /// longest any call may take.
    pub fn new(base: Url, tls: Arc<rustls::ClientConfig>, timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        Ok(Self { base, client })
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::Invalid(format!("server URL: {e}")))
    }

    async fn call<T: DeserializeOwned>(request: RequestBuilder) -> Result<T> {
        let response = request.send().await.map_err(connection_error)?;
        decode(response).await
    }

    async fn call_empty(request: RequestBuilder) -> Result<()> {
        let response = request.send().await.map_err(connection_error)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }

    /// Creates an account.
    pub async fn register(&self, request: &RegisterRequest) -> Result<User> {
        Self::call(
            self.client
                .post(self.url("/api/v1/register")?)
                .json(request),
        )
        .await
    }

    /// Signs in on a device.
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse> {
        Self::call(self.client.post(self.url("/api/v1/login")?).json(request)).await
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, token: &Secret) -> Result<()> {
        Self::call_empty(
            self.client
                .post(self.url("/api/v1/logout")?)
                .bearer_auth(token.expose()),
        )
        .await
    }

    /// Users whose name contains `query`.
    pub async fn search_users(&self, token: &Secret, query: &str) -> Result<Vec<User>> {
        let mut url = self.url("/api/v1/users")?;
        url.query_pairs_mut().append_pair("q", query);
        Self::call(self.client.get(url).bearer_auth(token.expose())).await
    }

    /// The signed-in devices of the token's user.
    pub async fn devices(&self, token: &Secret) -> Result<Vec<Device>> {
        Self::call(
            self.client
                .get(self.url("/api/v1/sessions")?)
                .bearer_auth(token.expose()),
        )
        .await
    }

    /// The stickers the token's user keeps, newest first.
    pub async fn stickers(&self, token: &Secret) -> Result<Vec<Sticker>> {
        Self::call(
            self.client
                .get(self.url(STICKERS_PATH)?)
                .bearer_auth(token.expose()),
        )
        .await
    }

    /// Keeps a picture the user may download as a sticker.
    pub async fn add_sticker(&self, token: &Secret, file_id: &str) -> Result<Sticker> {
        let body = AddSticker {
            file_id: file_id.to_owned(),
        };
        Self::call(
            self.client
                .post(self.url(STICKERS_PATH)?)
                .bearer_auth(token.expose())
                .json(&body),
        )
        .await
    }

    /// Removes one of the user's stickers.
    pub async fn remove_sticker(&self, token: &Secret, file_id: &str) -> Result<()> {
        let url = self.url_with(STICKERS_PATH, file_id)?;
        Self::call_empty(self.client.delete(url).bearer_auth(token.expose())).await
    }

    /// Signs one of the user's devices out.
    pub async fn end_device(&self, token: &Secret, device_id: &str) -> Result<()> {
        let url = self.url_with("/api/v1/sessions", device_id)?;
        Self::call_empty(self.client.delete(url).bearer_auth(token.expose())).await
    }

    /// The address of `path` followed by `segment` (escaped as one path segment).
    fn url_with(&self, path: &str, segment: &str) -> Result<Url> {
        let mut url = self.url(path)?;
        url.path_segments_mut()
            .map_err(|()| Error::Invalid("server URL cannot take a path".into()))?
            .pop_if_empty()
            .push(segment);
        Ok(url)
    }
}

fn connection_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout
    } else {
        Error::Connection(error.to_string())
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T> {
    if !response.status().is_success() {
        return Err(error_of(response).await);
    }
    response
        .json()
        .await
        .map_err(|e| Error::Protocol(e.to_string()))
}

async fn error_of(response: Response) -> Error {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => body.into(),
        Err(_) => Error::Protocol(format!("HTTP {status}")),
    }
}
