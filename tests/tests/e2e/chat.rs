//! Two people chat: both directions, order, statuses, typing, unread, drafts, CJK.

use flint_core::{Event, MessageStatus};
use flint_tests::{texts, until};

use crate::{assert_sequence, send_sequence, wait_for_count, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_and_bob_chat_both_ways_in_order() {
    let pair = Pair::start().await;
    send_sequence(&pair.alice, pair.conversation_id, "a", 20).await;
    let got = wait_for_count(&pair.bob, pair.conversation_id, 20).await;
    assert_sequence(&got, "a", 20);
    send_sequence(&pair.bob, pair.conversation_id, "b", 20).await;
    let got = wait_for_count(&pair.alice, pair.conversation_id, 40).await;
    assert_sequence(&got[20..], "b", 20);
    assert!(got[..20].iter().all(|m| m.is_own));
    assert!(got[20..]
        .iter()
        .all(|m| !m.is_own && m.sender_id == pair.bob.me().id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_go_sending_sent_delivered_read() {
    let pair = Pair::start().await;
    let mut events = pair.alice.events();
    let sent = pair
        .alice
        .send_text(pair.conversation_id, "你好, bob")
        .await
        .unwrap();
    assert_eq!(sent.status, MessageStatus::Sending);
    let mut seen = vec![sent.status];
    let mut mark_read_done = false;
    while seen.last() != Some(&MessageStatus::Read) {
        let event = tokio::time::timeout(flint_tests::users::PATIENCE, events.recv())
            .await
            .expect("status events arrive")
            .unwrap();
        if let Event::MessageStatusChanged {
            local_id, status, ..
        } = event
        {
            if local_id == sent.local_id && seen.last() != Some(&status) {
                seen.push(status);
            }
        }
        if seen.last() == Some(&MessageStatus::Delivered) && !mark_read_done {
            let on_bob = wait_for_count(&pair.bob, pair.conversation_id, 1).await;
            assert_eq!(texts(&on_bob), ["你好, bob"]);
            pair.bob.mark_read(pair.conversation_id).await.unwrap();
            mark_read_done = true;
        }
    }
    assert_eq!(
        seen,
        [
            MessageStatus::Sending,
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Read
        ]
    );
    let stored = pair.alice.message(sent.local_id).await.unwrap().unwrap();
    assert_eq!(stored.status, MessageStatus::Read);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_and_read_markers() {
    let pair = Pair::start().await;
    send_sequence(&pair.alice, pair.conversation_id, "m", 3).await;
    let view = until(&pair.bob, "3 unread", || async {
        let view = pair.bob.conversation(pair.conversation_id).await.unwrap()?;
        (view.unread == 3).then_some(view)
    })
    .await;
    assert_eq!(view.title, "alice");
    assert_eq!(texts(&[view.last_message.unwrap()]), ["m 2"]);
    pair.bob.mark_read(pair.conversation_id).await.unwrap();
    let view = pair
        .bob
        .conversation(pair.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.unread, 0);
    let alice_view = pair
        .alice
        .conversation(pair.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice_view.unread, 0, "own messages are never unread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_other_side() {
    let pair = Pair::start().await;
    let mut events = pair.bob.events();
    pair.alice.typing(pair.conversation_id).await.unwrap();
    let alice_id = pair.alice.me().id;
    loop {
        let event = tokio::time::timeout(flint_tests::users::PATIENCE, events.recv())
            .await
            .expect("typing arrives")
            .unwrap();
        if let Event::Typing {
            conversation_id,
            user_id,
        } = event
        {
            assert_eq!((conversation_id, user_id), (pair.conversation_id, alice_id));
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_survive_a_restart_and_clear_on_send() {
    let mut pair = Pair::start().await;
    pair.alice
        .set_draft(pair.conversation_id, "半句话")
        .await
        .unwrap();
    pair.alice.restart().await;
    assert_eq!(
        pair.alice
            .draft(pair.conversation_id)
            .await
            .unwrap()
            .as_deref(),
        Some("半句话")
    );
    let view = pair
        .alice
        .conversation(pair.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.draft.as_deref(), Some("半句话"));
    pair.alice
        .send_text(pair.conversation_id, "半句话 and the rest")
        .await
        .unwrap();
    assert_eq!(pair.alice.draft(pair.conversation_id).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_and_cjk_are_stored_as_plain_text() {
    let pair = Pair::start().await;
    let hostile = "<img src=x onerror=alert(1)> 张伟说：“你好” 🎉";
    pair.alice
        .send_text(pair.conversation_id, hostile)
        .await
        .unwrap();
    let got = wait_for_count(&pair.bob, pair.conversation_id, 1).await;
    assert_eq!(texts(&got), [hostile]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_oversized_text_is_refused_before_sending() {
    let pair = Pair::start().await;
    let empty = pair.alice.send_text(pair.conversation_id, "   ").await;
    assert_eq!(
        empty.unwrap_err().code(),
        flint_proto::ErrorCode::BadRequest
    );
    let huge = "字".repeat(8_001);
    let oversized = pair.alice.send_text(pair.conversation_id, &huge).await;
    assert_eq!(
        oversized.unwrap_err().code(),
        flint_proto::ErrorCode::BadRequest
    );
    assert_eq!(pair.alice.outbox_len().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_search_finds_cjk_display_names() {
    let pair = Pair::start().await;
    let config = flint_tests::users::client_config(&pair.server.url(), &pair.alice.dir);
    flint_core::Client::register(&config, "zhangwei", flint_tests::users::PASSWORD, "张伟")
        .await
        .unwrap();
    let found = pair.alice.search_users("张").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].username, "zhangwei");
    let none = pair.alice.search_users("李").await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_both_ways_from_any_message() {
    let pair = Pair::start().await;
    send_sequence(&pair.alice, pair.conversation_id, "m", 30).await;
    let all = wait_for_count(&pair.bob, pair.conversation_id, 30).await;
    let middle = all[10].local_id;
    let before = pair
        .bob
        .messages(pair.conversation_id, Some(middle), 5)
        .await
        .unwrap();
    let after = pair
        .bob
        .messages_after(pair.conversation_id, middle, 5)
        .await
        .unwrap();
    assert_eq!(texts(&before), ["m 5", "m 6", "m 7", "m 8", "m 9"]);
    assert_eq!(texts(&after), ["m 11", "m 12", "m 13", "m 14", "m 15"]);
    let tail = pair
        .bob
        .messages_after(pair.conversation_id, all[27].local_id, 50)
        .await
        .unwrap();
    assert_eq!(texts(&tail), ["m 28", "m 29"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_and_muted_are_kept_and_announced() {
    let pair = Pair::start().await;
    let (alice, id) = (&pair.alice, pair.conversation_id);
    let flags = || async {
        let view = alice.conversation(id).await.unwrap().unwrap();
        (view.pinned, view.muted)
    };
    let mut events = alice.events();
    alice.set_pinned(id, true).await.unwrap();
    alice.set_muted(id, true).await.unwrap();
    assert_eq!(flags().await, (true, true));
    loop {
        let event = tokio::time::timeout(flint_tests::users::PATIENCE, events.recv())
            .await
            .expect("the change is announced")
            .unwrap();
        if let Event::ConversationUpdated { conversation } = event {
            if conversation.pinned && conversation.muted {
                break;
            }
        }
    }
    alice.set_pinned(id, false).await.unwrap();
    assert_eq!(flags().await, (false, true));
    assert!(alice.set_muted(987_654, true).await.is_err());
}
