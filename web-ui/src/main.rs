//! Entry point of the page: mounts the app into `<body>` when the wasm module
//! starts (wasm-bindgen runs `main` on instantiation). See the library docs.

#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(starling_web_ui::app::App);
}

/// A native build exists only so `cargo test` and `cargo clippy` cover the logic.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "starling-web-ui is a web page, not a native program: build it with \
         `cargo xtask build-web` and open it through `starling devnet` (or `cargo xtask demo`)."
    );
    std::process::exit(2);
}
