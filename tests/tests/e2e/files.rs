//! Files end to end against a real server: uploads that resume, downloads only for those who
//! may see the file, instant re-upload only with a possession proof, and bad input refused
//! with nothing half-stored.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flint_core::transfer::{self, Resume};
use flint_core::ErrorCode;
use flint_proto::files;
use flint_proto::wire::{self, message_content::Kind, request, response};
use flint_tests::files::{
    error_code, file_message, files_ending, random_file, sha256_of, FileUser,
};
use flint_tests::server::{free_addr, test_config};
use flint_tests::{seed, ServerProcess, TestServer};
use reqwest::Method;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// A server with alice and bob and their direct conversation.
struct Files {
    server: TestServer,
    data: TempDir,
    alice: FileUser,
    bob: FileUser,
    direct: i64,
}

impl Files {
    async fn start(change: impl FnOnce(&mut flint_server::Config)) -> Self {
        let data = TempDir::new().unwrap();
        let mut config = test_config(data.path());
        change(&mut config);
        let server = TestServer::start(config).await;
        let url = server.url();
        let mut alice = FileUser::register(&url, "alice").await;
        let bob = FileUser::register(&url, "bob").await;
        let direct = seed::open_direct(&mut alice.socket, bob.id).await;
        Self {
            server,
            data,
            alice,
            bob,
            direct,
        }
    }

    /// Files in the server's blob store and staging folder.
    fn stored(&self) -> (usize, usize) {
        let count = |dir: PathBuf| walk(&dir);
        (
            count(self.data.path().join("blobs")),
            count(self.data.path().join("uploads")),
        )
    }
}

