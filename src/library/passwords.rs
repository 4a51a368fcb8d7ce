//! Passwords for password-protected files, held in memory while the library is open and never
//! written anywhere: the command line reads them from a file the user keeps (`--password-file`),
//! the window asks for one file's password when the user clicks it. A file that needs a password
//! is tried again when one is given; a password given for one file that does not open it is
//! forgotten, so a typing mistake does not retry the file on every change of its folder.
//!
//! Kept in memory rather than in the desktop's keyring: the keyring is a service that many Linux
//! desktops lack, and the file, once read, is in the index; what a password buys is one reading of
//! the file, not access to it later.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Library;
use crate::error::{Error, IoContext, Result};

/// The longest password taken (PDF passwords are at most 127 bytes; this leaves room for any
/// encoding without letting a wrong file be read as thousands of passwords).
const MAX_PASSWORD_BYTES: usize = 1024;
/// At most this many passwords from one file: each is tried on every password-protected file.
const MAX_PASSWORDS: usize = 256;

#[derive(Default)]
pub(crate) struct PasswordBook {
    /// Given for one file (the window's prompt).
    for_files: HashMap<PathBuf, String>,
    /// Tried on every password-protected file (`--password-file`).
    for_all: Vec<String>,
}

impl PasswordBook {
    /// What to try on `path`, its own password first.
    pub(crate) fn candidates(&self, path: &Path) -> Vec<String> {
        let mut candidates: Vec<String> = self.for_files.get(path).cloned().into_iter().collect();
        for password in &self.for_all {
            if !candidates.contains(password) {
                candidates.push(password.clone());
            }
        }
        candidates
    }

    pub(crate) fn has_any_for(&self, path: &Path) -> bool {
        !self.for_all.is_empty() || self.for_files.contains_key(path)
    }

    /// `path`'s own password did not open it.
    pub(crate) fn forget(&mut self, path: &Path) {
        self.for_files.remove(path);
    }
}

/// The passwords of a password file: one per line (line endings removed, nothing else, since a
/// password may begin or end with a space), blank lines skipped.
pub fn read_password_file(path: &Path) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).at(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::InvalidInput(format!("{}: a password file is text in UTF-8", path.display())))?;
    let passwords: Vec<String> = text
        .lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if passwords.is_empty() {
        return Err(Error::InvalidInput(format!("{} holds no password (one per line)", path.display())));
    }
    if passwords.len() > MAX_PASSWORDS {
        return Err(Error::InvalidInput(format!(
            "{} holds {} lines; a password file holds at most {MAX_PASSWORDS} passwords",
            path.display(),
            passwords.len()
        )));
    }
    passwords.iter().try_for_each(|p| check(p))?;
    Ok(passwords)
}

fn check(password: &str) -> Result<()> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::InvalidInput(format!("a password has 1 to {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

impl Library {
    /// Passwords tried on every password-protected file of the runs that follow.
    pub fn add_passwords(&self, passwords: Vec<String>) -> Result<()> {
        passwords.iter().try_for_each(|p| check(p))?;
        let mut book = self.passwords.lock().unwrap_or_else(|p| p.into_inner());
        for password in passwords {
            if !book.for_all.contains(&password) {
                book.for_all.push(password);
            }
        }
        Ok(())
    }

    /// The password of one file of the library that needs one; the next run of its folder tries
    /// it. Returns the folder to index again.
    pub fn set_file_password(&self, path: &Path, password: &str) -> Result<PathBuf> {
        check(password)?;
        let row = self.catalog.file_by_path(path)?.filter(|row| row.needs_password).ok_or_else(|| {
            Error::InvalidInput(format!("{} is not a file of the library that needs a password", path.display()))
        })?;
        let folder = self.catalog.folders()?.into_iter().find(|f| f.id == row.folder_id).map(|f| f.path);
        let folder = folder.ok_or_else(|| Error::InvalidInput(format!("{} is in no folder", path.display())))?;
        let mut book = self.passwords.lock().unwrap_or_else(|p| p.into_inner());
        book.for_files.insert(path.to_path_buf(), password.to_string());
        Ok(folder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_own_password_comes_first_and_a_failed_one_is_forgotten() {
        let mut book = PasswordBook::default();
        let (a, b) = (Path::new("/docs/a.pdf"), Path::new("/docs/b.pdf"));
        assert!(!book.has_any_for(a));
        book.for_files.insert(a.into(), "own".into());
        book.for_all = vec!["shared".into(), "own".into()];
        assert_eq!(book.candidates(a), ["own", "shared"]);
        assert_eq!(book.candidates(b), ["shared", "own"]);
        book.forget(a);
        assert_eq!(book.candidates(a), ["shared", "own"]);
    }

    #[test]
    fn password_files_keep_spaces_and_refuse_what_is_not_a_list_of_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwords");
        std::fs::write(&file, " with spaces \r\n\nsecond\n").unwrap();
        assert_eq!(read_password_file(&file).unwrap(), [" with spaces ", "second"]);
        std::fs::write(&file, "\n\n").unwrap();
        assert!(read_password_file(&file).is_err(), "no password");
        std::fs::write(&file, [0xff, 0xfe, 0x00]).unwrap();
        assert!(read_password_file(&file).is_err(), "not text");
        std::fs::write(&file, "p\n".repeat(MAX_PASSWORDS + 1)).unwrap();
        assert!(read_password_file(&file).is_err(), "too many");
        assert!(read_password_file(&dir.path().join("missing")).is_err());
    }
}
