//! `DISPLAY=:N flint-clipboard-image`: prints the picture on that display's clipboard as
//! `WIDTH HEIGHT SHA256-OF-RGBA`, or fails when there is none. The desktop suites read what
//! the app copied with it (the clipboard client needs `DISPLAY` in its own environment).

use sha2::{Digest, Sha256};

fn main() -> std::process::ExitCode {
    let image = arboard::Clipboard::new().and_then(|mut clipboard| clipboard.get_image());
    match image {
        Ok(image) => {
            let digest = Sha256::digest(&image.bytes);
            println!("{} {} {}", image.width, image.height, hex::encode(digest));
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("no picture on the clipboard: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