/// Waits (polling, up to a minute) until `check` holds.
async fn eventually(check: impl Fn() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

fn sent_ok(answer: response::Result) -> wire::Message {
    match answer {
        response::Result::SendOk(ok) => ok.message.unwrap(),
        other => panic!("send refused: {other:?}"),
    }
}

fn refused(answer: response::Result) -> ErrorCode {
    match answer {
        response::Result::Error(error) => ErrorCode::try_from(error.code).unwrap(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_with_a_cjk_name_goes_to_the_other_side_whole_and_by_range() {
    let mut f = Files::start(|_| {}).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("source");
    let sha = random_file(&path, 20 << 20, 1);
    let name = "季度报告 📊 v2.bin";
    let file_id = f.alice.upload(&path, name).await.unwrap();
    assert_eq!(file_id.len(), 32);

    // Not yet sent: bob may not fetch it.
    assert_eq!(f.bob.get(&file_id, None).await.status(), 404);
    sent_ok(
        f.alice
            .send(f.direct, file_message(&file_id, name, 20 << 20))
            .await,
    );

    let dest = dir.path().join("received");
    f.bob.download(&file_id, 20 << 20, &dest).await.unwrap();
    assert_eq!(sha256_of(&dest), sha);
    // A download whose `.part` was complete when the app stopped (before the rename) finishes
    // without asking the server for bytes past the end.
    let again = dir.path().join("again");
    std::fs::copy(&dest, dir.path().join("again.part")).unwrap();
    assert_eq!(f.bob.download(&file_id, 20 << 20, &again).await.unwrap(), 0);
    assert_eq!(sha256_of(&again), sha);

    let part = f.bob.get(&file_id, Some("bytes=100-199")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 100-199/20971520");
    let disposition = part.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = part.bytes().await.unwrap();
    assert_eq!(&bytes[..], &std::fs::read(&path).unwrap()[100..200]);
    assert!(disposition.contains("%E5%AD%A3%E5%BA%A6"), "{disposition}");
    assert_eq!(
        f.bob.get(&file_id, Some("bytes=99999999-")).await.status(),
        416
    );
}

#[tokio::test]
async fn only_members_of_a_conversation_the_file_was_sent_to_may_fetch_it() {
    let mut f = Files::start(|config| config.files.upload_expiry_secs = 2).await;
    let url = f.server.url();
    let carol = FileUser::register(&url, "carol").await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("plan");
    random_file(&path, 4096, 2);

    // A group of alice, bob and carol; the file goes there; carol is then removed.
    let group = match f
        .alice
        .socket
        .request(request::Body::CreateGroup(wire::CreateGroup {
            name: "项目组".into(),
            member_ids: vec![f.bob.id, carol.id],
        }))
        .await
    {
        response::Result::Conversation(c) => c.id,
        other => panic!("{other:?}"),
    };
    let file_id = f.alice.upload(&path, "plan.bin").await.unwrap();
    sent_ok(
        f.alice
            .send(group, file_message(&file_id, "plan.bin", 4096))
            .await,
    );
    assert_eq!(carol.get(&file_id, None).await.status(), 200);
    f.alice
        .socket
        .request(request::Body::RemoveMembers(wire::RemoveMembers {
            conversation_id: group,
            user_ids: vec![carol.id],
        }))
        .await;

    // Removed, an outsider's guess and a missing id all get the same answer.
    let missing = "0123456789abcdef0123456789abcdef";
    let answers = [
        error_code(carol.get(&file_id, None).await).await,
        error_code(carol.get(missing, None).await).await,
        error_code(carol.get("../../flint.db", None).await).await,
    ];
    for answer in &answers {
        assert_eq!(answer, &(404, "not_found".to_owned()));
    }
    assert_eq!(f.bob.get(&file_id, None).await.status(), 200);

    // Carol cannot send alice's file onwards either (she no longer sees it).
    let mut carol = carol;
    let alone = seed::open_direct(&mut carol.socket, f.bob.id).await;
    let answer = carol
        .send(alone, file_message(&file_id, "plan.bin", 4096))
        .await;
    assert_eq!(refused(answer), ErrorCode::NotFound);

    // Another user's upload is as missing as an unknown one.
    let created = f
        .alice
        .service
        .create(10, "x", Some(&[1; 32]))
        .await
        .unwrap();
    let bob_head = f
        .bob
        .tus(Method::HEAD, created.location.path())
        .send()
        .await
        .unwrap();
    assert_eq!(bob_head.status(), 404);
    let bob_patch = f
        .bob
        .tus(Method::PATCH, created.location.path())
        .header("content-type", files::PATCH_CONTENT_TYPE)
        .header("upload-offset", 0)
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(bob_patch.status(), 404);

    // An expired upload is gone.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = f
        .alice
        .tus(Method::HEAD, created.location.path())
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 404);
}

#[tokio::test]
async fn instant_re_upload_needs_a_proof_of_possession() {
    let mut f = Files::start(|_| {}).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("video");
    let sha = random_file(&path, 3 << 20, 3);
    let first = f.alice.upload(&path, "video.bin").await.unwrap();
    sent_ok(
        f.alice
            .send(f.direct, file_message(&first, "video.bin", 3 << 20))
            .await,
    );

    // Knowing the hash and length is not enough: a wrong proof is refused, once.
    let created = f
        .bob
        .service
        .create(3 << 20, "video.bin", Some(&sha))
        .await
        .unwrap();
    let (start, end) = created.proof.expect("the server offers a proof");
    assert!(end - start < files::PROOF_BYTES);
    let wrong = f
        .bob
        .service
        .prove(&created.location, &"00".repeat(32))
        .await;
    assert_eq!(wrong.unwrap_err().code(), ErrorCode::Forbidden);
    let again = f
        .bob
        .service
        .prove(&created.location, &"00".repeat(32))
        .await;
    assert_eq!(again.unwrap_err().code(), ErrorCode::Forbidden);

    // With the bytes, the proof is accepted and nothing is sent.
    let mut resume = Resume::default();
    let uploaded = upload_quietly(&f.bob.service, &path, "mine.bin", &mut resume)
        .await
        .unwrap();
    assert!(uploaded.instant);
    assert_eq!(resume.bytes_sent, 0);
    assert_ne!(uploaded.file_id, first, "each upload is a file of its own");
    let dest = dir.path().join("back");
    f.bob
        .download(&uploaded.file_id, 3 << 20, &dest)
        .await
        .unwrap();
    assert_eq!(sha256_of(&dest), sha);
    assert_eq!(f.stored().0, 1, "the content is stored once");
}

/// Uploads `path` as `name` through `service` with `resume`, without progress or cancel.
async fn upload_quietly(
    service: &transfer::FileService,
    path: &Path,
    name: &str,
    resume: &mut Resume,
) -> flint_core::Result<transfer::Uploaded> {
    let cancel = CancellationToken::new();
    transfer::upload(service, path, name, resume, &mut |_, _, _| {}, &cancel).await
}

/// `user`'s file service reached at `url` (a throttle in front of the server, say).
async fn service_at(url: url::Url, user: &FileUser, dir: &Path) -> transfer::FileService {
    let config = flint_core::ClientConfig::new(url, dir.join("client"));
    transfer::FileService::connect(&config, user.session.token.clone())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_large_file_starts_sending_at_once_and_still_goes_instantly_when_the_server_holds_it() {
    let mut f = Files::start(|_| {}).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("film");
    let len = 8 * transfer::SEND_WHILE_HASHING;
    let sha = random_file(&path, len, 9);
    let first = f.alice.upload(&path, "film.bin").await.unwrap();
    sent_ok(
        f.alice
            .send(f.direct, file_message(&first, "film.bin", len))
            .await,
    );

    // Bob on a slow link: his first bytes leave before the file is hashed, and once it is,
    // the server's copy is proven and the rest is never sent.
    let slow = flint_tests::throttle::Throttle::start(f.server.addr, 16 << 20).await;
    let service = service_at(slow.url(), &f.bob, dir.path()).await;
    let mut resume = Resume::default();
    let uploaded = upload_quietly(&service, &path, "mine.bin", &mut resume)
        .await
        .unwrap();
    assert!(uploaded.instant);
    assert!(
        resume.bytes_sent > 0,
        "sending began before the hash was known"
    );
    assert!(
        resume.bytes_sent < len / 2,
        "sent {} bytes",
        resume.bytes_sent
    );
    assert_eq!(resume.sha256, Some(sha));
    let dest = dir.path().join("back");
    f.bob.download(&uploaded.file_id, len, &dest).await.unwrap();
    assert_eq!(sha256_of(&dest), sha);
    eventually(
        || f.stored() == (1, 0),
        "one blob, and bob's half upload gone",
    )
    .await;
}

#[tokio::test]
async fn a_large_file_changed_between_two_attempts_is_caught_and_sent_again() {
    changed_between_attempts(true).await;
}

#[tokio::test]
async fn a_large_file_changed_before_its_hash_was_known_is_caught_too() {
    changed_between_attempts(false).await;
}

/// A large upload stopped once (`hash_known` says whether its hash was made by then), the
/// file changed, then resumed: the attempt that completes it fails with `ChecksumMismatch`
/// and a fresh resume, and the next sends the file as it is now.
async fn changed_between_attempts(hash_known: bool) {
    let f = Files::start(|_| {}).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("report");
    // Large enough that its hash (~1.6 GB/s) is not made by the first progress report.
    let len = if hash_known { 8 } else { 32 } * transfer::SEND_WHILE_HASHING;
    random_file(&path, len, 11);
    // Slowed down when it must be seen a quarter of the way.
    let slow = flint_tests::throttle::Throttle::start(f.server.addr, 16 << 20).await;
    let url = if hash_known {
        slow.url()
    } else {
        f.server.url()
    };
    let service = service_at(url, &f.alice, dir.path()).await;

    // The first attempt stops a quarter of the way after the hash is known, or at its first
    // report of bytes on their way…
    let mut resume = Resume::default();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let mut progress = move |now: &Resume, sent: u64, _: u64| {
        let due = match hash_known {
            true => now.sha256.is_some() && sent >= len / 4,
            false => sent > 0,
        };
        if due {
            stop.cancel();
        }
    };
    let first = transfer::upload(
        &service,
        &path,
        "r.bin",
        &mut resume,
        &mut progress,
        &cancel,
    );
    assert_eq!(first.await.unwrap_err().code(), ErrorCode::Cancelled);
    assert_eq!(resume.sha256.is_some(), hash_known);
    assert!(resume.location.is_some());

    // …then the file changes where it was already sent, and the attempt that finishes it is
    // told, with a resume that starts over.
    let changed = random_file(&path, len, 12);
    let mut second = ErrorCode::Conflict;
    // Until the server sees the first attempt's connection end, the upload is its: Conflict,
    // or a connection cut when the refusal comes while the body is still on its way.
    for _ in 0..100 {
        let attempt = upload_quietly(&f.alice.service, &path, "r.bin", &mut resume);
        second = attempt.await.unwrap_err().code();
        if ![ErrorCode::Conflict, ErrorCode::Unavailable].contains(&second) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(second, ErrorCode::ChecksumMismatch);
    assert_eq!((resume.sha256, resume.location.as_ref()), (None, None));
    let third = upload_quietly(&f.alice.service, &path, "r.bin", &mut resume);
    let uploaded = third.await.unwrap();
    let dest = dir.path().join("back");
    f.alice
        .download(&uploaded.file_id, len, &dest)
        .await
        .unwrap();
    assert_eq!(sha256_of(&dest), changed);
}

#[tokio::test]
async fn a_small_file_is_not_granted_for_its_hash_alone() {
    let mut f = Files::start(|_| {}).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("note");
    // Smaller than the proof range: the range is the whole file, and its plain SHA-256 is
    // the hash anyone may know.
    let sha = random_file(&path, 4096, 11);
    let first = f.alice.upload(&path, "note.txt").await.unwrap();
    sent_ok(
        f.alice
            .send(f.direct, file_message(&first, "note.txt", 4096))
            .await,
    );
    let created = f
        .bob
        .service
        .create(4096, "note.txt", Some(&sha))
        .await
        .unwrap();
    let (start, end) = created.proof.expect("the server offers a proof");
    assert_eq!((start, end), (0, 4095), "the range is the whole file");
    let hash_alone = f
        .bob
        .service
        .prove(&created.location, &hex::encode(sha))
        .await;
    assert_eq!(hash_alone.unwrap_err().code(), ErrorCode::Forbidden);
    // With the bytes, the instant upload still works.
    let mut resume = Resume::default();
    let uploaded = upload_quietly(&f.bob.service, &path, "mine.txt", &mut resume)
        .await
        .unwrap();
    assert!(uploaded.instant);
}

#[tokio::test]
async fn a_file_shown_as_a_picture_voice_or_video_must_be_one() {
    let mut f = Files::start(|_| {}).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("archive.bin");
    random_file(&path, 100_000, 5);
    let id = f.alice.upload(&path, "archive.bin").await.unwrap();
    let image = Kind::Image(wire::Image {
        file_id: id.clone(),
        width: 640,
        height: 480,
        size: 100_000,
        ..Default::default()
    });
    let voice = Kind::Voice(wire::Voice {
        file_id: id.clone(),
        duration_ms: 1000,
        size: 100_000,
        ..Default::default()
    });
    let video = Kind::Video(wire::Video {
        file_id: id.clone(),
        size: 100_000,
        ..Default::default()
    });
    for kind in [image, voice, video] {
        assert_eq!(
            refused(f.alice.send(f.direct, kind).await),
            ErrorCode::BadRequest
        );
    }
    // As a file it goes.
    sent_ok(
        f.alice
            .send(f.direct, file_message(&id, "archive.bin", 100_000))
            .await,
    );
}

#[tokio::test]
async fn a_chunk_that_does_not_match_its_checksum_is_dropped_and_sent_again() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let f = Files::start(|_| {}).await;
    let chunk = vec![42u8; 64 * 1024];
    let created = f
        .alice
        .tus(Method::POST, files::UPLOADS_PATH)
        .header("upload-length", chunk.len() * 2)
        .header("upload-metadata", "filename Y2h1bmtz")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let patch = |offset: usize, digest: Vec<u8>| {
        f.alice
            .tus(Method::PATCH, &location)
            .header("content-type", files::PATCH_CONTENT_TYPE)
            .header("upload-offset", offset)
            .header(
                "upload-checksum",
                format!(
                    "sha256 {}",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                ),
            )
            .body(chunk.clone())
    };
    let wrong = patch(0, vec![0; 32]).send().await.unwrap();
    assert_eq!(
        error_code(wrong).await,
        (
            files::CHECKSUM_MISMATCH_STATUS,
            "checksum_mismatch".to_owned()
        )
    );
    let head = f.alice.tus(Method::HEAD, &location).send().await.unwrap();
    assert_eq!(
        head.headers()["upload-offset"],
        "0",
        "nothing of the bad chunk is kept"
    );
    let right = sha2::Sha256::digest(&chunk).to_vec();
    let ok = patch(0, right).send().await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["upload-offset"], (64 * 1024).to_string());
}

#[tokio::test]
async fn bad_files_are_refused_clearly_and_nothing_is_half_stored() {
    let mut f = Files::start(|config| {
        config.files.max_file_bytes = 1 << 20;
        config.files.quota_bytes = 3 << 20;
    })
    .await;
    let dir = TempDir::new().unwrap();
    let create = |user: &FileUser, length: u64, name: &str| {
        use base64::Engine as _;
        let name = base64::engine::general_purpose::STANDARD.encode(name);
        user.tus(Method::POST, files::UPLOADS_PATH)
            .header("upload-length", length)
            .header("upload-metadata", format!("filename {name}"))
            .send()
    };

    assert_eq!(
        error_code(create(&f.alice, 0, "empty").await.unwrap()).await,
        (400, "bad_request".into())
    );
    assert_eq!(
        error_code(create(&f.alice, (1 << 20) + 1, "big").await.unwrap()).await,
        (413, "too_large".into())
    );
    assert_eq!(
        error_code(create(&f.alice, 10, "a\0b").await.unwrap()).await,
        (400, "bad_request".into())
    );

    // A path in the name keeps only its last part; CJK and emoji survive.
    let path = dir.path().join("x");
    random_file(&path, 1000, 4);
    let id = f
        .alice
        .upload(&path, "../../etc/密码 🔑.txt")
        .await
        .unwrap();
    let answer = f.alice.get(&id, None).await;
    let disposition = answer.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(disposition, downloads_name("密码 🔑.txt"));

    // A decompression bomb: a tiny PNG claiming 100,000 × 100,000 pixels.
    let bomb = dir.path().join("bomb.png");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png.resize(4096, 0);
    std::fs::write(&bomb, &png).unwrap();
    let before = f.stored();
    let error = f.alice.upload(&bomb, "bomb.png").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::TooLarge, "{error}");
    assert_eq!(f.stored(), before, "nothing of the bomb is kept");

    // Over the quota (3 MiB): two more 1 MiB files fit, the third does not.
    for seed in 5..7 {
        let path = dir.path().join(format!("fill{seed}"));
        random_file(&path, 1 << 20, seed);
        f.alice.upload(&path, "fill").await.unwrap();
    }
    let over = dir.path().join("over");
    random_file(&over, 1 << 20, 9);
    let error = f.alice.upload(&over, "over").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::QuotaExceeded, "{error}");

    // A message may not lie about a file's size, nor name a file its sender cannot see.
    let answer = f.alice.send(f.direct, file_message(&id, "x", 999)).await;
    assert_eq!(refused(answer), ErrorCode::BadRequest);
    let answer = f.bob.send(f.direct, file_message(&id, "x", 1000)).await;
    assert_eq!(refused(answer), ErrorCode::NotFound);
    let big_preview = Kind::Image(wire::Image {
        file_id: id.clone(),
        size: 1000,
        preview: vec![0; files::MAX_PREVIEW_BYTES + 1],
        ..Default::default()
    });
    assert_eq!(
        refused(f.alice.send(f.direct, big_preview).await),
        ErrorCode::TooLarge
    );
}

fn downloads_name(name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename*=UTF-8''{encoded}")
}

#[tokio::test]
async fn unfinished_uploads_per_user_are_bounded() {
    let f = Files::start(|config| config.files.max_pending_uploads = 2).await;
    for _ in 0..2 {
        f.alice
            .service
            .create(10, "x", Some(&[1; 32]))
            .await
            .unwrap();
    }
    let third = f
        .alice
        .service
        .create(10, "x", Some(&[1; 32]))
        .await
        .unwrap_err();
    assert_eq!(third.code(), ErrorCode::BadRequest, "{third}");
    f.bob.service.create(10, "x", Some(&[1; 32])).await.unwrap();
}

#[tokio::test]
async fn types_outside_the_allowed_list_are_refused_by_content_not_name() {
    let f = Files::start(|config| config.files.allowed_types = vec!["image/*".into()]).await;
    let dir = TempDir::new().unwrap();
    let pdf = dir.path().join("photo.png");
    std::fs::write(&pdf, b"%PDF-1.7\n% not a picture\n").unwrap();
    let error = f.alice.upload(&pdf, "photo.png").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::TypeNotAllowed, "{error}");
    assert_eq!(f.stored(), (0, 0));
}

#[tokio::test]
async fn files_never_sent_expire_and_their_content_is_collected() {
    let mut f = Files::start(|config| {
        config.files.unsent_expiry_secs = 1;
        config.files.collect_interval_secs = 1;
    })
    .await;
    let dir = TempDir::new().unwrap();
    let (kept, dropped) = (dir.path().join("kept"), dir.path().join("dropped"));
    random_file(&kept, 5000, 10);
    random_file(&dropped, 5000, 12);
    let kept_id = f.alice.upload(&kept, "kept").await.unwrap();
    let dropped_id = f.alice.upload(&dropped, "dropped").await.unwrap();
    sent_ok(
        f.alice
            .send(f.direct, file_message(&kept_id, "kept", 5000))
            .await,
    );
    eventually(|| f.stored().0 == 1, "the unsent file's content goes").await;
    assert_eq!(f.alice.get(&dropped_id, None).await.status(), 404);
    assert_eq!(f.bob.get(&kept_id, None).await.status(), 200);
}

#[tokio::test]
async fn a_1_gib_upload_resumes_after_the_server_is_killed_at_half_way() {
    let binary = Path::new(env!("CARGO_BIN_EXE_flint-server-process"));
    let data = TempDir::new().unwrap();
    let server = ServerProcess::start(binary, free_addr(), data.path()).await;
    let url = server.url();
    let alice = FileUser::register(&url, "alice").await;
    let bob_id = seed::register(&url, "bob").await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("big");
    const SIZE: u64 = 1 << 30;
    let sha = random_file(&path, SIZE, 12);

    let offset = Arc::new(AtomicU64::new(0));
    let mut resume = Resume::default();
    let cancel = CancellationToken::new();
    let seen = Arc::clone(&offset);
    let mut progress = move |_: &Resume, at: u64, _: u64| seen.store(at, Ordering::Relaxed);
    let sending = transfer::upload(
        &alice.service,
        &path,
        "big.bin",
        &mut resume,
        &mut progress,
        &cancel,
    );
    let killer = async {
        eventually(|| offset.load(Ordering::Relaxed) >= SIZE / 2, "half way").await;
        server.kill_9().await
    };
    let (first, (addr, data_dir)) = tokio::join!(sending, killer);
    assert!(first.is_err(), "the upload broke off with the server");
    let at_kill = offset.load(Ordering::Relaxed);
    assert!(at_kill < SIZE, "killed before the end");

    let _server = ServerProcess::start(binary, addr, &data_dir).await;
    let file_id = alice
        .upload_resuming(&path, "big.bin", &mut resume)
        .await
        .unwrap();
    let resent = resume.bytes_sent - SIZE;
    println!("1 GiB upload, server killed at {at_kill} bytes: {resent} bytes sent twice");
    assert!(resent < SIZE / 10, "re-sent {resent} bytes");

    let mut alice_again = FileUser::sign_in(&url, "alice").await;
    let direct = seed::open_direct(&mut alice_again.socket, bob_id).await;
    sent_ok(
        alice_again
            .send(direct, file_message(&file_id, "big.bin", SIZE))
            .await,
    );
    let bob = FileUser::sign_in(&url, "bob").await;
    let dest = dir.path().join("back");
    drop(std::fs::remove_file(&path));
    bob.download(&file_id, SIZE, &dest).await.unwrap();
    assert_eq!(sha256_of(&dest), sha);
}

#[tokio::test]
async fn a_file_past_4_gib_goes_up_and_comes_down_whole_once_the_limit_is_raised() {
    const SIZE: u64 = (4 << 30) + (3 << 20) + 5;
    let refused = Files::start(|_| {}).await;
    let creation = refused
        .alice
        .tus(Method::POST, files::UPLOADS_PATH)
        .header("upload-length", SIZE)
        .header("upload-metadata", "filename YmlnLmJpbg==")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(creation).await,
        (413, "too_large".into()),
        "over the 2 GiB default"
    );
    drop(refused);

    let f = Files::start(|config| config.files.max_file_bytes = 5 << 30).await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("huge");
    let sha = random_file(&path, SIZE, 44);
    let file_id = f.alice.upload(&path, "huge.bin").await.unwrap();
    // A socket nobody read during the long upload may have been closed for missing pings.
    let mut alice = FileUser::sign_in(&f.server.url(), "alice").await;
    sent_ok(
        alice
            .send(f.direct, file_message(&file_id, "huge.bin", SIZE))
            .await,
    );
    // A range past 4 GiB is the file's own bytes there.
    let at = (4 << 30) + (1 << 20) + 7;
    let range = format!("bytes={at}-{}", at + 99);
    let part = f.bob.get(&file_id, Some(&range)).await;
    assert_eq!(part.status(), 206);
    let expected = {
        use std::io::{Read, Seek, SeekFrom};
        let mut source = std::fs::File::open(&path).unwrap();
        source.seek(SeekFrom::Start(at)).unwrap();
        let mut bytes = vec![0; 100];
        source.read_exact(&mut bytes).unwrap();
        bytes
    };
    assert_eq!(&part.bytes().await.unwrap()[..], &expected[..]);
    drop(std::fs::remove_file(&path));

    let dest = dir.path().join("back");
    f.bob.download(&file_id, SIZE, &dest).await.unwrap();
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), SIZE);
    assert_eq!(sha256_of(&dest), sha);
}

