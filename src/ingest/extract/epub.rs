//! EPUB: the spine's documents in reading order, each read as HTML; a chapter (a spine document)
//! is a page, numbered by its place in the spine.

use std::path::Path;

use super::archive::{resolve, Archive};
use super::html::html_to_text;
use super::xml::{attr, walk, Node};
use super::{out_of_time, text, tidy, ExtractError, Extraction, Extractor, Page};

pub struct Epub;

const FORMAT: &str = "EPUB";

impl Extractor for Epub {
    fn name(&self) -> &'static str {
        "epub"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["epub"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let mut archive = Archive::open(bytes, FORMAT)?;
        let chapters = spine(&mut archive)?;
        let protected = drm_protected(&mut archive)?;
        if chapters.iter().any(|c| protected.contains(c)) {
            return Err(ExtractError::Encrypted);
        }
        let mut pages = Vec::new();
        let mut warnings = Vec::new();
        for (index, part) in chapters.iter().enumerate() {
            if out_of_time() {
                warnings.push(format!("only {index} of {} chapters were read within the time limit", chapters.len()));
                break;
            }
            let Some(bytes) = archive.read_optional(part)? else {
                warnings.push(format!("chapter {} ({part}) is missing from the file", index + 1));
                continue;
            };
            if text::looks_binary(&bytes) {
                warnings.push(format!("chapter {} ({part}) is not text", index + 1));
                continue;
            }
            let text = tidy(&html_to_text(&text::decode(&bytes)));
            if !text.is_empty() {
                pages.push(Page { number: Some(index as u32 + 1), text });
            }
        }
        if pages.is_empty() {
            return Err(ExtractError::NoText(format!("none of the {} chapters has text", chapters.len())));
        }
        Ok(Extraction { pages, warnings })
    }
}

/// The documents of the spine, as archive entry names. Without a usable package document, every
/// XHTML file in name order.
fn spine(archive: &mut Archive<'_>) -> Result<Vec<String>, ExtractError> {
    let mut package = None;
    if let Some(xml) = archive.read_text_optional("META-INF/container.xml")? {
        let _ = walk(&xml, |node| {
            if let Node::Open { name: "rootfile", tag } = node {
                if package.is_none() {
                    package = attr(tag, "full-path");
                }
            }
        });
    }
    let package = package
        .filter(|p| archive.find(p).is_some())
        .or_else(|| archive.names().iter().find(|n| n.to_ascii_lowercase().ends_with(".opf")).cloned());
    let mut chapters = Vec::new();
    if let Some(package) = package {
        let xml = archive.read_text(&package)?;
        let mut manifest: Vec<(String, String, String)> = Vec::new();
        let mut order: Vec<String> = Vec::new();
        let _ = walk(&xml, |node| {
            if let Node::Open { name, tag } = node {
                match name {
                    "item" => {
                        if let (Some(id), Some(href)) = (attr(tag, "id"), attr(tag, "href")) {
                            manifest.push((id, resolve(&package, &href), attr(tag, "media-type").unwrap_or_default()));
                        }
                    }
                    "itemref" => order.extend(attr(tag, "idref")),
                    _ => {}
                }
            }
        });
        for id in order {
            if let Some((_, part, media)) = manifest.iter().find(|(i, _, _)| *i == id) {
                let text =
                    media.is_empty() || media.contains("html") || (media.contains("xml") && !media.contains("svg"));
                if text && !chapters.contains(part) {
                    chapters.push(part.clone());
                }
            }
        }
    }
    if chapters.is_empty() {
        let mut names: Vec<String> = archive
            .names()
            .iter()
            .filter(|n| {
                let n = n.to_ascii_lowercase();
                n.ends_with(".xhtml") || n.ends_with(".html") || n.ends_with(".htm")
            })
            .cloned()
            .collect();
        names.sort();
        chapters = names;
    }
    if chapters.is_empty() {
        return Err(ExtractError::Malformed {
            format: FORMAT.into(),
            detail: "it has no chapters (no package document and no XHTML files); the file is damaged".into(),
        });
    }
    Ok(chapters)
}

/// Resources listed as encrypted in META-INF/encryption.xml. Font obfuscation lists fonts there
/// too, which is harmless; a chapter listed there means DRM.
fn drm_protected(archive: &mut Archive<'_>) -> Result<Vec<String>, ExtractError> {
    let Some(xml) = archive.read_text_optional("META-INF/encryption.xml")? else { return Ok(Vec::new()) };
    let mut protected = Vec::new();
    let _ = walk(&xml, |node| {
        if let Node::Open { name: "CipherReference", tag } = node {
            if let Some(uri) = attr(tag, "URI") {
                protected.push(resolve("", &uri));
            }
        }
    });
    Ok(protected)
}
