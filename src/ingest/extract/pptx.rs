//! PPTX (PowerPoint 2007+): a slide is a page, numbered in presentation order; the speaker
//! notes of a slide follow its text on the same page.

use std::path::Path;

use super::archive::Archive;
use super::xml::{attr, walk, Node, Skip};
use super::{tidy, ExtractError, Extraction, Extractor, Page};

pub struct Pptx;

const FORMAT: &str = "PPTX";
const PRESENTATION: &str = "ppt/presentation.xml";

impl Extractor for Pptx {
    fn name(&self) -> &'static str {
        "pptx"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["pptx", "pptm", "ppsx", "potx"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let mut archive = Archive::open(bytes, FORMAT)?;
        let slides = slide_parts(&mut archive)?;
        let mut pages = Vec::new();
        let mut warnings = Vec::new();
        for (index, part) in slides.iter().enumerate() {
            let number = index as u32 + 1;
            let Some(xml) = archive.read_text_optional(part)? else {
                warnings.push(format!("slide {number} is missing from the file"));
                continue;
            };
            let mut text = String::new();
            if let Err(stop) = walk(&xml, drawing_text(&mut text)) {
                warnings.push(stop.warning(&format!("slide {number}")));
            }
            let notes = archive.relationships(part)?.into_iter().find(|r| r.kind.ends_with("/notesSlide"));
            if let Some(xml) = notes.map(|r| archive.read_text_optional(&r.target)).transpose()?.flatten() {
                let mut notes = String::new();
                if let Err(stop) = walk(&xml, drawing_text(&mut notes)) {
                    warnings.push(stop.warning(&format!("the notes of slide {number}")));
                }
                if !notes.trim().is_empty() {
                    text.push_str("\n\nNotes:\n");
                    text.push_str(&notes);
                }
            }
            let text = tidy(&text);
            if !text.is_empty() {
                pages.push(Page { number: Some(number), text });
            }
        }
        if pages.is_empty() {
            return Err(ExtractError::NoText(format!("none of the {} slides has text", slides.len())));
        }
        Ok(Extraction { pages, warnings })
    }
}

/// Slide parts in presentation order: the `sldIdLst` of presentation.xml through its
/// relationships; files that lack it (damaged or minimal writers) fall back to slide file order.
fn slide_parts(archive: &mut Archive<'_>) -> Result<Vec<String>, ExtractError> {
    let rels = archive.relationships(PRESENTATION)?;
    let mut ordered = Vec::new();
    if let Some(xml) = archive.read_text_optional(PRESENTATION)? {
        let _ = walk(&xml, |node| {
            if let Node::Open { name: "sldId", tag } = node {
                if let Some(id) = attr(tag, "r:id") {
                    if let Some(rel) = rels.iter().find(|r| r.id == id) {
                        ordered.push(rel.target.clone());
                    }
                }
            }
        });
    }
    if ordered.is_empty() {
        let mut found: Vec<(u32, String)> = archive
            .names()
            .iter()
            .filter_map(|n| {
                let number = n.strip_prefix("ppt/slides/slide")?.strip_suffix(".xml")?.parse().ok()?;
                Some((number, n.clone()))
            })
            .collect();
        found.sort();
        ordered = found.into_iter().map(|(_, n)| n).collect();
    }
    if ordered.is_empty() {
        return Err(ExtractError::Malformed {
            format: FORMAT.into(),
            detail: "it has no slides; the file is damaged or not a presentation".into(),
        });
    }
    Ok(ordered)
}

/// DrawingML text: `a:t` runs, paragraphs on their own lines, table cells separated by tabs.
fn drawing_text(out: &mut String) -> impl FnMut(Node<'_>) + '_ {
    let mut skip = Skip::default();
    let mut in_text = 0usize;
    move |node| match node {
        Node::Open { name, .. } => {
            if skip.enter(name, &["Fallback"]) {
                return;
            }
            match name {
                "t" => in_text += 1,
                "br" => out.push('\n'),
                _ => {}
            }
        }
        Node::Close { name } => {
            if skip.leave() {
                return;
            }
            match name {
                "t" => in_text = in_text.saturating_sub(1),
                "p" => out.push('\n'),
                "tc" => {
                    while out.ends_with('\n') {
                        out.pop();
                    }
                    out.push('\t');
                }
                "tr" => out.push('\n'),
                // Each shape is a block of its own.
                "sp" | "graphicFrame" => out.push('\n'),
                _ => {}
            }
        }
        Node::Text(t) => {
            if in_text > 0 && !skip.active() {
                out.push_str(t);
            }
        }
    }
}
