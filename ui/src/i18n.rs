//! zh-CN and en strings. Every visible string goes through [`tr`].

use leptos::prelude::*;

/// The UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    /// Simplified Chinese.
    Zh,
    /// English.
    En,
}

impl Locale {
    /// The OS/webview language, Chinese for any `zh*`.
    pub fn detect() -> Self {
        let language = web_sys::window()
            .and_then(|w| w.navigator().language())
            .unwrap_or_default();
        if language.to_lowercase().starts_with("zh") {
            Self::Zh
        } else {
            Self::En
        }
    }

    /// The other language.
    pub fn toggled(self) -> Self {
        match self {
            Self::Zh => Self::En,
            Self::En => Self::Zh,
        }
    }
}

/// (key, English, Chinese).
const STRINGS: &[(&str, &str, &str)] = &[
    (
        "app.tagline",
        "Fast, open, self-hosted chat",
        "快速、开放、可私有部署的即时通讯",
    ),
    ("signin.title", "Sign in to Flint", "登录 Flint"),
    (
        "signin.register_title",
        "Create your Flint account",
        "创建 Flint 账号",
    ),
    ("signin.server", "Server address", "服务器地址"),
    ("signin.username", "Username", "用户名"),
    ("signin.password", "Password", "密码"),
    (
        "signin.display_name",
        "Display name (optional)",
        "显示名称（可选）",
    ),
    ("signin.submit", "Sign in", "登录"),
    ("signin.register", "Create account", "注册"),
    (
        "signin.to_register",
        "No account yet? Create one",
        "还没有账号？立即注册",
    ),
    (
        "signin.to_signin",
        "Have an account? Sign in",
        "已有账号？去登录",
    ),
    ("signin.working", "Connecting…", "正在连接…"),
    (
        "error.invalid_credentials",
        "Wrong username or password.",
        "用户名或密码错误。",
    ),
    (
        "error.conflict",
        "That username is taken.",
        "该用户名已被占用。",
    ),
    (
        "error.unavailable",
        "Cannot reach the server. Check the address and your network.",
        "无法连接服务器，请检查地址和网络。",
    ),
    (
        "error.registration_closed",
        "This server does not allow sign-ups. Ask your administrator.",
        "该服务器未开放注册，请联系管理员。",
    ),
    (
        "error.bad_request",
        "Please check what you entered.",
        "请检查输入的内容。",
    ),
    ("error.other", "Something went wrong.", "出错了。"),
    (
        "error.rate_limited",
        "Too many attempts. Please wait and try again.",
        "尝试次数过多，请稍后再试。",
    ),
    (
        "error.insecure",
        "This address is not encrypted (http://). Use https://, or allow an insecure connection below if you trust this network.",
        "该地址未加密（http://）。请使用 https://；若信任当前网络，可在下方允许不安全连接。",
    ),
    (
        "signin.allow_insecure",
        "Allow an insecure connection (passwords and messages are sent unencrypted)",
        "允许不安全连接（密码和消息将以明文传输）",
    ),
    ("failed.not_sent", "Not sent:", "未发送："),
    ("failed.too_large", "the message is too long for the server.", "消息超出服务器长度限制。"),
    ("failed.forbidden", "you can no longer send to this chat.", "你已无法在此会话发送消息。"),
    ("failed.invalid", "the server refused it.", "服务器拒绝了该消息。"),
    ("failed.other", "the server kept failing.", "服务器多次出错。"),
    ("failed.retry", "Retry", "重试"),
    ("failed.delete", "Delete", "删除"),
    ("devices.title", "My devices", "我的设备"),
    ("devices.this", "This device", "本机"),
    ("devices.sign_out", "Sign out", "退出登录"),
    ("devices.last_seen", "Last active", "最近活动"),
    ("role.owner", "owner", "群主"),
    ("role.admin", "admin", "管理员"),
    ("notice.unknown", "changed the group", "更新了群聊"),
    ("nav.chats", "Chats", "消息"),
    ("nav.settings", "Settings", "设置"),
    ("nav.sign_out", "Sign out", "退出登录"),
    ("nav.language", "中文", "English"),
    ("nav.theme", "Toggle dark mode", "切换深色模式"),
    ("list.search", "Search (Ctrl+K)", "搜索 (Ctrl+K)"),
    ("list.new_chat", "New chat", "发起聊天"),
    ("list.empty", "No conversations yet", "还没有会话"),
    ("list.start", "Start a chat", "发起聊天"),
    ("list.draft", "[Draft]", "[草稿]"),
    (
        "chat.none",
        "Pick a conversation, or start a new one.",
        "选择一个会话，或发起新的聊天。",
    ),
    ("chat.members", "members", "位成员"),
    (
        "chat.load_more",
        "Loading earlier messages…",
        "正在加载更早的消息…",
    ),
    (
        "chat.unsupported",
        "This message type is not supported yet",
        "暂不支持该消息类型",
    ),
    ("chat.typing", "is typing…", "正在输入…"),
    ("preview.file", "File", "文件"),
    (
        "failed.quota",
        "your storage on the server is full.",
        "你在服务器上的存储空间已满。",
    ),
    (
        "failed.type",
        "the server does not accept this type of file.",
        "服务器不接受此类文件。",
    ),
    ("failed.cancelled", "the upload was cancelled.", "已取消上传。"),
    ("failed.file_too_large", "the file is larger than the server accepts.", "文件超出服务器允许的大小。"),
    ("preview.call_audio", "Voice call", "语音通话"),
    ("preview.call_video", "Video call", "视频通话"),
    ("call.missed", "Missed", "未接听"),
    ("call.declined", "Declined", "已拒绝"),
    ("call.cancelled", "Cancelled", "已取消"),
    ("call.busy", "Busy", "对方忙线"),
    ("call.hung_up", "Duration", "通话时长"),
    ("call.connection_lost", "Connection lost", "连接中断"),
    ("call.answered_elsewhere", "Answered on another device", "已在其他设备接听"),
    ("call.failed", "Call failed", "通话失败"),
    ("call.unknown", "Call ended", "通话已结束"),
    ("call.title", "Call", "通话"),
    ("call.calling", "Calling…", "正在呼叫…"),
    ("call.incoming", "Incoming call", "来电"),
    ("call.connecting", "Connecting…", "正在连接…"),
    ("call.connected", "Connected", "通话中"),
    ("call.length", "Call length", "通话时长"),
    ("call.quality_good", "Network: good", "网络良好"),
    ("call.quality_fair", "Network: fair", "网络一般"),
    ("call.quality_poor", "Network: poor", "网络较差"),
    ("call.ended", "Call ended", "通话已结束"),
    ("call.accept", "Accept", "接听"),
    ("call.hang_up", "Hang up", "挂断"),
    ("call.mute", "Mute", "静音"),
    ("call.camera_off", "Turn the camera off", "关闭摄像头"),
    ("call.remote_camera_off", "Their camera is off", "对方已关闭摄像头"),
    ("call.close", "Close", "关闭"),
    ("call.start_audio", "Voice call", "语音通话"),
    ("call.start_video", "Video call", "视频通话"),
    ("preview.image", "Picture", "图片"),
    ("preview.sticker", "Sticker", "动画表情"),
    ("preview.voice", "Voice", "语音"),
    ("preview.video", "Video", "视频"),
    ("composer.attach", "Send files", "发送文件"),
    ("staging.title", "Send files", "发送文件"),
    ("staging.send", "Send", "发送"),
    ("staging.cancel", "Cancel", "取消"),
    ("staging.remove", "Remove", "移除"),
    (
        "staging.refused",
        "These files could not be sent (empty, moved or unreadable); the others went.",
        "以下文件无法发送（为空、已移动或无法读取），其余文件已发送。",
    ),
    ("media.open_picture", "Open picture", "查看图片"),
    ("media.uploading", "Uploading", "正在上传"),
    ("media.cancel_upload", "Cancel upload", "取消上传"),
    ("media.downloading", "Downloading", "正在下载"),
    ("media.cancel_download", "Cancel download", "取消下载"),
    ("media.open", "Open", "打开"),
    ("media.show_in_folder", "Show in folder", "在文件夹中显示"),
    ("media.play", "Play", "播放"),
    ("media.pause", "Pause", "暂停"),
    (
        "problem.file_gone",
        "This file is no longer available on the server.",
        "服务器上已没有这个文件。",
    ),
    (
        "problem.offline",
        "The file could not be fetched: the server cannot be reached.",
        "无法获取文件：连接不到服务器。",
    ),
    (
        "problem.file_damaged",
        "The file arrived damaged. Please try again.",
        "文件下载后已损坏，请重试。",
    ),
    ("problem.cannot_open", "The file could not be opened.", "无法打开文件。"),
    (
        "problem.cannot_reveal",
        "The file could not be shown in its folder.",
        "无法在文件夹中显示文件。",
    ),
    ("problem.cannot_save", "The file could not be saved.", "无法保存文件。"),
    (
        "problem.cannot_copy",
        "The picture could not be copied.",
        "无法复制图片。",
    ),
    ("problem.dismiss", "Dismiss", "关闭"),
    (
        "problem.no_microphone",
        "No microphone was found. Connect one, or check the system's sound settings.",
        "未找到麦克风。请连接麦克风，或检查系统的声音设置。",
    ),
    (
        "problem.voice_too_short",
        "Too short: hold on for at least a second.",
        "说话时间太短，至少需要一秒。",
    ),
    (
        "problem.voice_failed",
        "The voice message could not be recorded.",
        "无法录制语音消息。",
    ),
    (
        "problem.peer_busy",
        "They are in another call. Try again later.",
        "对方正在通话中，请稍后再拨。",
    ),
    (
        "problem.call_offline",
        "The call could not be placed: the server cannot be reached.",
        "无法发起通话：连接不到服务器。",
    ),
    (
        "problem.call_failed",
        "The call could not be placed.",
        "无法发起通话。",
    ),
    ("call.remote_video", "The other person's video", "对方的视频"),
    ("voice.record", "Record a voice message", "录制语音消息"),
    ("voice.recording", "Recording…", "正在录音…"),
    ("voice.full", "A minute at most: send it or cancel", "最长一分钟：请发送或取消"),
    ("voice.cancel", "Cancel recording", "取消录音"),
    ("viewer.title", "Picture", "图片"),
    ("viewer.previous", "Previous picture", "上一张"),
    ("viewer.next", "Next picture", "下一张"),
    ("viewer.zoom_in", "Zoom in", "放大"),
    ("viewer.zoom_out", "Zoom out", "缩小"),
    ("viewer.save", "Save as…", "另存为…"),
    ("viewer.copy", "Copy", "复制"),
    ("viewer.copied", "Copied", "已复制"),
    ("viewer.close", "Close", "关闭"),
    ("viewer.add_sticker", "Add to stickers", "添加到表情"),
    ("viewer.sticker_added", "Added to stickers", "已添加到表情"),
    ("sticker.open", "Stickers", "表情"),
    ("sticker.panel", "My stickers", "我的表情"),
    (
        "sticker.empty",
        "No stickers yet. Open a picture and choose “Add to stickers”.",
        "还没有表情。打开一张图片，点击“添加到表情”。",
    ),
    ("sticker.send", "Send sticker", "发送表情"),
    ("sticker.remove", "Remove sticker", "移除表情"),
    (
        "problem.sticker_too_large",
        "Too large for a sticker: a sticker is at most 2 MB.",
        "图片太大：表情最大为 2 MB。",
    ),
    (
        "problem.sticker_failed",
        "The sticker action failed. You can keep at most 300 stickers.",
        "表情操作失败。最多可以保存 300 个表情。",
    ),
    ("chat.new_messages", "new messages", "条新消息"),
    ("chat.pin", "Pin to top", "置顶聊天"),
    ("chat.unpin", "Unpin", "取消置顶"),
    ("chat.mute", "Mute notifications", "消息免打扰"),
    ("chat.unmute", "Unmute", "取消免打扰"),
    ("profile.title", "My profile", "个人资料"),
    ("profile.username", "Username", "用户名"),
    ("profile.id", "User ID", "用户 ID"),
    ("profile.settings", "Settings", "设置"),
    ("profile.language", "Language", "语言"),
    ("profile.dark", "Dark mode", "深色模式"),
    (
        "profile.close_to_tray",
        "Keep running in the tray when the window is closed",
        "关闭窗口时最小化到托盘",
    ),
    (
        "profile.hardware_acceleration",
        "Use hardware acceleration (after a restart)",
        "使用硬件加速（重启后生效）",
    ),
    (
        "composer.placeholder",
        "Type a message. Enter to send, Shift+Enter for a new line",
        "输入消息，Enter 发送，Shift+Enter 换行",
    ),
    ("composer.send", "Send", "发送"),
    ("status.sending", "Sending", "发送中"),
    ("status.sent", "Sent", "已发送"),
    ("status.delivered", "Delivered", "已送达"),
    ("status.read", "Read", "已读"),
    ("status.failed", "Not sent", "发送失败"),
    ("banner.connecting", "Connecting…", "正在连接…"),
    ("banner.syncing", "Syncing…", "正在同步…"),
    (
        "banner.reconnecting",
        "Offline — reconnecting",
        "网络已断开，正在重连",
    ),
    (
        "banner.signed_out",
        "Your session ended. Please sign in again.",
        "登录已失效，请重新登录。",
    ),
    ("new.title", "New chat", "发起聊天"),
    ("new.search", "Search people by name", "按名称搜索联系人"),
    ("new.group_name", "Group name", "群聊名称"),
    ("new.create_group", "Create group", "创建群聊"),
    ("new.none", "No one found", "没有找到用户"),
    ("new.close", "Close", "关闭"),
    ("notice.group_created", "created the group", "创建了群聊"),
    ("notice.members_added", "added", "邀请了"),
    ("notice.members_removed", "removed", "移除了"),
    ("notice.member_left", "left the group", "退出了群聊"),
    ("notice.group_renamed", "renamed the group", "修改了群名"),
    ("members.title", "Members", "群成员"),
];

/// The string for `key` in `locale` (the key itself if missing, so gaps are visible).
pub fn tr(locale: Locale, key: &'static str) -> &'static str {
    STRINGS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, zh)| match locale {
            Locale::En => *en,
            Locale::Zh => *zh,
        })
        .unwrap_or(key)
}

/// A reactive translator bound to the app's locale.
pub fn use_tr() -> impl Fn(&'static str) -> &'static str + Copy {
    let locale = expect_context::<RwSignal<Locale>>();
    move |key| tr(locale.get(), key)
}
