//! The REST half of the protocol: accounts and sessions.

use flint_proto::api::{LoginRequest, LoginResponse, RegisterRequest, User};
use flint_proto::ErrorBody;
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result};

/// A REST client for one server.
#[derive(Debug, Clone)]
pub struct Http {
    base: Url,
    client: reqwest::Client,
}

impl Http {
    /// A client for the server at `base`.
    pub fn new(base: Url) -> Self {
        Self {
            base,
            client: reqwest::Client::new(),
        }
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
    pub async fn logout(&self, token: &str) -> Result<()> {
        let response = self
            .client
            .post(self.url("/api/v1/logout")?)
            .bearer_auth(token)
            .send()
            .await
            .map_err(connection_error)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(error_of(response).await)
        }
    }

    /// Users whose name contains `query`.
    pub async fn search_users(&self, token: &str, query: &str) -> Result<Vec<User>> {
        let mut url = self.url("/api/v1/users")?;
        url.query_pairs_mut().append_pair("q", query);
        Self::call(self.client.get(url).bearer_auth(token)).await
    }
}

fn connection_error(error: reqwest::Error) -> Error {
    Error::Connection(error.to_string())
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
