//! Groups: fan-out to every member, membership changes as notices, removed members cut off.

use flint_core::{ContentView, ConversationKind};
use flint_tests::server::test_config;
use flint_tests::{texts, until, TestClient, TestServer};
use tempfile::TempDir;

use crate::wait_for_count;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_member_group_reaches_everyone_and_removed_members_stop_receiving() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let mut members = Vec::new();
    for i in 0..50 {
        members.push(TestClient::register(&url, &format!("member{i:02}")).await);
    }
    let owner = &members[0];
    let others: Vec<i64> = members[1..].iter().map(|m| m.me().id).collect();
    let group = owner
        .create_group("全员群 All hands", &others)
        .await
        .unwrap();
    assert_eq!(group.kind, ConversationKind::Group);
    assert_eq!(group.member_count, 50);

    owner.send_text(group.id, "hello all 大家好").await.unwrap();
    for member in &members {
        let got = wait_for_count(member, group.id, 2).await;
        assert_eq!(texts(&got), ["[group_created]", "hello all 大家好"]);
        until(member, "the group's name", || async {
            let view = member.conversation(group.id).await.unwrap()?;
            (view.title == "全员群 All hands").then_some(())
        })
        .await;
    }

    let removed = &members[49];
    owner
        .remove_members(group.id, &[removed.me().id])
        .await
        .unwrap();
    owner.send_text(group.id, "after removal").await.unwrap();
    for member in &members[1..49] {
        let got = wait_for_count(member, group.id, 4).await;
        assert_eq!(texts(&got[2..]), ["[members_removed]", "after removal"]);
    }
    let removed_view = until(removed, "the removal notice", || async {
        let view = removed.conversation(group.id).await.unwrap()?;
        (!view.is_member).then_some(view)
    })
    .await;
    assert!(!removed_view.is_member);
    let on_removed = removed.all_messages(group.id).await;
    assert_eq!(
        texts(&on_removed),
        ["[group_created]", "hello all 大家好", "[members_removed]"]
    );
    let refused = removed.send_text(group.id, "let me back").await;
    assert!(refused.is_err(), "a removed member cannot send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_added_and_leave_with_notices() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let owner = TestClient::register(&url, "owner").await;
    let carol = TestClient::register(&url, "carol").await;
    let dave = TestClient::register(&url, "dave").await;
    let group = owner.create_group("team", &[carol.me().id]).await.unwrap();
    owner.add_members(group.id, &[dave.me().id]).await.unwrap();
    let on_dave = wait_for_count(&dave, group.id, 1).await;
    match &on_dave[0].content {
        ContentView::System { kind, targets, .. } => {
            assert_eq!(*kind, flint_core::NoticeKind::MembersAdded);
            assert_eq!(targets, &vec![dave.me().id]);
        }
        other => panic!("expected a notice, got {other:?}"),
    }
    let members = until(&dave, "dave to see 3 members", || async {
        let members = dave.members(group.id).await.unwrap();
        (members.len() == 3).then_some(members)
    })
    .await;
    assert_eq!(members[0].role, flint_core::Role::Owner);

    carol.leave_group(group.id).await.unwrap();
    let on_owner = wait_for_count(&owner, group.id, 3).await;
    assert_eq!(
        texts(&on_owner),
        ["[group_created]", "[members_added]", "[member_left]"]
    );
    let not_owner = dave.remove_members(group.id, &[owner.me().id]).await;
    assert_eq!(
        not_owner.unwrap_err().code(),
        flint_proto::ErrorCode::Forbidden
    );
}
