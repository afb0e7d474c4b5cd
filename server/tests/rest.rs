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
        Self::with(|config| config.registration = registration)
    }

    /// An API over a fresh data folder with the configuration `change` makes.
    fn with(change: impl FnOnce(&mut Config)) -> Self {
        let data = TempDir::new().unwrap();
        let mut config = Config {
            data_dir: data.path().to_owned(),
            ..Config::default()
        };
        change(&mut config);
        Self {
            router: app(AppState::open(config).unwrap()),
            _data: data,
        }
    }

    async fn send(&self, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.call(request).await
    }

    async fn register_as(&self, username: &str, display_name: &str) -> (StatusCode, Value) {
        let body =
            json!({"username": username, "password": "long enough", "display_name": display_name});
        self.post("/api/v1/register", body).await
    }

    async fn token(&self, username: &str, device: &str) -> String {
        let body = json!({"username": username, "password": "long enough", "device_id": device,
                          "device_name": format!("{device} 的电脑")});
        let (status, session) = self.post("/api/v1/login", body).await;
        assert_eq!(status, StatusCode::OK, "{session}");
        session["token"].as_str().unwrap().to_owned()
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

/// Asserts a JSON error of the given status and code.
fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        got.1
    );
}

#[tokio::test]
async fn every_error_path_answers_code_and_message() {
    let api = Api::new(Registration::Open);
    let huge = format!(
        r#"{{"username":"alice","password":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    assert_error(
        &api.send("POST", "/api/v1/register", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    assert_error(
        &api.send("GET", "/api/v1/nothing-here", "").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &api.send("DELETE", "/api/v1/login", "").await,
        StatusCode::METHOD_NOT_ALLOWED,
        "bad_request",
    );
    let long = format!("/api/v1/users?q={}", "a".repeat(20_000));
    assert_error(
        &api.send("GET", &long, "").await,
        StatusCode::URI_TOO_LONG,
        "too_large",
    );
    assert_error(
        &api.send("POST", "/api/v1/login", "{not json").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &api.send("GET", "/ws", "").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    api.register("alice").await;
    let token = api.token("alice", "dev1").await;
    let request = Request::get("/api/v1/users")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let missing_query = api.call(request).await;
    assert_error(&missing_query, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        missing_query.1["message"].as_str().unwrap().contains("q"),
        "{}",
        missing_query.1
    );
}

#[tokio::test]
async fn look_alike_and_full_width_names_cannot_pose_as_existing_ones() {
    let api = Api::new(Registration::Open);
    assert_eq!(api.register("alice").await.0, StatusCode::CREATED);
    for twin in ["аlice", "ａｌｉｃｅ", "aIice", "ALICE"] {
        assert_error(&api.register(twin).await, StatusCode::CONFLICT, "conflict");
    }
    assert_eq!(api.register("admin").await.0, StatusCode::CREATED);
    assert_error(
        &api.register("ａｄｍｉｎ").await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // A full-width name typed at sign-in finds the account it normalises to.
    let body = json!({"username": "ａｌｉｃｅ", "password": "long enough", "device_id": "d"});
    assert_eq!(api.post("/api/v1/login", body).await.0, StatusCode::OK);
}

#[tokio::test]
async fn names_follow_the_documented_rules() {
    let api = Api::new(Registration::Open);
    assert_error(
        &api.register("ab").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_eq!(api.register("张伟").await.0, StatusCode::CREATED);
    for bad in ["\u{202E}", "\u{200B}\u{200B}", "\u{202E}gnp.exe"] {
        let got = api.register_as("carol", bad).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "bad_request");
    }
    let (status, user) = api.register_as("carol", "卡罗尔 🙂").await;
    assert_eq!(
        (status, user["display_name"].as_str()),
        (StatusCode::CREATED, Some("卡罗尔 🙂"))
    );
}

#[tokio::test]
async fn sign_ups_from_one_address_are_braked_with_a_wait() {
    let api = Api::with(|config| config.throttle.registrations_per_hour = 2);
    assert_eq!(api.register("alice").await.0, StatusCode::CREATED);
    assert_eq!(api.register("bob").await.0, StatusCode::CREATED);
    let request = Request::post("/api/v1/register")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": "carol", "password": "long enough"}).to_string(),
        ))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let error: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(error["code"], "rate_limited");
    assert!(error["retry_after_ms"].as_u64().unwrap() > 1000, "{error}");
}

#[tokio::test]
async fn wrong_passwords_slow_down_and_the_right_one_works_after_the_wait() {
    let api = Api::with(|config| {
        config.throttle.account_free_failures = 3;
        config.throttle.delay_base_ms = 300;
    });
    api.register("alice").await;
    for _ in 0..3 {
        assert_error(
            &api.login("alice", "wrong password").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
    }
    // The fourth failure imposes the first wait; until it is over even the right password waits.
    api.login("alice", "wrong password").await;
    let braked = api.login("alice", "long enough").await;
    assert_error(&braked, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait = braked.1["retry_after_ms"].as_u64().unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    tokio::time::sleep(std::time::Duration::from_millis(wait + 20)).await;
    assert_eq!(api.login("alice", "long enough").await.0, StatusCode::OK);
}

#[tokio::test]
async fn devices_are_listed_and_signed_out_one_by_one() {
    let api = Api::with(|config| config.sessions.max_per_user = 2);
    api.register("alice").await;
    let first = api.token("alice", "laptop").await;
    let second = api.token("alice", "phone").await;
    let get = |token: &str| {
        Request::get("/api/v1/sessions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, devices) = api.call(get(&second)).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<(&str, bool)> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["device_id"].as_str().unwrap(),
                d["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&("phone", true)) && names.contains(&("laptop", false)));
    assert!(devices[0]["device_name"]
        .as_str()
        .unwrap()
        .contains("的电脑"));

    // A third device ends the least recently used session (the cap is 2).
    let third = api.token("alice", "tablet").await;
    assert_eq!(api.call(get(&first)).await.0, StatusCode::UNAUTHORIZED);
    let end = Request::delete("/api/v1/sessions/phone")
        .header(header::AUTHORIZATION, format!("Bearer {third}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.call(end).await.0, StatusCode::NO_CONTENT);
    assert_error(
        &api.call(get(&second)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let again = Request::delete("/api/v1/sessions/phone")
        .header(header::AUTHORIZATION, format!("Bearer {third}"))
        .body(Body::empty())
        .unwrap();
    assert_error(&api.call(again).await, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_sent_all_at_once_are_braked_like_guesses_one_by_one() {
    let api = Api::with(|config| {
        config.throttle.account_free_failures = 3;
        config.throttle.address_free_failures = 1000;
    });
    api.register("alice").await;
    let guesses = (0..20).map(|i| {
        let body = json!({"username": "alice", "password": format!("guess {i}"), "device_id": "d"});
        api.post("/api/v1/login", body)
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    let braked = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + braked, 20, "{answers:?}");
    assert!(
        checked <= 4,
        "{checked} guesses were checked; the brake allows 3 free and 1 more"
    );
}