/// A server with alice and bob on `flint-core` clients and their direct conversation.
async fn two_clients() -> (
    TempDir,
    TestServer,
    flint_tests::TestClient,
    flint_tests::TestClient,
    i64,
) {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let alice = flint_tests::TestClient::register(&url, "alice").await;
    let bob = flint_tests::TestClient::register(&url, "bob").await;
    let conversation = alice.open_direct(bob.me().id).await.unwrap().id;
    (data, server, alice, bob, conversation)
}

/// The newest `UploadProgress` of an event stream, read until `until` holds for it.
async fn progress_until(
    events: &mut tokio::sync::broadcast::Receiver<flint_core::Event>,
    until: impl Fn(u64, u64) -> bool,
) -> (u64, u64, usize) {
    let mut reports = 0;
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(60), events.recv())
            .await
            .expect("progress keeps coming")
            .expect("events flow");
        if let flint_core::Event::UploadProgress { sent, total, .. } = event {
            reports += 1;
            if until(sent, total) {
                return (sent, total, reports);
            }
        }
    }
}

#[tokio::test]
async fn the_app_resumes_an_upload_after_a_restart_and_the_other_side_gets_the_file() {
    let (_data, _server, mut alice, bob, conversation) = two_clients().await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("设计稿 v3.bin");
    const SIZE: u64 = 200 << 20;
    let sha = random_file(&path, SIZE, 20);

    let mut events = alice.events();
    let started = std::time::Instant::now();
    let message = alice.send_file(conversation, &path).await.unwrap();
    assert!(
        matches!(&message.content, flint_core::ContentView::File { file_id, size, .. } if file_id.is_empty() && *size == SIZE)
    );
    let (before, _, reports) = progress_until(&mut events, |sent, total| sent >= total / 2).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        reports as f64 <= elapsed * 10.0 + 3.0,
        "{reports} progress reports in {elapsed:.2} s"
    );
    alice.restart().await;

    let mut events = alice.events();
    let (first, _, _) = progress_until(&mut events, |_, _| true).await;
    assert!(
        first + (8 << 20) >= before,
        "resumed from the server's offset ({first} after {before}), not from the start"
    );
    let received = flint_tests::until(&bob, "bob gets the file", || async {
        bob.all_messages(conversation)
            .await
            .into_iter()
            .find(|m| matches!(&m.content, flint_core::ContentView::File { name, .. } if name == "设计稿 v3.bin"))
    })
    .await;
    let downloaded = bob.download_file(received.local_id).await.unwrap();
    assert_eq!(sha256_of(&downloaded), sha);
    assert!(downloaded.starts_with(bob.dir.path()));
}

