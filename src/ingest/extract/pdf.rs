//! PDF, page by page, so every chunk knows its page and one bad page costs that page only.
//!
//! Each page goes through these steps until one gives readable text:
//! 1. pdf-extract (the layout-aware reader), with its panics caught;
//! 2. lopdf's own text extraction, a simpler second reader, when pdf-extract fails, panics or
//!    gives text that decodes to nonsense;
//! 3. re-decoding, for Cyrillic fonts that declare a Latin encoding (see `quality`);
//! 4. OCR with Tesseract, for pages with no text layer or unreadable text, when it is installed.
//!
//! A file whose cross-reference table is damaged is rebuilt in memory first (`pdf_repair`). Pages
//! that still give nothing are reported in the file's status — scanned pages as needing OCR (and
//! what to install), unreadable ones as such — instead of being indexed as nonsense.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use pdf_extract::{Document, Object, PlainTextOutput};

use super::quality::{self, Verdict};
use super::{
    ocr, out_of_time, panic_message, pdf_cmap, pdf_content, pdf_repair, tidy, time_left, ExtractError, Extraction,
    Extractor, Page,
};

pub struct Pdf;

/// OCR time allowed for one page when the extraction has no overall limit.
const OCR_PAGE_LIMIT: Duration = Duration::from_secs(120);
/// OCR is not started on a page with less time than this left.
const OCR_MIN_TIME: Duration = Duration::from_secs(4);

impl Extractor for Pdf {
    fn name(&self) -> &'static str {
        "pdf"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["pdf"]
    }
    fn extract(&self, path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let (mut doc, repaired) = open(bytes)?;
        let loops = catch_unwind(AssertUnwindSafe(|| pdf_repair::break_cycles(&mut doc))).unwrap_or(0);
        // Only a reading aid: a failure leaves the streams as they were.
        let _ = catch_unwind(AssertUnwindSafe(|| pdf_content::rewrite_page_contents(&mut doc)));
        let _ = catch_unwind(AssertUnwindSafe(|| pdf_cmap::repair_unicode_maps(&mut doc)));
        // The page tree is walked once: every page's number and object.
        let page_ids: Vec<(u32, lopdf::ObjectId)> =
            match catch_unwind(AssertUnwindSafe(|| doc.get_pages().into_iter().collect())) {
                Ok(pages) => pages,
                Err(panic) => {
                    return Err(malformed(format!("its page tree is damaged ({})", panic_message(panic.as_ref()))))
                }
            };
        if page_ids.is_empty() {
            return Err(malformed("the document has no pages".into()));
        }
        let mut pages: Vec<(u32, Outcome)> = Vec::with_capacity(page_ids.len());
        for &(number, page_id) in &page_ids {
            let outcome = if out_of_time() {
                Outcome::NotReached
            } else {
                with_form_values(read_page(&doc, number), &doc, page_id)
            };
            pages.push((number, outcome));
        }
        let ocr_note = ocr_pages(path, &mut pages);
        let mut extraction = report(pages, repaired, ocr_note)?;
        if loops > 0 {
            extraction
                .warnings
                .push(format!("{loops} reference loops in the file were cut (their content is not indexed)"));
        }
        Ok(extraction)
    }
}

fn malformed(detail: String) -> ExtractError {
    ExtractError::Malformed { format: "PDF".into(), detail }
}

/// Loads the document, rebuilding a damaged cross-reference table when loading fails or finds no
/// pages; decrypts files that open with an empty password or one offered. Returns whether it was
/// rebuilt.
fn open(bytes: &[u8]) -> Result<(Document, bool), ExtractError> {
    let has_pages = |doc: &Document| catch_unwind(AssertUnwindSafe(|| !doc.get_pages().is_empty())).unwrap_or(false);
    let whole = |doc: &Document| catch_unwind(AssertUnwindSafe(|| !lost_page_contents(doc))).unwrap_or(true);
    let (doc, repaired) = match load(bytes, None) {
        Ok(doc) if locked(&doc) => return unlock(bytes, &doc).map(|doc| (doc, false)),
        Ok(doc) if has_pages(&doc) && whole(&doc) => (doc, false),
        first => match (pdf_repair::rebuild(bytes).map(|fixed| load(&fixed, None)), first) {
            (Some(Ok(doc)), _) if has_pages(&doc) => (doc, true),
            // Pages whose contents were lost, and a repair that did not help: what loaded is read.
            (_, Ok(doc)) if has_pages(&doc) => (doc, false),
            (_, first) => {
                let why = first.err().unwrap_or_else(|| "it has no readable pages".into());
                return Err(malformed(format!("{why}; rebuilding its cross-reference table did not help either")));
            }
        },
    };
    Ok((doc, repaired))
}

