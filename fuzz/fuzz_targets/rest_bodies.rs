//! Arbitrary requests to the REST API through the real router: the first byte picks the
//! route and method, the rest is the body. Never a panic; every error answer is the
//! `{code, message}` JSON shape.

#![no_main]

use std::sync::OnceLock;

use flint_fuzz::Harness;
use flint_server::app;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct World {
    harness: Harness,
    router: axum::Router,
    token: String,
}

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/register"),
    ("POST", "/api/v1/login"),
    ("POST", "/api/v1/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/users?q=fuzz"),
    ("GET", "/api/v1/sessions"),
    ("DELETE", "/api/v1/sessions/fuzz"),
    ("GET", "/health"),
    ("PUT", "/api/v1/login"),
    ("GET", "/nowhere"),
];

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        // Hashing is slow by design: after a few sign-ups and failed sign-ins the brakes
        // answer instead, which is the path a flood takes anyway.
        let harness = Harness::new(|config| config.throttle.registrations_per_hour = 3);
        let router = app(harness.state.clone());
        let token = harness.runtime.block_on(async {
            let register = r#"{"username":"fuzzer","password":"long enough"}"#;
            let login = r#"{"username":"fuzzer","password":"long enough","device_id":"fuzz"}"#;
            call(&router, "POST", "/api/v1/register", register, None).await;
            let (_, body) = call(&router, "POST", "/api/v1/login", login, None).await;
            let session: serde_json::Value = serde_json::from_slice(&body).expect("session");
            session["token"].as_str().unwrap_or_default().to_owned()
        });
        World {
            harness,
            router,
            token,
        }
    })
}

async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    body: impl Into<axum::body::Body>,
    token: Option<&str>,
) -> (axum::http::StatusCode, Vec<u8>) {
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(body.into()).expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, bytes.to_vec())
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, body)) = bytes.split_first() else {
        return;
    };
    let world = world();
    let (method, path) = ROUTES[usize::from(pick & 0x7f) % ROUTES.len()];
    // Never sign the fuzzer's own session out: later inputs use it.
    if path == "/api/v1/logout" {
        return;
    }
    let token = (pick & 0x80 != 0).then_some(world.token.as_str());
    let (status, answer) =
        world
            .harness
            .runtime
            .block_on(call(&world.router, method, path, body.to_vec(), token));
    if status.is_client_error() || status.is_server_error() {
        let error: serde_json::Value =
            serde_json::from_slice(&answer).expect("error answers are JSON");
        assert!(error["code"].is_string(), "{error}");
        assert!(error["message"].is_string(), "{error}");
        assert!(!status.is_server_error(), "{status}: {error}");
    }
});
