//! Generates the bare window's Tauri context.

fn main() {
    tauri_build::build();
}
