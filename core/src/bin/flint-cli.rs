//! `flint-cli`: sign in and chat from a terminal — how people poke a Flint server before (or
//! beside) the desktop app.
//!
//! Commands at the prompt: `/chat USER` opens a direct chat, `/group NAME USER…` creates a
//! group, `/list` lists conversations, `/open ID` switches, `/history` shows the last
//! messages, `/send PATH` sends a file (resumed on the next start if the upload is cut off),
//! `/quit` leaves. Any other line is sent to the open conversation.

use std::path::PathBuf;

use clap::Parser;
use flint_core::{Client, ClientConfig, ContentView, Event, MessageView};
use tokio::io::{AsyncBufReadExt, BufReader};
use url::Url;

/// Chat with a Flint server from the terminal.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The server's base URL.
    #[arg(long, env = "FLINT_SERVER", default_value = "http://127.0.0.1:7800")]
    server: Url,
    /// Your username.
    #[arg(long)]
    user: String,
    /// Your password (asked for when absent).
    #[arg(long, env = "FLINT_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Create the account first.
    #[arg(long)]
    register: bool,
    /// Where this terminal's cache lives (default: the user data folder).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Sign in, keep the session in the data folder and exit (prepares a desktop profile).
    #[arg(long)]
    sign_in_only: bool,
    /// Allow a plain http:// server on another machine (passwords cross the network in clear).
    #[arg(long)]
    allow_insecure: bool,
    /// A PEM file of CA certificates to trust besides the system's (a private CA).
    #[arg(long, env = "FLINT_CA_FILE")]
    ca_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flint-cli: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn default_data_dir(user: &str) -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("flint").join("cli").join(user)
}

/// Reads the password before anything else runs (so blocking here stalls nothing).
fn read_password() -> flint_core::Result<String> {
    eprint!("password: ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end().to_owned())
}

async fn run(args: Args) -> flint_core::Result<()> {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| default_data_dir(&args.user));
    let mut config = ClientConfig::new(args.server.clone(), data_dir);
    config.allow_insecure = args.allow_insecure;
    config.device_name = "flint-cli".into();
    if let Some(ca_file) = &args.ca_file {
        config.extra_roots_pem = std::fs::read(ca_file)?;
    }
    let password = match args.password.clone() {
        Some(password) => password,
        None => read_password()?,
    };
    if args.register {
        Client::register(&config, &args.user, &password, "").await?;
    }
    let client = Client::login(config, &args.user, &password).await?;
    if args.sign_in_only {
        println!("signed in as {}; the session is kept", client.me().username);
        client.shutdown().await;
        return Ok(());
    }
    println!(
        "signed in as {} — /chat USER to start, /quit to leave",
        client.me().username
    );
    let printer = tokio::spawn(print_events(client.events(), client.me().id));
    let result = repl(&client).await;
    printer.abort();
    client.shutdown().await;
    result
}

fn describe(message: &MessageView) -> String {
    match &message.content {
        ContentView::Text { body, .. } => body.clone(),
        ContentView::System { kind, .. } => format!("[{kind:?}]"),
        ContentView::File { name, size, .. } => format!("[file: {name}, {size} bytes]"),
        ContentView::Image { width, height, .. } => format!("[image {width}×{height}]"),
        ContentView::Sticker { .. } => "[sticker]".into(),
        ContentView::Voice { duration_ms, .. } => format!("[voice {} s]", duration_ms / 1000),
        ContentView::Video { duration_ms, .. } => format!("[video {} s]", duration_ms / 1000),
        ContentView::Call {
            kind,
            outcome,
            duration_ms,
        } => {
            format!("[{kind:?} call: {outcome:?}, {} s]", duration_ms / 1000)
        }
        ContentView::Unsupported { kind } => format!("[{kind}: not supported here yet]"),
    }
}

