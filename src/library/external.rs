//! Opening a cited file in the desktop's own app. Only documents: the default handler of a shell
//! script, a `.desktop` launcher or a `.bat` file runs it, and a library holds whatever the user's
//! folders hold. The URL of a PDF page is built with percent-encoding, so a `#` or a space in a
//! file name opens that file, not another.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What the face hands to the desktop's opener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalOpen {
    Path(PathBuf),
    /// A `file://` URL with a `#page=N` fragment (PDF viewers open at that page).
    Url(String),
}

/// Extensions opened outside Folio: documents whose default apps show them, never run them.
const DOCUMENTS: &[&str] = &[
    "pdf", "txt", "text", "md", "markdown", "rst", "org", "tex", "log", "rtf", "doc", "docx", "odt", "ppt", "pptx",
    "odp", "xls", "xlsx", "ods", "csv", "tsv", "epub", "fb2", "djvu", "html", "htm", "xhtml", "eml", "msg", "json",
    "xml", "yaml", "yml", "toml",
];

/// How to open `path` (at `page` for a PDF), or why Folio will not hand it to another app.
pub fn external_open(path: &Path, page: Option<u32>) -> Result<ExternalOpen> {
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    if !DOCUMENTS.contains(&extension.as_str()) {
        let kind = if extension.is_empty() {
            "A file without an extension".to_string()
        } else {
            format!("A .{extension} file")
        };
        return Err(Error::InvalidInput(format!(
            "{kind} could run as a program in another app, so Folio does not open {} outside: its cited passage is shown here.",
            path.display()
        )));
    }
    match page.filter(|_| extension == "pdf") {
        None => Ok(ExternalOpen::Path(path.to_path_buf())),
        Some(page) => {
            let mut url = url::Url::from_file_path(path)
                .map_err(|()| Error::InvalidInput(format!("{} is not an absolute path", path.display())))?;
            url.set_fragment(Some(&format!("page={page}")));
            Ok(ExternalOpen::Url(url.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_open_and_programs_do_not() {
        assert_eq!(external_open(Path::new("/d/a.docx"), Some(3)).unwrap(), ExternalOpen::Path("/d/a.docx".into()));
        for program in ["/d/run.sh", "/d/app.desktop", "/d/x.bat", "/d/tool.py", "/d/noext", "/d/a.pdf.exe"] {
            let refused = external_open(Path::new(program), None).unwrap_err().to_string();
            assert!(refused.contains("could run as a program"), "{program}: {refused}");
        }
    }

    #[test]
    fn a_page_url_is_percent_encoded() {
        let url = external_open(Path::new("/d/Q#3 report 100%.pdf"), Some(7)).unwrap();
        assert_eq!(url, ExternalOpen::Url("file:///d/Q%233%20report%20100%25.pdf#page=7".into()));
        assert_eq!(external_open(Path::new("/d/a.PDF"), None).unwrap(), ExternalOpen::Path("/d/a.PDF".into()));
    }
}