/// The document, decrypted if it is encrypted and the empty password (which opens files that only
/// restrict printing or editing) or `password` opens it. A wrong `password` is an error; without
/// one, a file the empty password does not open loads `locked`.
fn load(bytes: &[u8], password: Option<&str>) -> Result<Document, String> {
    let read = || match password {
        Some(password) => Document::load_mem_with_options(bytes, lopdf::LoadOptions::with_password(password)),
        None => Document::load_mem(bytes),
    };
    match catch_unwind(AssertUnwindSafe(read)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("the PDF reader panicked: {}", panic_message(panic.as_ref()))),
    }
}

/// Still encrypted after loading: lopdf decrypts while it loads, and when the password does not
/// open the file it keeps the trailer's `/Encrypt` and leaves the objects unread.
fn locked(doc: &Document) -> bool {
    doc.trailer.get(b"Encrypt").is_ok()
}

/// Loads a document that the empty password does not open (`locked`, as loaded without one) with
/// each password offered for it that is its user password. Not its owner password: lopdf derives
/// the file's key as from a user password, so an owner password would "open" it into nonsense.
fn unlock(bytes: &[u8], locked: &Document) -> Result<Document, ExtractError> {
    let passwords = super::offered_passwords();
    for password in &passwords {
        if locked.authenticate_user_password(password).is_err() {
            continue;
        }
        if let Ok(doc) = load(bytes, Some(password)) {
            if !self::locked(&doc) {
                return Ok(doc);
            }
        }
    }
    Err(ExtractError::PasswordRequired { tried: passwords.len() })
}

/// Whether a page's contents name an object the reader could not load as a stream: of a stream
/// whose `/Length` misses its `endstream`, lopdf keeps the dictionary alone (or nothing), and its
/// page would read as blank.
fn lost_page_contents(doc: &Document) -> bool {
    let references = |items: &[Object]| items.iter().filter_map(|i| i.as_reference().ok()).collect::<Vec<_>>();
    doc.get_pages().into_values().any(|page| {
        // Not `get_page_contents`: it passes over a reference to something other than a stream.
        let contents = match doc.get_dictionary(page).and_then(|p| p.get(b"Contents")) {
            Ok(Object::Reference(id)) => match doc.get_object(*id) {
                Ok(Object::Array(items)) => references(items),
                _ => vec![*id],
            },
            Ok(Object::Array(items)) => references(items),
            _ => Vec::new(),
        };
        contents.iter().any(|id| doc.get_object(*id).and_then(Object::as_stream).is_err())
    })
}

/// What became of one page.
enum Outcome {
    Text {
        text: String,
        via: Via,
    },
    /// No text and nothing that could hold any: a blank or purely drawn page.
    Blank,
    /// No text layer, but images: a scan.
    Scanned,
    /// Text that decodes to nonsense; why.
    Garbage(String),
    /// Both readers failed; pdf-extract's error.
    Failed(String),
    /// The time limit ran out before this page.
    NotReached,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    PdfExtract,
    Fallback,
    Recoded,
    Ocr,
}

