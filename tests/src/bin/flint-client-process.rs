//! A `flint-core` client in a process of its own, for suites that must `kill -9` a client:
//! `flint-client-process SERVER_URL DATA_DIR USER [PEER FILE | --fetch]` signs `USER` in on
//! the data folder (a test account, password `flint_tests::users::PASSWORD`), sends `FILE` to
//! `PEER` when given, or with `--fetch` starts downloading the file of the first file message
//! it receives, and runs until killed — resuming whatever its folder left unfinished.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use flint_core::Client;
use flint_tests::users::{client_config, PASSWORD};
use url::Url;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (server, data_dir, user) = (&args[0], &args[1], &args[2]);
    let config = client_config(&Url::parse(server).unwrap(), data_dir);
    let client = Client::login(config, user, PASSWORD).await.unwrap();
    if let [_, _, _, peer, file] = args.as_slice() {
        let found = client.search_users(peer).await.unwrap();
        let peer = found.iter().find(|u| &u.username == peer).unwrap();
        // Opening a chat needs the socket, which connects just after sign-in.
        let conversation = loop {
            match client.open_direct(peer.id).await {
                Ok(conversation) => break conversation,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        };
        client
            .send_file(conversation.id, std::path::Path::new(file))
            .await
            .unwrap();
    }
    if let [_, _, _, fetch] = args.as_slice() {
        assert_eq!(fetch, "--fetch");
        let local_id = first_file(&client).await;
        // Not awaited: the process is killed while the download runs.
        let fetching = std::sync::Arc::new(client);
        let downloader = std::sync::Arc::clone(&fetching);
        tokio::spawn(async move { downloader.download_file(local_id).await });
        println!("running");
        std::future::pending::<()>().await;
    }
    println!("running");
    std::future::pending::<()>().await;
}

/// The local id of the first file message that reaches `client`.
async fn first_file(client: &Client) -> i64 {
    loop {
        for conversation in client.conversations().await.unwrap() {
            let page = client.messages(conversation.id, None, 50).await.unwrap();
            let file = page.iter().find(|m| {
                matches!(&m.content, flint_core::ContentView::File { file_id, .. } if !file_id.is_empty())
            });
            if let Some(file) = file {
                return file.local_id;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
