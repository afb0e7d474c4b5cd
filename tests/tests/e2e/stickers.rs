//! Stickers end to end: a picture someone sent is kept as a sticker on the server (every
//! device of the keeper sees it), stays the keeper's after they leave the group it came
//! from, and is sent on as a sticker the other side can see; the server keeps only pictures
//! the user may see, within the size limit.

use std::path::Path;

use flint_core::library::Want;
use flint_core::{ContentView, ErrorCode};
use flint_proto::api::{AddSticker, Sticker};
use flint_proto::files::{MAX_STICKER_BYTES, STICKERS_PATH};
use flint_tests::files::{error_code, random_file, FileUser};
use flint_tests::server::test_config;
use flint_tests::{until, TestClient, TestServer};
use reqwest::Method;
use tempfile::TempDir;

/// A 120×80 PNG at `path`.
fn picture(path: &Path) {
    image::RgbaImage::from_pixel(120, 80, image::Rgba([40, 160, 250, 255]))
        .save(path)
        .unwrap();
}

/// The first message of `conversation` on `client` whose content `wanted` accepts.
async fn first(
    client: &TestClient,
    conversation: i64,
    wanted: fn(&ContentView) -> bool,
) -> flint_core::MessageView {
    until(client, "the message to arrive", || async {
        client
            .all_messages(conversation)
            .await
            .into_iter()
            .find(|m| m.server_id.is_some() && wanted(&m.content))
    })
    .await
}

#[tokio::test]
async fn a_picture_kept_as_a_sticker_follows_its_keeper_and_is_sent_on_as_a_sticker() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let alice = TestClient::register(&url, "alice").await;
    let bob = TestClient::register(&url, "bob").await;
    let carol = TestClient::register(&url, "carol").await;
    let group = alice
        .create_group("表情包", &[bob.me().id])
        .await
        .unwrap()
        .id;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("wave.png");
    picture(&path);
    alice.send_file(group, &path).await.unwrap();
    let received = first(&bob, group, |c| matches!(c, ContentView::Image { .. })).await;

    // Bob keeps it; kept again, it is still one sticker; his other device has it too.
    let kept = bob.add_sticker(received.local_id).await.unwrap();
    assert_eq!((kept.width, kept.height), (120, 80));
    bob.add_sticker(received.local_id).await.unwrap();
    let laptop = TestClient::another_device(&url, "bob").await;
    assert_eq!(laptop.stickers().await.unwrap(), vec![kept.clone()]);

    // Removed from the group, he still has his sticker and its picture.
    alice.remove_members(group, &[bob.me().id]).await.unwrap();
    let shown = laptop.sticker_picture(&kept.file_id).await.unwrap();
    assert!(
        image::open(&shown.path).is_ok(),
        "the panel shows its picture"
    );

    // Sent to carol, it arrives as a sticker at its size, and she sees its picture.
    let direct = laptop.open_direct(carol.me().id).await.unwrap().id;
    laptop.send_sticker(direct, &kept.file_id).await.unwrap();
    let sticker = first(&carol, direct, |c| matches!(c, ContentView::Sticker { .. })).await;
    assert_eq!(
        sticker.content,
        ContentView::Sticker {
            width: 120,
            height: 80,
            animated: false
        }
    );
    let seen = carol
        .media(sticker.local_id, Want::Thumbnail)
        .await
        .unwrap();
    assert!(image::open(&seen.path).is_ok(), "carol sees the sticker");

    // Removed on one device, it is gone on the other.
    bob.remove_sticker(&kept.file_id).await.unwrap();
    assert!(laptop.stickers().await.unwrap().is_empty());
    let again = bob.remove_sticker(&kept.file_id).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::NotFound);
}

/// `POST` of a sticker by `user`.
async fn post_sticker(user: &FileUser, file_id: &str) -> reqwest::Response {
    let body = AddSticker {
        file_id: file_id.into(),
    };
    let request = user.request(Method::POST, STICKERS_PATH).json(&body);
    request.send().await.unwrap()
}

/// `POST` of a sticker by `user`: the status and, when kept, the sticker.
async fn keep(user: &FileUser, file_id: &str) -> (u16, Option<Sticker>) {
    let answer = post_sticker(user, file_id).await;
    let status = answer.status().as_u16();
    (status, answer.json().await.ok())
}

#[tokio::test]
async fn only_a_picture_the_user_may_see_within_the_limit_is_kept() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let alice = FileUser::register(&url, "alice").await;
    let bob = FileUser::register(&url, "bob").await;
    let dir = TempDir::new().unwrap();
    let (png, blob, large) = (
        dir.path().join("p.png"),
        dir.path().join("b.bin"),
        dir.path().join("l.png"),
    );
    picture(&png);
    random_file(&blob, 4096, 5);
    image::RgbImage::from_fn(1200, 1000, |x, y| {
        image::Rgb([((x * 7) ^ (y * 13)) as u8, (x * y) as u8, (x + y * 3) as u8])
    })
    .save(&large)
    .unwrap();
    assert!(std::fs::metadata(&large).unwrap().len() > MAX_STICKER_BYTES);
    let png = alice.upload(&png, "p.png").await.unwrap();
    let blob = alice.upload(&blob, "b.bin").await.unwrap();
    let large = alice.upload(&large, "l.png").await.unwrap();

    // Bob has never been sent alice's picture: as missing as an unknown or malformed id.
    let unknown = "0123456789abcdef0123456789abcdef";
    for file_id in [png.as_str(), unknown, "../flint.db"] {
        assert_eq!(keep(&bob, file_id).await.0, 404, "{file_id}");
    }
    // Not a picture, or too large: refused with a reason.
    for file_id in [&blob, &large] {
        let (status, code) = error_code(post_sticker(&alice, file_id).await).await;
        assert_eq!((status, code.as_str()), (400, "bad_request"), "{file_id}");
    }
    // Her own picture is kept, listed, and removed once.
    let (status, kept) = keep(&alice, &png).await;
    assert_eq!(status, 200);
    assert_eq!(kept.map(|k| (k.width, k.height)), Some((120, 80)));
    let path = format!("{STICKERS_PATH}/{png}");
    let removed = alice.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    let again = alice.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(again.status(), 404);
    let bobs = bob
        .request(Method::GET, STICKERS_PATH)
        .send()
        .await
        .unwrap();
    assert_eq!(bobs.json::<Vec<Sticker>>().await.unwrap(), vec![]);
}