fn read_page(doc: &Document, number: u32) -> Outcome {
    let primary = match catch_unwind(AssertUnwindSafe(|| page_text(doc, number))) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!("pdf-extract panicked: {}", panic_message(panic.as_ref()))),
    };
    let primary_verdict = primary.as_ref().map(|t| quality::assess(t)).unwrap_or(Verdict::Empty);
    if let (Ok(text), Verdict::Good) = (&primary, &primary_verdict) {
        return Outcome::Text { text: text.clone(), via: Via::PdfExtract };
    }
    let fallback = catch_unwind(AssertUnwindSafe(|| doc.extract_text(&[number]))).ok().and_then(Result::ok);
    let fallback_verdict = fallback.as_deref().map(quality::assess).unwrap_or(Verdict::Empty);
    if let (Some(text), Verdict::Good) = (&fallback, &fallback_verdict) {
        return Outcome::Text { text: text.clone(), via: Via::Fallback };
    }
    for text in [primary.as_ref().ok(), fallback.as_ref()].into_iter().flatten() {
        if let Some(fixed) = quality::repair_cyrillic_mojibake(text) {
            return Outcome::Text { text: fixed, via: Via::Recoded };
        }
    }
    for verdict in [primary_verdict, fallback_verdict] {
        if let Verdict::Garbage(why) = verdict {
            return Outcome::Garbage(why);
        }
    }
    let (images, fonts) = catch_unwind(AssertUnwindSafe(|| page_contents(doc, number))).unwrap_or((false, true));
    match primary {
        _ if images && !fonts => Outcome::Scanned,
        Err(e) if fonts => Outcome::Failed(e),
        _ if images => Outcome::Scanned,
        _ => Outcome::Blank,
    }
}

/// A page's text with the values typed into its form fields after it. pdftotext shows them (it
/// draws the fields), and in a filled-in form they are what matters; neither reader sees them,
/// as they live in the fields, not in the page's content.
fn with_form_values(outcome: Outcome, doc: &Document, page_id: lopdf::ObjectId) -> Outcome {
    let values = catch_unwind(AssertUnwindSafe(|| form_values(doc, page_id))).unwrap_or_default();
    if values.is_empty() {
        return outcome;
    }
    let values = values.join("\n");
    match outcome {
        Outcome::Text { text, via } => Outcome::Text { text: format!("{text}\n{values}"), via },
        Outcome::Blank => Outcome::Text { text: values, via: Via::PdfExtract },
        other => other,
    }
}

