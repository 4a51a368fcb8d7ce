fn main() {
    // Declaring the app's commands makes each one a permission: the capability file then grants
    // exactly these to the main window and nothing else.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
        "app_state",
        "add_paths",
        "remove_folder",
        "reindex_folder",
        "folder_files",
        "unlock_file",
        "ask",
        "stop_answer",
        "list_chats",
        "chat_messages",
        "delete_chat",
        "rename_chat",
        "export_chat",
        "open_source",
        "models",
        "import_model",
        "download_model",
        "cancel_download",
        "get_settings",
        "set_settings",
    ])))
    .expect("tauri build configuration");
}
