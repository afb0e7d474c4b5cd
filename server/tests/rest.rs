//! The REST API through `app()`, without a socket: status codes, the `{code, message}` error
//! shape, registration modes, sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use flint_server::{app, AppState, Config, Registration};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt;

struct Api {
    router: axum::Router,
    _data: TempDir,
}

impl Api {
    fn new(registration: Registration) -> Self {
        let data = TempDir::new().unwrap();
        let config = Config {
            data_dir: data.path().to_owned(),
            registration,
            ..Config::default()
        };
        Self {
            router: app(AppState::open(config).unwrap()),
            _data: data,
        }
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, body)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.call(request).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.call(request.body(Body::empty()).unwrap()).await
    }

    async fn register(&self, username: &str) -> (StatusCode, Value) {
        let body = json!({"username": username, "password": "long enough", "display_name": ""});
        self.post("/api/v1/register", body).await
    }

    async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({"username": username, "password": password, "device_id": "dev1"});
        self.post("/api/v1/login", body).await
    }
}

#[tokio::test]
async fn register_login_me_and_logout() {
    let api = Api::new(Registration::Open);
    let (status, user) = api.register("alice").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(user["display_name"], "alice");
    let (status, session) = api.login("alice", "long enough").await;
    assert_eq!(status, StatusCode::OK);
    let token = session["token"].as_str().unwrap().to_owned();
    let (status, me) = api.get("/api/v1/me", Some(&token)).await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("alice"))
    );

    let logout = Request::post("/api/v1/logout")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.call(logout).await.0, StatusCode::NO_CONTENT);
    let (status, error) = api.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["code"], "unauthenticated");
}

#[tokio::test]
async fn errors_have_one_shape() {
    let api = Api::new(Registration::Open);
    api.register("alice").await;
    let (status, error) = api.register("ALICE").await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::CONFLICT, &json!("conflict"))
    );
    let (status, error) = api.login("alice", "wrong password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["code"], "invalid_credentials");
    let (_, unknown) = api.login("nobody", "wrong password").await;
    assert_eq!(
        unknown, error,
        "unknown users and wrong passwords look the same"
    );
    let (status, error) = api.post("/api/v1/register", json!({"username": 5})).await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::BAD_REQUEST, &json!("bad_request"))
    );
    let (status, error) = api.register("has space").await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::BAD_REQUEST, &json!("bad_request"))
    );
    let (status, error) = api.get("/api/v1/users?q=a", None).await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthenticated"))
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let api = Api::new(Registration::Open);
    let huge = "x".repeat(64 * 1024);
    let body = json!({"username": "alice", "password": huge});
    let (status, _) = api.post("/api/v1/register", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn closed_registration_refuses_strangers() {
    let api = Api::new(Registration::Closed);
    let (status, error) = api.register("alice").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error["code"], "registration_closed");
}

#[tokio::test]
async fn health_answers() {
    let api = Api::new(Registration::Open);
    let (status, health) = api.get("/health", None).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
}