/// The text values of the page's form widgets (a field's value may sit on its parent field), and
/// the options its list boxes show.
fn form_values(doc: &Document, page_id: lopdf::ObjectId) -> Vec<String> {
    let widgets = doc.get_page_annotations(page_id).unwrap_or_default();
    widgets
        .into_iter()
        .filter(|a| a.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Widget"))
        .flat_map(|a| [field_value(doc, a, 0), list_options(doc, a)])
        .flatten()
        .filter(|v| !v.trim().is_empty())
        .collect()
}

/// A field's entry `key`, its own or inherited from its parent fields.
fn inherited<'d>(doc: &'d Document, field: &'d pdf_extract::Dictionary, key: &[u8]) -> Option<&'d Object> {
    let mut field = field;
    for _ in 0..8 {
        if let Ok(value) = field.get(key) {
            return Some(value);
        }
        field = doc.get_dictionary(field.get(b"Parent").ok()?.as_reference().ok()?).ok()?;
    }
    None
}

/// The options a list box draws, one a line. A choice field that is not a combo box shows all its
/// options on the page (pdftotext reads them from the drawing); a combo box shows only its value.
fn list_options(doc: &Document, widget: &pdf_extract::Dictionary) -> Option<String> {
    const COMBO: i64 = 1 << 17;
    let choice = inherited(doc, widget, b"FT").and_then(|t| t.as_name().ok()) == Some(b"Ch".as_slice());
    let flags = inherited(doc, widget, b"Ff").and_then(|f| f.as_i64().ok()).unwrap_or(0);
    if !choice || flags & COMBO != 0 {
        return None;
    }
    let options = match inherited(doc, widget, b"Opt")? {
        Object::Reference(id) => doc.get_object(*id).ok()?,
        direct => direct,
    };
    // An option is its text, or a pair of the value exported and the text shown.
    let shown = options.as_array().ok()?.iter().filter_map(|o| match o {
        Object::Array(pair) => pair.last().and_then(|t| value_text(doc, t, 0)),
        other => value_text(doc, other, 0),
    });
    let lines: Vec<String> = shown.collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn field_value(doc: &Document, field: &pdf_extract::Dictionary, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    match field.get(b"V") {
        Ok(value) => value_text(doc, value, 0),
        Err(_) => {
            let parent = field.get(b"Parent").ok()?.as_reference().ok()?;
            field_value(doc, doc.get_dictionary(parent).ok()?, depth + 1)
        }
    }
}

/// A field value as text: strings (UTF-16 with its mark, else PDFDocEncoding, read as Latin-1),
/// lists of them (multiple choice); names (a checkbox's /Yes) are no text.
fn value_text(doc: &Document, value: &Object, depth: usize) -> Option<String> {
    match value {
        Object::String(bytes, _) => Some(match bytes.strip_prefix(&[0xFE, 0xFF]) {
            Some(utf16) => {
                let units: Vec<u16> = utf16.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                String::from_utf16_lossy(&units)
            }
            None => bytes.iter().map(|&b| b as char).collect(),
        }),
        Object::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(|i| value_text(doc, i, depth + 1)).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Object::Reference(id) if depth < 4 => value_text(doc, doc.get_object(*id).ok()?, depth + 1),
        _ => None,
    }
}

fn page_text(doc: &Document, number: u32) -> Result<String, pdf_extract::OutputError> {
    let mut text = String::new();
    pdf_extract::output_doc_page(doc, &mut PlainTextOutput::new(&mut text), number)?;
    Ok(text)
}

/// Whether a page draws images (directly, inline or through form XObjects) and whether it has
/// fonts, i.e. could have had text.
fn page_contents(doc: &Document, number: u32) -> (bool, bool) {
    let Some(&page_id) = doc.get_pages().get(&number) else { return (false, false) };
    let fonts = doc.get_page_fonts(page_id).is_ok_and(|f| !f.is_empty());
    let (direct, inherited) = doc.get_page_resources(page_id).unwrap_or((None, Vec::new()));
    let mut resources: Vec<&pdf_extract::Dictionary> = direct.into_iter().collect();
    resources.extend(inherited.iter().filter_map(|id| doc.get_dictionary(*id).ok()));
    let mut images = doc.get_page_content(page_id).is_ok_and(|c| {
        c.windows(4).any(|w| &w[1..3] == b"BI" && w[0].is_ascii_whitespace() && w[3].is_ascii_whitespace())
    });
    // Form XObjects can nest; a few levels are plenty to find a scan's image.
    let mut pending: Vec<(&pdf_extract::Dictionary, u8)> = resources.into_iter().map(|r| (r, 0)).collect();
    while let Some((dict, depth)) = pending.pop() {
        if images {
            break;
        }
        let Ok(xobjects) = dict.get(b"XObject").and_then(|o| doc.dereference(o)).and_then(|(_, o)| o.as_dict()) else {
            continue;
        };
        for (_, reference) in xobjects.iter() {
            let Ok((_, Object::Stream(stream))) = doc.dereference(reference) else { continue };
            match stream.dict.get(b"Subtype").and_then(Object::as_name) {
                Ok(b"Image") => images = true,
                Ok(b"Form") if depth < 4 => {
                    if let Ok(inner) =
                        stream.dict.get(b"Resources").and_then(|o| doc.dereference(o)).and_then(|(_, o)| o.as_dict())
                    {
                        pending.push((inner, depth + 1));
                    }
                }
                _ => {}
            }
        }
    }
    (images, fonts)
}

/// OCR for scanned and unreadable pages, while time allows. Returns a note on why some of them
/// were not read (tools missing, time limit), if any were not.
fn ocr_pages(path: &Path, pages: &mut [(u32, Outcome)]) -> Option<String> {
    let wanted = pages.iter().filter(|(_, o)| matches!(o, Outcome::Scanned | Outcome::Garbage(_))).count();
    if wanted == 0 {
        return None;
    }
    let Some(ocr) = ocr::find() else { return Some(ocr::HOW_TO_ENABLE.into()) };
    let mut failures = Vec::new();
    let mut out_of_time = false;
    for (number, outcome) in pages.iter_mut() {
        if !matches!(outcome, Outcome::Scanned | Outcome::Garbage(_)) {
            continue;
        }
        let limit = match time_left() {
            Some(left) if left < OCR_MIN_TIME => {
                out_of_time = true;
                break;
            }
            Some(left) => left.min(OCR_PAGE_LIMIT),
            None => OCR_PAGE_LIMIT,
        };
        match ocr.page(path, *number, limit) {
            Ok(text) if quality::assess(&text) == Verdict::Good => *outcome = Outcome::Text { text, via: Via::Ocr },
            Ok(_) => failures.push(format!("page {number}: OCR found no readable text")),
            Err(e) => failures.push(format!("page {number}: {e}")),
        }
    }
    match (out_of_time, failures.first()) {
        (true, _) => Some("OCR ran out of the time limit for this file".into()),
        (false, Some(first)) => Some(format!("OCR with Tesseract ({}) did not help: {first}", ocr.languages)),
        (false, None) => None,
    }
}

/// The pages to index and the file's warnings; an error when no page has text, naming the most
/// telling reason.
fn report(pages: Vec<(u32, Outcome)>, repaired: bool, ocr_note: Option<String>) -> Result<Extraction, ExtractError> {
    let total = pages.len();
    let numbers = |pred: &dyn Fn(&Outcome) -> bool| -> Vec<u32> {
        pages.iter().filter(|(_, o)| pred(o)).map(|(n, _)| *n).collect()
    };
    let via = |v: Via| numbers(&|o| matches!(o, Outcome::Text { via, .. } if *via == v));
    let scanned = numbers(&|o| matches!(o, Outcome::Scanned));
    let garbage = numbers(&|o| matches!(o, Outcome::Garbage(_)));
    let failed = numbers(&|o| matches!(o, Outcome::Failed(_)));
    let not_reached = numbers(&|o| matches!(o, Outcome::NotReached));
    let first_garbage =
        pages.iter().find_map(|(_, o)| if let Outcome::Garbage(why) = o { Some(why.clone()) } else { None });
    let first_failure = pages.iter().find_map(|(_, o)| if let Outcome::Failed(e) = o { Some(e.clone()) } else { None });
    let (fallback, recoded, ocred) = (via(Via::Fallback), via(Via::Recoded), via(Via::Ocr));

    let mut warnings = Vec::new();
    if repaired {
        warnings.push(
            "its structure was damaged (cross-reference table or stream lengths); Folio rebuilt it to read the file"
                .to_string(),
        );
    }
    if !fallback.is_empty() {
        warnings.push(format!("{} read by the fallback reader (pdf-extract could not)", pages_phrase(&fallback)));
    }
    if !recoded.is_empty() {
        warnings.push(format!(
            "{}: text re-decoded as Windows-1251 (its fonts declare a Latin encoding)",
            pages_phrase(&recoded)
        ));
    }
    if !ocred.is_empty() {
        let languages = ocr::find().map(|o| o.languages.as_str()).unwrap_or("");
        warnings
            .push(format!("{} read by OCR (Tesseract, {languages}); expect recognition errors", pages_phrase(&ocred)));
    }
    let ocr_hint = ocr_note.map(|n| format!("; {n}")).unwrap_or_default();
    if !scanned.is_empty() {
        warnings.push(format!(
            "needs OCR: {} of {total} pages have no text layer (scanned): {}{ocr_hint}",
            scanned.len(),
            ranges(&scanned)
        ));
    }
    if !garbage.is_empty() {
        warnings.push(format!(
            "unreadable text on {} of {total} pages ({}), not indexed: {}{}",
            garbage.len(),
            first_garbage.as_deref().unwrap_or(""),
            ranges(&garbage),
            if scanned.is_empty() { ocr_hint.as_str() } else { "" }
        ));
    }
    if !failed.is_empty() {
        warnings.push(format!(
            "{} of {total} pages could not be read ({}): {}",
            failed.len(),
            first_failure.as_deref().unwrap_or(""),
            ranges(&failed)
        ));
    }
    if !not_reached.is_empty() {
        warnings.push(format!("{} not read: the time limit for this file ran out", pages_phrase(&not_reached)));
    }

    let text_pages: Vec<Page> = pages
        .into_iter()
        .filter_map(|(number, outcome)| match outcome {
            Outcome::Text { text, .. } => Some(Page { number: Some(number), text: tidy(&join_hyphenated(&text)) }),
            _ => None,
        })
        .filter(|p| !p.text.is_empty())
        .collect();
    if !text_pages.is_empty() {
        return Ok(Extraction { pages: text_pages, warnings });
    }
    // Nothing to index: the most telling reason becomes the file's status.
    if !scanned.is_empty() && scanned.len() >= garbage.len() {
        let all = if scanned.len() == total {
            format!("all {total} pages")
        } else {
            format!("{} of {total} pages", scanned.len())
        };
        return Err(ExtractError::NeedsOcr(format!("{all} are scanned images without a text layer{ocr_hint}")));
    }
    if !garbage.is_empty() {
        return Err(ExtractError::UnreadableText(format!(
            "{} of {total} pages: {}{ocr_hint}",
            garbage.len(),
            first_garbage.unwrap_or_default()
        )));
    }
    if !failed.is_empty() {
        return Err(malformed(format!(
            "no page could be read ({}); pages {}",
            first_failure.unwrap_or_default(),
            ranges(&failed)
        )));
    }
    if !not_reached.is_empty() {
        return Err(ExtractError::Unreadable("reading it took longer than the time limit".into()));
    }
    Err(ExtractError::NoText(format!("its {total} pages are blank or only drawings")))
}

fn pages_phrase(numbers: &[u32]) -> String {
    if numbers.len() == 1 {
        format!("page {}", numbers[0])
    } else {
        format!("{} pages ({})", numbers.len(), ranges(numbers))
    }
}

/// "1, 3–5, 9" for sorted page numbers; long lists are cut.
fn ranges(numbers: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end + 1 {
            i += 1;
            end = numbers[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}–{end}") });
        i += 1;
    }
    if parts.len() > 12 {
        let more = parts.len() - 10;
        parts.truncate(10);
        parts.push(format!("and {more} more ranges"));
    }
    parts.join(", ")
}

/// Rejoins words that the layout hyphenated across a line break ("infor-\nmation").
fn join_hyphenated(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        if c == '-' && prev.is_some_and(|p| p.is_lowercase()) && chars.peek() == Some(&'\n') {
            let mut look = chars.clone();
            look.next();
            if look.peek().is_some_and(|n| n.is_lowercase()) {
                chars.next();
                prev = Some('-');
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenation_across_lines_is_joined() {
        assert_eq!(join_hyphenated("infor-\nmation and well-\nKnown"), "information and well-\nKnown");
    }

    #[test]
    fn page_ranges() {
        assert_eq!(ranges(&[1, 3, 4, 5, 9]), "1, 3–5, 9");
        assert_eq!(pages_phrase(&[7]), "page 7");
        let many: Vec<u32> = (1..100).step_by(2).collect();
        assert!(ranges(&many).ends_with("and 40 more ranges"));
    }

    fn text(s: &str) -> Outcome {
        Outcome::Text { text: s.into(), via: Via::PdfExtract }
    }

    #[test]
    fn scanned_and_garbage_pages_are_reported_not_indexed() {
        let note = Some(ocr::HOW_TO_ENABLE.to_string());
        // Some pages readable: they are indexed, the others named in a warning.
        let pages = vec![
            (1, text("Real words here.")),
            (2, Outcome::Scanned),
            (3, Outcome::Scanned),
            (4, Outcome::Garbage("symbols".into())),
        ];
        let extraction = report(pages, false, note.clone()).unwrap();
        assert_eq!(extraction.pages.len(), 1);
        assert!(
            extraction
                .warnings
                .iter()
                .any(|w| w.starts_with("needs OCR: 2 of 4 pages") && w.contains("2–3") && w.contains("tesseract")),
            "{:?}",
            extraction.warnings
        );
        assert!(
            extraction.warnings.iter().any(|w| w.starts_with("unreadable text on 1 of 4 pages (symbols)")),
            "{:?}",
            extraction.warnings
        );
        // Nothing readable: the file fails with the most telling reason.
        let err = report(vec![(1, Outcome::Scanned), (2, Outcome::Blank)], false, note.clone()).unwrap_err();
        assert!(
            matches!(&err, ExtractError::NeedsOcr(m) if m.contains("1 of 2 pages") && m.contains("tesseract")),
            "{err}"
        );
        let err = report(vec![(1, Outcome::Garbage("no Unicode map".into()))], false, None).unwrap_err();
        assert!(matches!(&err, ExtractError::UnreadableText(m) if m.contains("no Unicode map")), "{err}");
        let err = report(vec![(1, Outcome::Blank)], false, None).unwrap_err();
        assert!(matches!(err, ExtractError::NoText(_)));
    }
}