#[tokio::test]
async fn a_cancelled_upload_shows_failed_and_retry_sends_it() {
    let (_data, _server, alice, bob, conversation) = two_clients().await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("big.bin");
    random_file(&path, 64 << 20, 21);

    let message = alice.send_file(conversation, &path).await.unwrap();
    alice.cancel_upload(message.local_id).await.unwrap();
    let failed = flint_tests::until(&alice, "the message shows failed", || async {
        let view = alice.message(message.local_id).await.unwrap()?;
        (view.status == flint_core::MessageStatus::Failed).then_some(view)
    })
    .await;
    assert_eq!(failed.failure, Some(ErrorCode::Cancelled));

    alice.retry(message.local_id).await.unwrap();
    flint_tests::until(&bob, "bob gets the file after the retry", || async {
        let all = bob.all_messages(conversation).await;
        (all.len() == 1 && matches!(all[0].content, flint_core::ContentView::File { .. }))
            .then_some(())
    })
    .await;
}

/// An upload cancelled halfway is deleted on the server (not left counting against the
/// quota until it expires), though the server still holds it for a moment after the cancel.
#[tokio::test]
async fn an_upload_cancelled_halfway_is_deleted_on_the_server() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let slow = flint_tests::throttle::Throttle::start(server.addr, 16 << 20).await;
    let alice = flint_tests::TestClient::register(&slow.url(), "alice").await;
    let bob = flint_tests::TestClient::register(&server.url(), "bob").await;
    let conversation = alice.open_direct(bob.me().id).await.unwrap().id;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("big.bin");
    random_file(&path, 64 << 20, 22);

    let mut events = alice.events();
    let message = alice.send_file(conversation, &path).await.unwrap();
    progress_until(&mut events, |sent, _| sent >= 8 << 20).await;
    assert_eq!(staging(data.path()).len(), 1, "the upload is on the server");
    alice.cancel_upload(message.local_id).await.unwrap();
    eventually(
        || staging(data.path()).is_empty(),
        "the cancelled upload deleted on the server",
    )
    .await;
}

