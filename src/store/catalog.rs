//! The catalog: one SQLite file, the library's source of truth. Folders, files (with size, mtime,
//! content hash, status and reason), chunks with their text, place and embedding. The keyword and
//! vector indexes are derived from it.
//!
//! Every change that adds or removes chunks takes the next sequence number; chunks remember the
//! number that added them and removed chunks are logged with the number that removed them. A
//! derived index records the number it has caught up to, and catching up is replaying what came
//! after. A file's chunks are replaced in one transaction: a file is indexed whole or not at all.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::migrations;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Indexed,
    Failed,
    Skipped,
}

impl FileStatus {
    fn as_str(self) -> &'static str {
        match self {
            FileStatus::Indexed => "indexed",
            FileStatus::Failed => "failed",
            FileStatus::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> FileStatus {
        match s {
            "indexed" => FileStatus::Indexed,
            "failed" => FileStatus::Failed,
            _ => FileStatus::Skipped,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Folder {
    pub id: i64,
    pub path: PathBuf,
    /// Why the folder cannot be read now (missing, unreadable, suddenly empty): its index is kept
    /// until it comes back. `None`: available.
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRow {
    pub id: i64,
    pub folder_id: i64,
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: Option<String>,
    pub status: FileStatus,
    pub reason: Option<String>,
    pub extractor: Option<String>,
    pub extractor_version: Option<i64>,
    pub pages: Option<i64>,
    pub chunks: i64,
    /// It failed because it is password-protected and no password given opened it.
    pub needs_password: bool,
}

/// A chunk ready to be stored.
pub struct NewChunk<'a> {
    pub page: Option<u32>,
    pub start: usize,
    pub end: usize,
    pub tokens: usize,
    pub text: &'a str,
    pub vector: &'a [f32],
}

/// Everything known about a file that has just been read.
pub struct FileRecord<'a> {
    pub folder_id: i64,
    pub path: &'a Path,
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: Option<&'a str>,
    pub extractor: Option<&'a str>,
    /// The version of the readers that read it (the caller's: the catalog does not know them).
    pub extractor_version: Option<i64>,
    pub pages: Option<usize>,
}

/// Chunk ids a change added and removed, and the sequence number it took.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub seq: i64,
    pub added: Vec<i64>,
    pub removed: Vec<i64>,
}

/// A stored chunk with where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkRow {
    pub id: i64,
    pub file_id: i64,
    pub path: PathBuf,
    pub ord: i64,
    pub page: Option<u32>,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CatalogStats {
    pub folders: u64,
    pub files_indexed: u64,
    pub files_failed: u64,
    pub files_skipped: u64,
    pub chunks: u64,
    pub tokens: u64,
    pub bytes: u64,
}

pub struct Catalog {
    path: PathBuf,
    /// Writes go through one connection; reads (searches while indexing) use the other, which WAL
    /// mode lets run alongside a write.
    pub(super) writer: Mutex<Connection>,
    pub(super) reader: Mutex<Connection>,
}

pub(super) fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

pub fn vector_to_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn blob_to_vector(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

impl Catalog {
    pub fn open(path: &Path) -> Result<Self> {
        let err = |source| Error::Catalog { path: path.to_path_buf(), source };
        let mut writer = Connection::open(path).map_err(err)?;
        writer
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
            .map_err(err)?;
        let version: i64 = writer.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        if version > migrations::LATEST {
            return Err(Error::InvalidInput(format!(
                "the library at {} was written by a newer Folio (schema {version}); update Folio to open it",
                path.display()
            )));
        }
        let migrated = migrations::migrate(&mut writer, path, migrations::LATEST).map_err(err)?;
        if let Some(backup) = &migrated.backup {
            tracing::info!(
                "library schema {} → {}; the library as it was is kept at {}",
                migrated.from,
                migrated.to,
                backup.display()
            );
        }
        let reader = Connection::open(path).map_err(err)?;
        reader.execute_batch("PRAGMA busy_timeout = 10000; PRAGMA query_only = ON;").map_err(err)?;
        Ok(Catalog { path: path.to_path_buf(), writer: Mutex::new(writer), reader: Mutex::new(reader) })
    }

    pub(super) fn err(&self, source: rusqlite::Error) -> Error {
        Error::Catalog { path: self.path.clone(), source }
    }

    pub(super) fn write(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn read(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.read()
            .query_row("SELECT CAST(value AS TEXT) FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.write()
            .execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                [key, value],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The sequence number of the latest change.
    pub fn seq(&self) -> Result<i64> {
        Ok(self.meta("seq")?.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    fn next_seq(tx: &rusqlite::Transaction) -> rusqlite::Result<i64> {
        let seq: i64 = tx
            .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'", [], |r| r.get(0))
            .optional()?
            .unwrap_or(0)
            + 1;
        tx.execute("INSERT INTO meta(key, value) VALUES ('seq', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1", [seq])?;
        Ok(seq)
    }

    /// Moves a file's chunks to the removed log under `seq`.
    fn remove_chunks_of(tx: &rusqlite::Transaction, file_id: i64, seq: i64) -> rusqlite::Result<Vec<i64>> {
        let ids: Vec<i64> = tx
            .prepare_cached("SELECT id FROM chunks WHERE file_id = ?1")?
            .query_map([file_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        tx.execute(
            "INSERT OR REPLACE INTO removed_chunks(chunk_id, seq) SELECT id, ?2 FROM chunks WHERE file_id = ?1",
            [file_id, seq],
        )?;
        tx.execute("DELETE FROM chunks WHERE file_id = ?1", [file_id])?;
        Ok(ids)
    }

    // ---- folders ----

    pub fn folders(&self) -> Result<Vec<Folder>> {
        let conn = self.read();
        let mut stmt =
            conn.prepare("SELECT id, path, unavailable FROM folders ORDER BY path").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Folder { id: r.get(0)?, path: PathBuf::from(r.get::<_, String>(1)?), unavailable: r.get(2)? })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e));
        rows
    }

    /// Adds a folder (an absolute, canonical path). A folder inside one already added is that
    /// folder; folders inside the new one are merged into it.
    pub fn add_folder(&self, path: &Path) -> Result<Folder> {
        if let Some(outer) = self.folders()?.into_iter().find(|f| path.starts_with(&f.path)) {
            return Ok(outer);
        }
        let mut conn = self.write();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute("INSERT INTO folders(path, added_at) VALUES (?1, ?2)", params![path_text(path), now_secs()])
            .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        let inner: Vec<(i64, String)> = tx
            .prepare("SELECT id, path FROM folders WHERE id != ?1")
            .and_then(|mut s| s.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|e| self.err(e))?;
        for (inner_id, inner_path) in inner {
            if Path::new(&inner_path).starts_with(path) {
                tx.execute("UPDATE files SET folder_id = ?1 WHERE folder_id = ?2", [id, inner_id])
                    .map_err(|e| self.err(e))?;
                tx.execute("DELETE FROM folders WHERE id = ?1", [inner_id]).map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Folder { id, path: path.to_path_buf(), unavailable: None })
    }

    /// Marks a folder unavailable with the reason, or available again (`None`).
    pub fn set_folder_unavailable(&self, folder_id: i64, reason: Option<&str>) -> Result<()> {
        self.write()
            .execute("UPDATE folders SET unavailable = ?1 WHERE id = ?2", params![reason, folder_id])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forgets a folder and everything indexed from it.
    pub fn remove_folder(&self, folder_id: i64) -> Result<Change> {
        let mut conn = self.write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err(e))?;
        let seq = Self::next_seq(&tx).map_err(|e| self.err(e))?;
        let files: Vec<i64> = tx
            .prepare("SELECT id FROM files WHERE folder_id = ?1")
            .and_then(|mut s| s.query_map([folder_id], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))?;
        let mut removed = Vec::new();
        for file_id in files {
            removed.extend(Self::remove_chunks_of(&tx, file_id, seq).map_err(|e| self.err(e))?);
            tx.execute("DELETE FROM files WHERE id = ?1", [file_id]).map_err(|e| self.err(e))?;
        }
        tx.execute("DELETE FROM folders WHERE id = ?1", [folder_id]).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Change { seq, added: Vec::new(), removed })
    }

    // ---- files ----

    fn file_from_row(r: &rusqlite::Row) -> rusqlite::Result<FileRow> {
        Ok(FileRow {
            id: r.get(0)?,
            folder_id: r.get(1)?,
            path: PathBuf::from(r.get::<_, String>(2)?),
            size: r.get::<_, i64>(3)? as u64,
            mtime_ns: r.get(4)?,
            hash: r.get(5)?,
            status: FileStatus::parse(&r.get::<_, String>(6)?),
            reason: r.get(7)?,
            extractor: r.get(8)?,
            extractor_version: r.get(9)?,
            pages: r.get(10)?,
            chunks: r.get(11)?,
            needs_password: r.get(12)?,
        })
    }

    const FILE_COLUMNS: &'static str =
        "id, folder_id, path, size, mtime_ns, hash, status, reason, extractor, extractor_version, pages, chunk_count, \
         needs_password";

    pub fn files_in_folder(&self, folder_id: i64) -> Result<Vec<FileRow>> {
        let conn = self.read();
        let sql = format!("SELECT {} FROM files WHERE folder_id = ?1 ORDER BY path", Self::FILE_COLUMNS);
        let rows = conn
            .prepare(&sql)
            .and_then(|mut s| s.query_map([folder_id], Self::file_from_row)?.collect())
            .map_err(|e| self.err(e));
        rows
    }

    pub fn file_by_path(&self, path: &Path) -> Result<Option<FileRow>> {
        let sql = format!("SELECT {} FROM files WHERE path = ?1", Self::FILE_COLUMNS);
        self.read().query_row(&sql, [path_text(path)], Self::file_from_row).optional().map_err(|e| self.err(e))
    }

    /// Stores a file's new chunks in place of its old ones, in one transaction.
    pub fn commit_file(&self, record: &FileRecord, chunks: &[NewChunk], warnings: Option<&str>) -> Result<Change> {
        let mut conn = self.write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err(e))?;
        let change = (|| -> rusqlite::Result<Change> {
            let seq = Self::next_seq(&tx)?;
            let file_id = Self::upsert_file(&tx, record, FileStatus::Indexed, warnings, chunks.len(), false)?;
            let removed = Self::remove_chunks_of(&tx, file_id, seq)?;
            let mut added = Vec::with_capacity(chunks.len());
            let mut insert = tx.prepare_cached(
                "INSERT INTO chunks(file_id, ord, page, start_char, end_char, tokens, text, vector, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for (ord, c) in chunks.iter().enumerate() {
                insert.execute(params![
                    file_id,
                    ord as i64,
                    c.page,
                    c.start as i64,
                    c.end as i64,
                    c.tokens as i64,
                    c.text,
                    vector_to_blob(c.vector),
                    seq
                ])?;
                added.push(tx.last_insert_rowid());
            }
            drop(insert);
            Ok(Change { seq, added, removed })
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(change)
    }

    /// Records a file that was not (re)indexed, with the reason, and whether a password would read
    /// it. Chunks of an earlier readable version stay searchable: nothing already indexed is lost
    /// to a bad update.
    pub fn record_unindexed(
        &self,
        record: &FileRecord,
        status: FileStatus,
        reason: &str,
        needs_password: bool,
    ) -> Result<()> {
        let mut conn = self.write();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let kept: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM chunks JOIN files ON files.id = chunks.file_id WHERE files.path = ?1",
                [path_text(record.path)],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let reason = if kept > 0 {
            format!("{reason}; the previously indexed version stays searchable")
        } else {
            reason.to_string()
        };
        Self::upsert_file(&tx, record, status, Some(&reason), kept as usize, needs_password)
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Updates size and mtime of a file whose content did not change.
    pub fn touch_file(&self, file_id: i64, size: u64, mtime_ns: i64) -> Result<()> {
        self.write()
            .execute(
                "UPDATE files SET size = ?2, mtime_ns = ?3, updated_at = ?4 WHERE id = ?1",
                params![file_id, size as i64, mtime_ns, now_secs()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn upsert_file(
        tx: &rusqlite::Transaction,
        r: &FileRecord,
        status: FileStatus,
        reason: Option<&str>,
        chunk_count: usize,
        needs_password: bool,
    ) -> rusqlite::Result<i64> {
        let extractor_version = r.extractor_version;
        tx.query_row(
            "INSERT INTO files(folder_id, path, size, mtime_ns, hash, status, reason, extractor, extractor_version, pages, chunk_count, updated_at, needs_password)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(path) DO UPDATE SET folder_id = ?1, size = ?3, mtime_ns = ?4, hash = COALESCE(?5, hash), status = ?6,
                 reason = ?7, extractor = COALESCE(?8, extractor), extractor_version = ?9, pages = COALESCE(?10, pages),
                 chunk_count = ?11, updated_at = ?12, needs_password = ?13
             RETURNING id",
            params![
                r.folder_id,
                path_text(r.path),
                r.size as i64,
                r.mtime_ns,
                r.hash,
                status.as_str(),
                reason,
                r.extractor,
                extractor_version,
                r.pages.map(|p| p as i64),
                chunk_count as i64,
                now_secs(),
                needs_password
            ],
            |row| row.get(0),
        )
    }

    /// Removes files (gone from disk) and their chunks.
    pub fn remove_files(&self, file_ids: &[i64]) -> Result<Change> {
        if file_ids.is_empty() {
            return Ok(Change::default());
        }
        let mut conn = self.write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.err(e))?;
        let seq = Self::next_seq(&tx).map_err(|e| self.err(e))?;
        let mut removed = Vec::new();
        for &file_id in file_ids {
            removed.extend(Self::remove_chunks_of(&tx, file_id, seq).map_err(|e| self.err(e))?);
            tx.execute("DELETE FROM files WHERE id = ?1", [file_id]).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Change { seq, added: Vec::new(), removed })
    }

    // ---- chunks ----

    /// Calls `each` with batches of `(id, text, vector)` of the chunks added after `seq` (all live
    /// chunks when `seq` is 0), in id order.
    pub fn for_each_chunk_after(
        &self,
        seq: i64,
        mut each: impl FnMut(&[(i64, String, Vec<f32>)]) -> Result<()>,
    ) -> Result<()> {
        let mut last_id = 0i64;
        loop {
            let batch: Vec<(i64, String, Vec<f32>)> = {
                let conn = self.read();
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT id, text, vector FROM chunks WHERE id > ?1 AND seq > ?2 ORDER BY id LIMIT 2048",
                    )
                    .map_err(|e| self.err(e))?;
                let rows = stmt
                    .query_map([last_id, seq], |r| Ok((r.get(0)?, r.get(1)?, blob_to_vector(&r.get::<_, Vec<u8>>(2)?))))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(|e| self.err(e))?;
                rows
            };
            let Some(last) = batch.last() else { return Ok(()) };
            last_id = last.0;
            each(&batch)?;
        }
    }

    /// Calls `each` with the id and text of every chunk of a file.
    pub fn for_each_chunk_of_file(&self, file_id: i64, mut each: impl FnMut(i64, &str)) -> Result<()> {
        let conn = self.read();
        let mut stmt =
            conn.prepare_cached("SELECT id, text FROM chunks WHERE file_id = ?1").map_err(|e| self.err(e))?;
        let mut rows = stmt.query([file_id]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id: i64 = row.get(0).map_err(|e| self.err(e))?;
            let text = row.get_ref(1).and_then(|v| Ok(v.as_str()?)).map_err(|e| self.err(e))?;
            each(id, text);
        }
        Ok(())
    }

    /// Chunk ids removed after `seq`.
    pub fn removed_after(&self, seq: i64) -> Result<Vec<i64>> {
        let conn = self.read();
        let rows = conn
            .prepare_cached("SELECT chunk_id FROM removed_chunks WHERE seq > ?1")
            .and_then(|mut s| s.query_map([seq], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e));
        rows
    }

    /// Forgets removal records every derived index has applied.
    pub fn prune_removed(&self, upto_seq: i64) -> Result<()> {
        self.write().execute("DELETE FROM removed_chunks WHERE seq <= ?1", [upto_seq]).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The chunks with these ids that still exist, in the order asked.
    pub fn chunks(&self, ids: &[i64]) -> Result<Vec<ChunkRow>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT c.id, c.file_id, f.path, c.ord, c.page, c.start_char, c.end_char, c.text
                 FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id = ?1",
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = stmt
                .query_row([id], |r| {
                    Ok(ChunkRow {
                        id: r.get(0)?,
                        file_id: r.get(1)?,
                        path: PathBuf::from(r.get::<_, String>(2)?),
                        ord: r.get(3)?,
                        page: r.get(4)?,
                        start: r.get::<_, i64>(5)? as usize,
                        end: r.get::<_, i64>(6)? as usize,
                        text: r.get(7)?,
                    })
                })
                .optional()
                .map_err(|e| self.err(e))?;
            out.extend(row);
        }
        Ok(out)
    }

    /// The chunk at position `ord` of a file, if there is one.
    pub fn chunk_at(&self, file_id: i64, ord: i64) -> Result<Option<ChunkRow>> {
        let conn = self.read();
        conn.query_row(
            "SELECT c.id, c.file_id, f.path, c.ord, c.page, c.start_char, c.end_char, c.text
             FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.file_id = ?1 AND c.ord = ?2",
            [file_id, ord],
            |r| {
                Ok(ChunkRow {
                    id: r.get(0)?,
                    file_id: r.get(1)?,
                    path: PathBuf::from(r.get::<_, String>(2)?),
                    ord: r.get(3)?,
                    page: r.get(4)?,
                    start: r.get::<_, i64>(5)? as usize,
                    end: r.get::<_, i64>(6)? as usize,
                    text: r.get(7)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.err(e))
    }

    /// All chunks of a file in order.
    pub fn chunks_of_file(&self, file_id: i64) -> Result<Vec<ChunkRow>> {
        let ids: Vec<i64> = {
            let conn = self.read();
            let ids = conn
                .prepare("SELECT id FROM chunks WHERE file_id = ?1 ORDER BY ord")
                .and_then(|mut s| s.query_map([file_id], |r| r.get(0))?.collect())
                .map_err(|e| self.err(e))?;
            ids
        };
        self.chunks(&ids)
    }

    /// Vectors of the chunks with these ids.
    /// The chunk ids of the file at `path`, or of every file under it when it is a folder.
    pub fn chunk_ids_under(&self, path: &Path) -> Result<Vec<i64>> {
        let exact = path_text(path);
        // Under the folder: paths that begin with it and a separator (compared as text, case and
        // all: LIKE would ignore case and take `_` and `%` as wildcards).
        let folder = if exact.ends_with('/') { exact.clone() } else { format!("{exact}/") };
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT chunks.id FROM chunks JOIN files ON files.id = chunks.file_id
                 WHERE files.path = ?1 OR substr(files.path, 1, length(?2)) = ?2 ORDER BY chunks.id",
            )
            .map_err(|e| self.err(e))?;
        let ids = stmt.query_map(params![exact, folder], |r| r.get(0)).and_then(|rows| rows.collect());
        ids.map_err(|e| self.err(e))
    }

    pub fn vectors(&self, ids: &[i64]) -> Result<Vec<(i64, Vec<f32>)>> {
        let conn = self.read();
        let mut stmt = conn.prepare_cached("SELECT vector FROM chunks WHERE id = ?1").map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(blob) = stmt.query_row([id], |r| r.get::<_, Vec<u8>>(0)).optional().map_err(|e| self.err(e))? {
                out.push((id, blob_to_vector(&blob)));
            }
        }
        Ok(out)
    }

    pub fn stats(&self) -> Result<CatalogStats> {
        let conn = self.read();
        let mut stats = CatalogStats::default();
        let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|v| v as u64);
        (|| -> rusqlite::Result<()> {
            stats.folders = q("SELECT COUNT(*) FROM folders")?;
            stats.files_indexed = q("SELECT COUNT(*) FROM files WHERE status = 'indexed'")?;
            stats.files_failed = q("SELECT COUNT(*) FROM files WHERE status = 'failed'")?;
            stats.files_skipped = q("SELECT COUNT(*) FROM files WHERE status = 'skipped'")?;
            stats.chunks = q("SELECT COUNT(*) FROM chunks")?;
            stats.tokens = q("SELECT COALESCE(SUM(tokens), 0) FROM chunks")?;
            Ok(())
        })()
        .map_err(|e| self.err(e))?;
        stats.bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(self.path.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
        Ok(stats)
    }
}
