//! Stickers in the real app: a picture carol sent is kept from the viewer, shows in the
//! composer's sticker panel, and goes back to her as a sticker; removed, the panel (the
//! server's list) is empty again.

use crate::files::{loaded, send_picture, DaveAndCarol};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_kept_from_the_viewer_is_sent_from_the_sticker_panel() {
    let chat = DaveAndCarol::start().await;
    let DaveAndCarol {
        app,
        mut carol,
        direct,
        ..
    } = chat;
    send_picture(&mut carol, direct, 300, 200).await;
    app.find_text(".row .row-preview", "[Picture]").await;
    app.click(".row").await;
    loaded(&app, ".bubble.picture .picture-full").await;

    app.click("#sticker-open").await;
    app.find(".sticker-panel .sticker-empty").await;
    app.screenshot("sticker-panel-empty").await;
    app.click("#sticker-open").await;

    app.click(".bubble.picture .picture-open").await;
    app.click("#viewer-sticker").await;
    app.find("#viewer-sticker[data-added='true'][aria-label='Added to stickers']")
        .await;
    app.click("#viewer-close").await;

    app.click("#sticker-open").await;
    loaded(&app, ".sticker-panel .sticker-choice img").await;
    app.screenshot("sticker-panel").await;
    app.click(".sticker-panel .sticker-choice[aria-label='Send sticker 1']")
        .await;
    let sent = ".message.own:not([data-status='sending']):not([data-status='failed']) .sticker";
    app.find(sent).await;
    loaded(&app, ".message.own .sticker .picture-full").await;
    let style = app.find(".message.own .sticker").await.attr("style").await;
    assert_eq!(style.unwrap().as_deref(), Some("width:160px;height:107px"));
    app.screenshot("sticker-sent").await;

    app.click("#sticker-open").await;
    app.click(".sticker-panel .sticker-remove").await;
    app.find(".sticker-panel .sticker-empty").await;
    app.click("#sticker-open").await;
    app.click("#sticker-open").await;
    app.find(".sticker-panel .sticker-empty").await;
    app.close().await;
}