/// A download cut off by the server going away waits to carry on; cancelling it then drops
/// it for good (it does not start again when the server is back), keeps what arrived, and a
/// later request fetches only the rest.
#[tokio::test]
async fn a_download_waiting_for_the_server_is_cancelled_for_good_and_keeps_what_came() {
    let binary = Path::new(env!("CARGO_BIN_EXE_flint-server-process"));
    let data = TempDir::new().unwrap();
    let server = ServerProcess::start(binary, free_addr(), data.path()).await;
    let url = server.url();
    let alice = flint_tests::TestClient::register(&url, "alice").await;
    let bob = flint_tests::TestClient::register(&url, "bob").await;
    let conversation = alice.open_direct(bob.me().id).await.unwrap().id;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("季度报告.bin");
    const SIZE: u64 = 512 << 20;
    let sha = random_file(&path, SIZE, 41);
    alice.send_file(conversation, &path).await.unwrap();
    let received = flint_tests::until(&bob, "bob gets the file", || async {
        bob.all_messages(conversation)
            .await
            .into_iter()
            .find(|m| matches!(m.content, flint_core::ContentView::File { .. }))
    })
    .await;
    let local_id = received.local_id;

    let mut events = bob.events();
    let killer = async {
        loop {
            let event = tokio::time::timeout(std::time::Duration::from_secs(60), events.recv())
                .await
                .expect("progress comes")
                .expect("events flow");
            if let flint_core::Event::DownloadProgress { received, .. } = event {
                if received > 0 {
                    break;
                }
            }
        }
        server.kill_9().await
    };
    let (first, (addr, data_dir)) = tokio::join!(bob.download_file(local_id), killer);
    assert!(first.is_err(), "the download broke off with the server");
    bob.cancel_download(local_id)
        .await
        .expect("the download waiting to carry on is cancelled");
    let part = || {
        files_ending(bob.dir.path(), ".part")
            .first()
            .and_then(|part| std::fs::metadata(part).ok())
            .map(|meta| meta.len())
    };
    let held = part().expect("what arrived is kept");

    let _server = ServerProcess::start(binary, addr, &data_dir).await;
    flint_tests::until(&bob, "bob to be back online", || async {
        (*bob.connection().borrow() == flint_core::ConnectionState::Online).then_some(())
    })
    .await;
    // The downloads are looked at again as the client comes online; give a cancelled one
    // the chance to start again wrongly.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(part(), Some(held), "the cancelled download stayed stopped");
    assert!(
        bob.cancel_download(local_id).await.is_err(),
        "nothing of it is under way or waiting"
    );

    let mut events = bob.events();
    let whole = bob.download_file(local_id).await.unwrap();
    assert_eq!(sha256_of(&whole), sha);
    let mut first_report = None;
    while let Ok(event) = events.try_recv() {
        if let flint_core::Event::DownloadProgress { received, .. } = event {
            first_report.get_or_insert(received);
        }
    }
    let first_report = first_report.expect("the download reported progress");
    assert!(
        first_report >= held,
        "carried on from the {held} bytes kept, not from the start ({first_report})"
    );
}

