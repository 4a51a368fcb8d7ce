//! The catalog's schema as ordered migrations. A library written by an older Folio is brought up
//! to date step by step, each step in one transaction with the version it reaches, after a
//! consistent copy of the database is kept beside it (`catalog.sqlite.v1.bak`): a migration that
//! goes wrong never costs the user their library.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`. Never edit one that has shipped:
/// add the next.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema (IF NOT EXISTS: libraries from before versioning were stamped 0).
    "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES folders(id),
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT,
    status TEXT NOT NULL CHECK (status IN ('indexed', 'failed', 'skipped')),
    reason TEXT,
    extractor TEXT,
    extractor_version INTEGER,
    pages INTEGER,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_folder ON files(folder_id);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id),
    ord INTEGER NOT NULL,
    page INTEGER,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id, ord);
CREATE INDEX IF NOT EXISTS chunks_by_seq ON chunks(seq);
CREATE TABLE IF NOT EXISTS removed_chunks (chunk_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS removed_by_seq ON removed_chunks(seq);
CREATE TABLE IF NOT EXISTS chats (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    -- For answers: the retrieval query used and the citations, as JSON.
    details TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_chat ON messages(chat_id, id);
",
    // 1 → 2: a folder whose root is missing, unreadable or suddenly empty (an unmounted drive) is
    // marked unavailable, with the reason, instead of losing its index.
    "ALTER TABLE folders ADD COLUMN unavailable TEXT;",
    // 2 → 3: a file that failed because it needs a password the run did not have; it is tried
    // again when one is given.
    "ALTER TABLE files ADD COLUMN needs_password INTEGER NOT NULL DEFAULT 0;",
];

/// The version this Folio writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// What opening did to the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    pub from: i64,
    pub to: i64,
    /// The copy kept before the first step, when an existing library was migrated.
    pub backup: Option<PathBuf>,
}

/// Brings the database at `path` (open as `db`) to `target`, keeping a copy first when it holds
/// an older library. A newer schema than `target` is the caller's to refuse.
pub fn migrate(db: &mut Connection, path: &Path, target: i64) -> rusqlite::Result<Migrated> {
    let from: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut migrated = Migrated { from, to: from, backup: None };
    if from >= target {
        return Ok(migrated);
    }
    let has_tables: bool = db.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'folders')",
        [],
        |r| r.get(0),
    )?;
    if has_tables {
        let backup = backup_path(path, from);
        // VACUUM INTO writes a consistent copy, WAL contents included; an old copy is replaced.
        let _ = std::fs::remove_file(&backup);
        db.execute("VACUUM INTO ?1", [backup.to_string_lossy()])?;
        migrated.backup = Some(backup);
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(from as usize).take((target - from) as usize) {
        let tx = db.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))?;
        tx.commit()?;
        migrated.to = version as i64 + 1;
    }
    Ok(migrated)
}

fn backup_path(path: &Path, version: i64) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    path.with_file_name(format!("{name}.v{version}.bak"))
}

/// A database at an older schema, for tests of migration: what an older Folio wrote.
pub fn create_at_version(path: &Path, version: i64) -> rusqlite::Result<Connection> {
    let mut db = Connection::open(path)?;
    migrate(&mut db, path, version)?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_every_step_and_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let mut db = Connection::open(&path).unwrap();
        let done = migrate(&mut db, &path, LATEST).unwrap();
        assert_eq!(done, Migrated { from: 0, to: LATEST, backup: None });
        // Again: nothing to do.
        assert_eq!(migrate(&mut db, &path, LATEST).unwrap().to, LATEST);
    }

    #[test]
    fn an_old_library_is_kept_aside_then_migrated_with_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let db = create_at_version(&path, 1).unwrap();
        db.execute("INSERT INTO folders (path, added_at) VALUES ('/docs', 1)", []).unwrap();
        drop(db);
        let mut db = Connection::open(&path).unwrap();
        let done = migrate(&mut db, &path, LATEST).unwrap();
        assert_eq!((done.from, done.to), (1, LATEST));
        let backup = done.backup.expect("a copy is kept");
        let copy = Connection::open(&backup).unwrap();
        let version: i64 = copy.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 1, "the copy is the library as it was");
        let (folder, unavailable): (String, Option<String>) =
            db.query_row("SELECT path, unavailable FROM folders", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((folder.as_str(), unavailable), ("/docs", None));
    }

    #[test]
    fn a_failing_step_leaves_the_version_it_had() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let db = create_at_version(&path, 1).unwrap();
        // A column the next step adds already exists: the step fails, nothing is half-done.
        db.execute_batch("ALTER TABLE folders ADD COLUMN unavailable TEXT;").unwrap();
        drop(db);
        let mut db = Connection::open(&path).unwrap();
        assert!(migrate(&mut db, &path, LATEST).is_err());
        let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 1);
    }
}
