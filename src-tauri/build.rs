//! Tauri's build step: reads `tauri.conf.json`, embeds the start page and the icons.

fn main() {
    tauri_build::build();
}