#[tokio::test]
async fn a_huge_picture_is_fetched_only_when_opened() {
    let (_data, server, _alice, bob, conversation) = two_clients().await;
    let mut alice = flint_tests::files::FileUser::sign_in(&server.url(), "alice").await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("scan.png");
    let size = flint_core::library::MAX_AUTO_PICTURE_BYTES + 1;
    write_png_header_and_padding(&path, size);
    let file_id = alice.upload(&path, "scan.png").await.unwrap();
    sent_ok(
        alice
            .send(
                conversation,
                Kind::Image(wire::Image {
                    file_id,
                    width: 64,
                    height: 64,
                    size,
                    mime: "image/png".into(),
                    ..Default::default()
                }),
            )
            .await,
    );
    let received = first_picture(&bob, conversation).await;
    let thumbnail = bob
        .media(received.local_id, flint_core::library::Want::Thumbnail)
        .await;
    assert!(thumbnail.is_err(), "no thumbnail without the user asking");
    let fetched = walkdir_bytes(bob.dir.path());
    assert!(fetched < size / 2, "{fetched} bytes fetched for a bubble");
    let original = bob
        .media(received.local_id, flint_core::library::Want::Original)
        .await
        .unwrap();
    assert_eq!(sha256_of(&original.path), sha256_of(&path));
}

