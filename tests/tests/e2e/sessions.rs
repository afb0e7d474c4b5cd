//! Sessions end for real: a signed-out device's socket closes, an administrator's revocation
//! reaches a running server, and the token never sits in the account database.

use std::path::Path;
use std::time::Duration;

use flint_core::ConnectionState;
use flint_tests::raw::login;
use flint_tests::server::free_addr;
use flint_tests::users::PASSWORD;
use flint_tests::{until, RawSocket, ServerProcess, TestClient};
use tempfile::TempDir;

use crate::Pair;

/// How long a revoked socket may take to close before the test calls it a failure (the
/// server reads revocations every 250 ms).
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

async fn closes_soon(socket: &mut RawSocket) -> Option<u16> {
    tokio::time::timeout(CLOSE_PATIENCE, socket.close_code())
        .await
        .expect("the socket of an ended session closes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_a_device_out_closes_its_open_socket() {
    let pair = Pair::start().await;
    let url = pair.server.url();
    let session = login(&url, "alice", PASSWORD, "old-laptop").await;
    let mut socket = RawSocket::signed_in(&url, &session, "old-laptop").await;
    let devices = pair.alice.devices().await.unwrap();
    assert!(devices
        .iter()
        .any(|d| d.device_id == "old-laptop" && !d.current));
    assert!(devices.iter().any(|d| d.current));
    pair.alice.sign_out_device("old-laptop").await.unwrap();
    assert_eq!(closes_soon(&mut socket).await, Some(1008));
    let left = pair.alice.devices().await.unwrap();
    assert!(left.iter().all(|d| d.device_id != "old-laptop"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_closes_every_socket_of_the_session() {
    let pair = Pair::start().await;
    let url = pair.server.url();
    let session = login(&url, "bob", PASSWORD, "desk").await;
    let mut first = RawSocket::signed_in(&url, &session, "desk").await;
    let mut second = RawSocket::signed_in(&url, &session, "desk").await;
    let logout = reqwest::Client::new()
        .post(url.join("/api/v1/logout").unwrap())
        .bearer_auth(session.token.expose())
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_success());
    assert_eq!(closes_soon(&mut first).await, Some(1008));
    assert_eq!(closes_soon(&mut second).await, Some(1008));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrators_revocation_signs_a_running_client_out() {
    let binary = Path::new(env!("CARGO_BIN_EXE_flint-server-process"));
    let data = TempDir::new().unwrap();
    let server = ServerProcess::start(binary, free_addr(), data.path()).await;
    let alice = TestClient::register(&server.url(), "alice").await;
    until(&alice, "alice online", || async {
        (*alice.connection().borrow() == ConnectionState::Online).then_some(())
    })
    .await;
    let revoked = std::process::Command::new(env!("CARGO_BIN_EXE_flint-server-process"))
        .args(["--data-dir"])
        .arg(data.path())
        .args(["admin", "revoke-sessions", "alice"])
        .output()
        .unwrap();
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    assert!(String::from_utf8_lossy(&revoked.stdout).contains("1 session(s) of alice ended"));
    until(&alice, "alice signed out", || async {
        (*alice.connection().borrow() == ConnectionState::SignedOut).then_some(())
    })
    .await;
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_token_stays_out_of_the_account_database() {
    let pair = Pair::start().await;
    let files = files_under(pair.alice.dir.path());
    let token_file = files
        .iter()
        .find(|f| f.file_name().is_some_and(|n| n == "session-token"))
        .expect("without a credential store the token is in a private file");
    let token = std::fs::read(token_file).unwrap();
    assert!(token.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for file in files.iter().filter(|f| *f != token_file) {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_slice()),
            "the token is in {}",
            file.display()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is readable by others", file.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_an_older_version_kept_in_the_database_moves_out_of_it() {
    let mut pair = Pair::start().await;
    pair.alice.stop().await;
    // As Flint kept it before the credential store: in the account database's kv table.
    let files = files_under(pair.alice.dir.path());
    let token_file = files
        .iter()
        .find(|f| f.file_name().is_some_and(|n| n == "session-token"))
        .unwrap()
        .clone();
    let database = files
        .iter()
        .find(|f| f.file_name().is_some_and(|n| n == "flint.db"))
        .unwrap()
        .clone();
    let token = std::fs::read_to_string(&token_file).unwrap();
    std::fs::remove_file(&token_file).unwrap();
    let conn = rusqlite::Connection::open(&database).unwrap();
    conn.execute(
        "INSERT INTO kv (key, value) VALUES ('session_token', ?1)",
        [&token],
    )
    .unwrap();
    drop(conn);

    pair.alice.restart().await;
    until(&pair.alice, "alice online again", || async {
        (*pair.alice.connection().borrow() == ConnectionState::Online).then_some(())
    })
    .await;
    let conn = rusqlite::Connection::open(&database).unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM kv WHERE key = 'session_token'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "the token left the database");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
}