async fn print_events(mut events: tokio::sync::broadcast::Receiver<Event>, me: i64) {
    while let Ok(event) = events.recv().await {
        match event {
            Event::MessageAdded { message } if message.sender_id != me => {
                println!(
                    "[{}] {}: {}",
                    message.conversation_id,
                    message.sender_id,
                    describe(&message)
                );
            }
            Event::ConnectionChanged { state } => println!("-- {state:?}"),
            Event::UploadProgress {
                local_id,
                sent,
                total,
                ..
            } => println!("-- upload {local_id}: {sent}/{total}"),
            Event::MessageStatusChanged {
                local_id, status, ..
            } => {
                println!("-- message {local_id}: {status:?}");
            }
            _ => {}
        }
    }
}

async fn repl(client: &Client) -> flint_core::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut current: Option<i64> = None;
    while let Some(line) = lines.next_line().await? {
        let line = line.trim();
        let outcome = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            [] => Ok(()),
            ["/quit"] => return Ok(()),
            ["/list"] => list(client).await,
            ["/open", id] => match id.parse() {
                Ok(id) => {
                    current = Some(id);
                    Ok(())
                }
                Err(_) => Err(flint_core::Error::Invalid(
                    "/open takes a conversation id".into(),
                )),
            },
            ["/chat", user] => open_chat(client, user).await.map(|id| current = Some(id)),
            ["/group", name, users @ ..] => create_group(client, name, users)
                .await
                .map(|id| current = Some(id)),
            ["/history"] => history(client, current).await,
            ["/send", ..] => match current {
                Some(id) => {
                    let path = line.trim_start_matches("/send").trim();
                    client
                        .send_file(id, std::path::Path::new(path))
                        .await
                        .map(|_| ())
                }
                None => Err(flint_core::Error::Invalid(
                    "open a conversation first".into(),
                )),
            },
            _ if line.starts_with('/') => Err(flint_core::Error::Invalid("unknown command".into())),
            _ => match current {
                Some(id) => client.send_text(id, line).await.map(|_| ()),
                None => Err(flint_core::Error::Invalid(
                    "open a conversation first".into(),
                )),
            },
        };
        if let Err(error) = outcome {
            println!("!! {error}");
        }
    }
    Ok(())
}

async fn list(client: &Client) -> flint_core::Result<()> {
    for conversation in client.conversations().await? {
        let preview = conversation
            .last_message
            .as_ref()
            .map(describe)
            .unwrap_or_default();
        println!(
            "{:>6}  {:<24} {:>3} unread  {}",
            conversation.id, conversation.title, conversation.unread, preview
        );
    }
    Ok(())
}

async fn find_user(client: &Client, username: &str) -> flint_core::Result<i64> {
    client
        .search_users(username)
        .await?
        .into_iter()
        .find(|user| user.username.eq_ignore_ascii_case(username))
        .map(|user| user.id)
        .ok_or(flint_core::Error::NotFound("user"))
}

async fn open_chat(client: &Client, username: &str) -> flint_core::Result<i64> {
    let conversation = client
        .open_direct(find_user(client, username).await?)
        .await?;
    println!(
        "chatting with {} (conversation {})",
        conversation.title, conversation.id
    );
    Ok(conversation.id)
}

async fn create_group(client: &Client, name: &str, users: &[&str]) -> flint_core::Result<i64> {
    let mut ids = Vec::new();
    for user in users {
        ids.push(find_user(client, user).await?);
    }
    let group = client.create_group(name, &ids).await?;
    println!("created group {} (conversation {})", group.title, group.id);
    Ok(group.id)
}

async fn history(client: &Client, current: Option<i64>) -> flint_core::Result<()> {
    let id = current.ok_or(flint_core::Error::Invalid(
        "open a conversation first".into(),
    ))?;
    client.mark_read(id).await?;
    for message in client.messages(id, None, 20).await? {
        println!(
            "{:>6} {}: {} ({:?})",
            message.local_id,
            message.sender_id,
            describe(&message),
            message.status
        );
    }
    Ok(())
}