#[tokio::test]
async fn a_sticker_arrives_at_its_size_and_shows_its_picture() {
    let (_data, server, _alice, bob, conversation) = two_clients().await;
    let mut alice = flint_tests::files::FileUser::sign_in(&server.url(), "alice").await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("wave.png");
    image::RgbaImage::from_pixel(128, 96, image::Rgba([250, 200, 40, 255]))
        .save(&path)
        .unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let file_id = alice.upload(&path, "wave.png").await.unwrap();
    let sticker = |size| {
        Kind::Sticker(wire::Sticker {
            pack_id: "favourites".into(),
            sticker_id: "wave".into(),
            file_id: file_id.clone(),
            size,
            width: 128,
            height: 96,
            mime: "image/png".into(),
        })
    };
    assert_eq!(
        refused(alice.send(conversation, sticker(size + 1)).await),
        ErrorCode::BadRequest,
        "a sticker states its file's size truly"
    );
    sent_ok(alice.send(conversation, sticker(size)).await);
    let received = flint_tests::until(&bob, "the sticker to arrive", || async {
        bob.all_messages(conversation)
            .await
            .into_iter()
            .find(|m| matches!(m.content, flint_core::ContentView::Sticker { .. }))
    })
    .await;
    assert_eq!(
        received.content,
        flint_core::ContentView::Sticker {
            width: 128,
            height: 96,
            animated: false
        }
    );
    let thumbnail = bob
        .media(received.local_id, flint_core::library::Want::Thumbnail)
        .await
        .unwrap();
    assert!(image::open(&thumbnail.path).is_ok(), "its picture is shown");
}

/// Waits for the first picture message `client` holds in `conversation`.
async fn first_picture(
    client: &flint_tests::TestClient,
    conversation: i64,
) -> flint_core::MessageView {
    flint_tests::until(client, "the picture to arrive", || async {
        client
            .all_messages(conversation)
            .await
            .into_iter()
            .find(|m| matches!(m.content, flint_core::ContentView::Image { .. }))
    })
    .await
}

/// A PNG signature and header chunk (64×64) followed by `size` bytes in all of padding.
fn write_png_header_and_padding(path: &std::path::Path, size: u64) {
    let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    header.extend_from_slice(&64u32.to_be_bytes());
    header.extend_from_slice(&64u32.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let file = std::fs::File::create(path).unwrap();
    use std::io::Write;
    let mut out = std::io::BufWriter::new(file);
    out.write_all(&header).unwrap();
    let pad = vec![7u8; 1 << 20];
    let mut left = size - header.len() as u64;
    while left > 0 {
        let n = left.min(pad.len() as u64) as usize;
        out.write_all(&pad[..n]).unwrap();
        left -= n as u64;
    }
}

/// Bytes of every file under `dir`.
fn walkdir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                walkdir_bytes(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[tokio::test]
async fn a_picture_goes_as_an_image_with_its_size_preview_and_thumbnail() {
    let (_data, _server, alice, bob, conversation) = two_clients().await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("照片.png");
    image::RgbImage::from_fn(1600, 900, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .save(&path)
    .unwrap();

    let sent = alice.send_file(conversation, &path).await.unwrap();
    assert!(matches!(
        sent.content,
        flint_core::ContentView::Image {
            width: 1600,
            height: 900,
            animated: false,
            ..
        }
    ));
    // The sender's thumbnail exists before the upload is done.
    let own = alice
        .media(sent.local_id, flint_core::library::Want::Thumbnail)
        .await
        .unwrap();
    assert_eq!(image::image_dimensions(&own.path).unwrap(), (480, 270));

    let received = first_picture(&bob, conversation).await;
    let thumbnail = bob
        .media(received.local_id, flint_core::library::Want::Thumbnail)
        .await
        .unwrap();
    assert_eq!(thumbnail.mime, "image/jpeg");
    assert_eq!(
        image::image_dimensions(&thumbnail.path).unwrap(),
        (480, 270)
    );
    // The small one for screens at one device pixel per CSS pixel, made from it and kept.
    let small = bob
        .media(received.local_id, flint_core::library::Want::SmallThumbnail)
        .await
        .unwrap();
    assert_eq!(image::image_dimensions(&small.path).unwrap(), (240, 135));
    assert_ne!(small.path, thumbnail.path);
    let again = bob
        .media(received.local_id, flint_core::library::Want::SmallThumbnail)
        .await
        .unwrap();
    assert_eq!(again.path, small.path);
    let original = bob
        .media(received.local_id, flint_core::library::Want::Original)
        .await
        .unwrap();
    assert_eq!(sha256_of(&original.path), sha256_of(&path));
    assert_eq!(original.mime, "image/png");
}

#[tokio::test]
async fn a_video_goes_with_its_length_its_size_as_shown_and_its_poster() {
    let (_data, _server, alice, bob, conversation) = two_clients().await;
    let dir = TempDir::new().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let path = dir.path().join("竖屏 会议.mov");
    std::fs::copy(fixtures.join("turned.mov"), &path).unwrap();

    let sent = alice.send_file(conversation, &path).await.unwrap();
    let shown = flint_core::ContentView::Video {
        width: 180,
        height: 320,
        duration_ms: 1200,
        size: std::fs::metadata(&path).unwrap().len(),
    };
    assert_eq!(
        sent.content, shown,
        "turned upright, its length from the file"
    );

    let received = flint_tests::until(&bob, "the video to arrive", || async {
        bob.all_messages(conversation)
            .await
            .into_iter()
            .find(|m| matches!(m.content, flint_core::ContentView::Video { .. }))
    })
    .await;
    assert_eq!(received.content, shown);
    // Its poster: the first picture, upright — a tiny preview in the message and a
    // thumbnail fetched on its own, before (and without) the clip.
    let preview = bob.preview(received.local_id).await.unwrap().unwrap();
    let (w, h) = image::ImageReader::new(std::io::Cursor::new(&preview))
        .with_guessed_format()
        .unwrap()
        .into_dimensions()
        .unwrap();
    assert!(h > w, "the preview is upright: {w} × {h}");
    let poster = bob
        .media(received.local_id, flint_core::library::Want::Thumbnail)
        .await
        .unwrap();
    assert_eq!(poster.mime, "image/jpeg");
    let (w, h) = image::image_dimensions(&poster.path).unwrap();
    assert_eq!(
        w * 320,
        h * 180,
        "the poster has the clip's shape: {w} × {h}"
    );
    assert!(
        !poster.path.ends_with("竖屏 会议.mov"),
        "the poster is not the clip"
    );
    let own = alice
        .media(sent.local_id, flint_core::library::Want::Thumbnail)
        .await
        .unwrap();
    assert_eq!(image::image_dimensions(&own.path).unwrap(), (w, h));

    let original = bob.download_file(received.local_id).await.unwrap();
    assert_eq!(sha256_of(&original), sha256_of(&path));
    assert!(original.ends_with("竖屏 会议.mov"), "{original:?}");
}

/// The names of the uploads in progress in a server's data folder, with their sizes.
fn staging(data: &Path) -> Vec<(String, u64)> {
    std::fs::read_dir(data.join("uploads")).map_or(Vec::new(), |entries| {
        entries
            .flatten()
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.metadata().ok()?.len())))
            .collect()
    })
}

