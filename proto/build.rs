//! Compiles `flint.proto` with protox (pure Rust), so no `protoc` binary is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=flint.proto");
    println!("cargo:rerun-if-changed=build.rs");
    let descriptors = protox::compile(["flint.proto"], ["."])?;
    prost_build::Config::new()
        .type_attribute(
            ".flint.v1.ErrorCode",
            "#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = \"snake_case\")]",
        )
        // `Auth` carries the session token: its Debug (in lib.rs) leaves it out.
        .skip_debug([".flint.v1.Auth"])
        .compile_fds(descriptors)?;
    Ok(())
}