#[tokio::test]
async fn an_upload_resumes_after_the_client_process_is_killed_at_half_way() {
    let binary = Path::new(env!("CARGO_BIN_EXE_flint-client-process"));
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    seed::register(&url, "alice").await;
    let bob = flint_tests::TestClient::register(&url, "bob").await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("安装包.bin");
    const SIZE: u64 = 1 << 30;
    let sha = random_file(&path, SIZE, 30);
    let client_dir = dir.path().join("alice");
    let spawn = |extra: &[&std::ffi::OsStr]| {
        tokio::process::Command::new(binary)
            .arg(url.as_str())
            .arg(&client_dir)
            .arg("alice")
            .args(extra)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };

    let mut first = spawn(&["bob".as_ref(), path.as_os_str()]);
    eventually(
        || staging(data.path()).iter().any(|(_, len)| *len >= SIZE / 2),
        "half of the file is on the server",
    )
    .await;
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let at_kill = staging(data.path());
    assert_eq!(at_kill.len(), 1, "one upload: {at_kill:?}");
    let (upload, held) = at_kill[0].clone();
    assert!(held < SIZE, "killed before the end");

    let mut second = spawn(&[]);
    let seen = std::sync::Mutex::new(vec![upload.clone()]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let received = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "bob never got the file"
        );
        for (name, len) in staging(data.path()) {
            // tus appends only at the server's offset: the upload never goes back, so what is
            // sent again is at most what was in flight when the client died.
            assert!(
                name != upload || len >= held,
                "the upload shrank to {len} from {held}"
            );
            let mut seen = seen.lock().unwrap();
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        let all = bob
            .all_messages(
                bob.conversations()
                    .await
                    .unwrap()
                    .first()
                    .map_or(0, |c| c.id),
            )
            .await;
        if let Some(message) = all
            .into_iter()
            .find(|m| matches!(&m.content, flint_core::ContentView::File { file_id, .. } if !file_id.is_empty()))
        {
            break message;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [upload],
        "the restarted client resumed its upload (from {held} bytes) instead of starting a new one"
    );
    let downloaded = bob.download_file(received.local_id).await.unwrap();
    assert_eq!(sha256_of(&downloaded), sha);
    second.start_kill().unwrap();
}

/// A download cut off by the end of the app's process carries on by itself at the next start
/// (nobody asks again) from what its `.part` file holds, and ends with the whole file.
#[tokio::test]
async fn a_download_carries_on_after_the_client_process_is_killed_at_half_way() {
    let binary = Path::new(env!("CARGO_BIN_EXE_flint-client-process"));
    let mut f = Files::start(|_| {}).await;
    let url = f.server.url();
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("source");
    const SIZE: u64 = 1 << 30;
    let sha = random_file(&path, SIZE, 31);
    let name = "设计稿 v3.bin";
    let file_id = f.alice.upload(&path, name).await.unwrap();
    sent_ok(
        f.alice
            .send(f.direct, file_message(&file_id, name, SIZE))
            .await,
    );
    let client_dir = dir.path().join("bob");
    let spawn = |extra: &[&str]| {
        tokio::process::Command::new(binary)
            .arg(url.as_str())
            .arg(&client_dir)
            .arg("bob")
            .args(extra)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let part = || -> Option<(PathBuf, u64)> {
        let found = files_ending(&client_dir, ".part");
        let path = found.into_iter().next()?;
        let len = std::fs::metadata(&path).ok()?.len();
        Some((path, len))
    };

    let mut first = spawn(&["--fetch"]);
    eventually(
        || part().is_some_and(|(_, len)| len >= SIZE / 2),
        "half of the file is on this device",
    )
    .await;
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let (partial, held) = part().unwrap();
    assert!(held < SIZE, "killed before the end");

    let _second = spawn(&[]);
    let whole = partial.with_extension("");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !whole.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the download never carried on"
        );
        // Continued with a `Range` from where it stood: the part only grows.
        if let Some((_, len)) = part() {
            assert!(len >= held, "the download started over ({len} < {held})");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(whole.ends_with(format!("{file_id}/{name}")), "{whole:?}");
    assert_eq!(sha256_of(&whole), sha);
    eprintln!(
        "download carried on from {held} of {SIZE} bytes: {} MiB fetched after the restart",
        (SIZE - held) >> 20
    );
}

/// The page may ask for an own picture's thumbnail before the one made at sending is kept
/// (the message is shown first), or after it was evicted, while the upload has not finished:
/// the thumbnail is made from the source on this device instead of failing.
#[tokio::test]
async fn an_own_picture_not_uploaded_yet_gets_its_thumbnail_from_the_source() {
    let (_data, server, alice, _bob, conversation) = two_clients().await;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("photo.png");
    image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .save(&path)
    .unwrap();
    // With the server gone, the upload cannot finish: the file has no server id yet.
    server.stop().await;
    let sent = alice.send_file(conversation, &path).await.unwrap();
    let mut todo = vec![alice.dir.path().to_path_buf()];
    while let Some(folder) = todo.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let found = entry.path();
            if found.is_dir() {
                todo.push(found);
            } else if found.parent().is_some_and(|p| p.ends_with("thumbs")) {
                std::fs::remove_file(&found).unwrap();
            }
        }
    }
    let thumbnail = alice
        .media(sent.local_id, flint_core::library::Want::Thumbnail)
        .await;
    let thumbnail = thumbnail.expect("a thumbnail made from the source");
    assert_eq!(thumbnail.mime, "image/jpeg");
    assert!(std::fs::metadata(&thumbnail.path).unwrap().len() > 0);
}
