//! Repairs before reading a PDF.
//!
//! Rebuilding the cross-reference table of a damaged PDF, the way PDF viewers recover: objects are
//! found by scanning for `N G obj`, the catalog by its `/Root` reference (or its `/Type /Catalog`),
//! and a fresh table and trailer are appended. Truncated downloads, files edited by tools that
//! miscount offsets and files with garbage in front of the header open again this way. A stream
//! whose `/Length` does not reach its `endstream` keyword (hand-written files, tools that miscount)
//! is lost to the reader entirely; the rebuilt copy states the length the bytes have.
//!
//! Breaking loops pdf-extract would follow forever: a page whose `/Parent` chain comes back to
//! itself, form XObjects that draw themselves (directly or through others), and forms nested so
//! deep that following them would overflow the stack.

use std::collections::HashSet;

use pdf_extract::{Dictionary, Document, Object, ObjectId};

/// Object numbers beyond this are taken for noise (a table this large would cost memory).
const MAX_OBJECT_NUMBER: u32 = 4_000_000;

/// The bytes of a loadable copy of `bytes`, or `None` when there is nothing to rebuild from (no
/// objects, no catalog) or the file is encrypted (its keys live in the trailer being replaced).
pub fn rebuild(bytes: &[u8]) -> Option<Vec<u8>> {
    let start = find(bytes, b"%PDF-", 0)?;
    if find(&bytes[start..], b"/Encrypt", 0).is_some() {
        return None;
    }
    let fixed = with_true_stream_lengths(&bytes[start..]);
    let body = &fixed[..];
    let objects = scan_objects(body);
    if objects.is_empty() {
        return None;
    }
    let (root_number, root_generation) = find_root(body, &objects)?;
    let size = objects.keys().next_back().copied()? + 1;

    let mut out = Vec::with_capacity(body.len() + size as usize * 20 + 256);
    out.extend_from_slice(body);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n").as_bytes());
    for number in 0..size {
        match objects.get(&number) {
            // Each entry is exactly 20 bytes, as the format requires.
            Some(&(offset, generation)) => {
                out.extend_from_slice(format!("{offset:010} {generation:05} n\r\n").as_bytes())
            }
            None => out.extend_from_slice(b"0000000000 65535 f\r\n"),
        }
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root {root_number} {root_generation} R >>\nstartxref\n{xref_at}\n%%EOF\n")
            .as_bytes(),
    );
    Some(out)
}

/// `body` with every direct `/Length` of a stream that misses its `endstream` keyword replaced by
/// the length its bytes have (from the end of line after `stream` to the end of line before
/// `endstream`). Lengths given by reference and lengths that are right are left alone.
fn with_true_stream_lengths(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut copied = 0;
    let mut from = 0;
    while let Some(keyword) = find(body, b"stream", from) {
        from = keyword + 6;
        // A stream's data: `stream`, an end of line, the bytes, an optional end of line, `endstream`.
        let before = &body[..keyword];
        if !before.trim_ascii_end().ends_with(b">>") || before.ends_with(b"end") {
            continue;
        }
        let mut data = keyword + 6;
        data += match &body[data.min(body.len())..] {
            [b'\r', b'\n', ..] => 2,
            [b'\n' | b'\r', ..] => 1,
            _ => continue,
        };
        let Some(end) = find(body, b"endstream", data) else { break };
        from = end + 9;
        let mut true_end = end;
        if body[..true_end].ends_with(b"\r\n") {
            true_end -= 2;
        } else if body[..true_end].ends_with(b"\n") || body[..true_end].ends_with(b"\r") {
            true_end -= 1;
        }
        let true_length = true_end.saturating_sub(data);
        let Some((digits_at, digits_end, declared)) = direct_length(body, keyword) else { continue };
        let fits = |length: usize| {
            let tail = &body[(data + length).min(body.len())..];
            let tail = tail.strip_prefix(b"\r\n").or_else(|| tail.strip_prefix(b"\n")).unwrap_or(tail);
            let tail = tail.strip_prefix(b"\r").unwrap_or(tail);
            tail.starts_with(b"endstream")
        };
        if declared != true_length && !fits(declared) {
            out.extend_from_slice(&body[copied..digits_at]);
            out.extend_from_slice(true_length.to_string().as_bytes());
            copied = digits_end;
        }
    }
    out.extend_from_slice(&body[copied..]);
    out
}

/// The direct `/Length N` of the stream dictionary that ends before `keyword`: where its digits
/// start and end, and N. `None` for a length given by reference (`/Length 12 0 R`) or none.
fn direct_length(body: &[u8], keyword: usize) -> Option<(usize, usize, usize)> {
    // The dictionary's start: the last `obj` keyword before the stream.
    let window = &body[keyword.saturating_sub(4096)..keyword];
    let dict_start = keyword - window.len() + window.windows(3).rposition(|w| w == b"obj")?;
    // `/Length`, not `/Length1` (a font program's dictionary has both).
    let mut from = dict_start;
    let at = loop {
        let at = find(&body[..keyword], b"/Length", from)? + 7;
        if !body.get(at).is_some_and(u8::is_ascii_alphanumeric) {
            break at;
        }
        from = at;
    };
    let digits_at = at + body[at..keyword].iter().take_while(|b| b.is_ascii_whitespace()).count();
    let digits_end = digits_at + body[digits_at..keyword].iter().take_while(|b| b.is_ascii_digit()).count();
    let number: usize = std::str::from_utf8(&body[digits_at..digits_end]).ok()?.parse().ok()?;
    // `N G R` is a reference: its digits are an object number, not a length.
    let rest = String::from_utf8_lossy(&body[digits_end..(digits_end + 16).min(keyword)]).into_owned();
    let mut parts = rest.split_ascii_whitespace();
    if let (Some(g), Some(r)) = (parts.next(), parts.next()) {
        if g.bytes().all(|b| b.is_ascii_digit()) && r.starts_with('R') {
            return None;
        }
    }
    Some((digits_at, digits_end, number))
}

/// Object number → (offset of its header, generation); a later definition (an incremental
/// update) replaces an earlier one.
fn scan_objects(body: &[u8]) -> std::collections::BTreeMap<u32, (usize, u16)> {
    let mut objects = std::collections::BTreeMap::new();
    let mut from = 0;
    while let Some(at) = find(body, b"obj", from) {
        from = at + 3;
        // "obj" must be a keyword: followed by a delimiter, not part of "endobj" or a name.
        let next = body.get(at + 3).copied().unwrap_or(b' ');
        if !(next.is_ascii_whitespace() || matches!(next, b'<' | b'[' | b'/' | b'(' | b'%')) {
            continue;
        }
        if let Some((header, number, generation)) = header_before(body, at) {
            if number <= MAX_OBJECT_NUMBER {
                objects.insert(number, (header, generation));
            }
        }
    }
    objects
}

/// Parses "N G " backwards from the `obj` keyword at `at`: (offset of N, N, G).
fn header_before(body: &[u8], at: usize) -> Option<(usize, u32, u16)> {
    let mut i = at;
    let skip_space = |i: &mut usize| -> bool {
        let before = *i;
        while *i > 0 && body[*i - 1].is_ascii_whitespace() {
            *i -= 1;
        }
        *i < before
    };
    let digits = |i: &mut usize| -> Option<u64> {
        let end = *i;
        while *i > 0 && body[*i - 1].is_ascii_digit() && end - *i < 10 {
            *i -= 1;
        }
        std::str::from_utf8(&body[*i..end]).ok()?.parse().ok()
    };
    skip_space(&mut i);
    let generation = digits(&mut i)?;
    if !skip_space(&mut i) {
        return None;
    }
    let number = digits(&mut i)?;
    // The number starts a token: preceded by whitespace, a delimiter or the start.
    if i > 0 && !(body[i - 1].is_ascii_whitespace() || matches!(body[i - 1], b'>' | b']' | b')')) {
        return None;
    }
    Some((i, u32::try_from(number).ok()?, u16::try_from(generation).ok()?))
}

/// The catalog: the last `/Root N G R` that names a found object, else the last object whose
/// dictionary says `/Type /Catalog`.
fn find_root(body: &[u8], objects: &std::collections::BTreeMap<u32, (usize, u16)>) -> Option<(u32, u16)> {
    let mut from = 0;
    let mut root = None;
    while let Some(at) = find(body, b"/Root", from) {
        from = at + 5;
        let rest = &body[from..(from + 32).min(body.len())];
        let text = String::from_utf8_lossy(rest);
        let mut parts = text.split_ascii_whitespace();
        if let (Some(n), Some(g), Some(r)) = (parts.next(), parts.next(), parts.next()) {
            if r.starts_with('R') {
                if let (Ok(n), Ok(g)) = (n.parse::<u32>(), g.parse::<u16>()) {
                    if objects.contains_key(&n) {
                        root = Some((n, g));
                    }
                }
            }
        }
    }
    if root.is_some() {
        return root;
    }
    let mut from = 0;
    while let Some(at) = find(body, b"/Catalog", from) {
        from = at + 8;
        let before = &body[at.saturating_sub(16)..at];
        if !String::from_utf8_lossy(before).trim_end().ends_with("/Type") {
            continue;
        }
        // The object that contains this position: the last header before it.
        root = objects
            .iter()
            .filter(|(_, (offset, _))| *offset < at)
            .max_by_key(|(_, (offset, _))| *offset)
            .map(|(n, (_, g))| (*n, *g));
    }
    root
}

/// Forms nested deeper than this are not drawn (real files nest a handful).
const MAX_FORM_DEPTH: usize = 32;
/// Work allowed for the form walk; a file beyond it is left as it is.
const MAX_FORM_STEPS: usize = 200_000;

/// Breaks the loops pdf-extract cannot escape; returns how many it broke.
pub fn break_cycles(doc: &mut Document) -> usize {
    let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
    let mut broken = 0;
    // Parent chains: cut the link that closes a cycle (or makes a chain absurdly long).
    for &page in &pages {
        let mut seen = HashSet::new();
        let mut current = page;
        loop {
            seen.insert(current);
            let parent = doc
                .get_dictionary(current)
                .ok()
                .and_then(|d| d.get(b"Parent").ok())
                .and_then(|p| p.as_reference().ok());
            let Some(parent) = parent else { break };
            if seen.contains(&parent) || seen.len() > 256 {
                if let Ok(dict) = doc.get_object_mut(current).and_then(Object::as_dict_mut) {
                    dict.remove(b"Parent");
                    broken += 1;
                }
                break;
            }
            current = parent;
        }
    }
    // Forms: walk what each page could draw, as pdf-extract would, and empty the form that draws
    // one of its own ancestors (or lies too deep).
    let mut blank = HashSet::new();
    let mut walk = FormWalk { doc: &*doc, path: Vec::new(), explored: HashSet::new(), blank: &mut blank, steps: 0 };
    for &page in &pages {
        if let Some(resources) = inherited_resources(walk.doc, page) {
            walk.visit(resources);
        }
    }
    for id in blank {
        if let Ok(Object::Stream(stream)) = doc.get_object_mut(id) {
            stream.set_plain_content(Vec::new());
            broken += 1;
        }
    }
    broken
}

/// A page's resources: its own, or the nearest ancestor's.
fn inherited_resources(doc: &Document, page: ObjectId) -> Option<&Dictionary> {
    let mut dict = doc.get_dictionary(page).ok()?;
    for _ in 0..256 {
        if let Some(resources) = deref_dict(doc, dict.get(b"Resources").ok()) {
            return Some(resources);
        }
        dict = doc.get_dictionary(dict.get(b"Parent").ok()?.as_reference().ok()?).ok()?;
    }
    None
}

fn deref_dict<'a>(doc: &'a Document, object: Option<&'a Object>) -> Option<&'a Dictionary> {
    match object? {
        Object::Reference(id) => doc.get_dictionary(*id).ok(),
        Object::Dictionary(dict) => Some(dict),
        _ => None,
    }
}

struct FormWalk<'d, 'b> {
    doc: &'d Document,
    /// Forms being drawn, outermost first.
    path: Vec<ObjectId>,
    /// Forms with their own resources whose subtrees were walked already.
    explored: HashSet<ObjectId>,
    blank: &'b mut HashSet<ObjectId>,
    steps: usize,
}

impl<'d> FormWalk<'d, '_> {
    fn visit(&mut self, resources: &'d Dictionary) {
        self.steps += 1;
        if self.steps > MAX_FORM_STEPS {
            return;
        }
        let Some(xobjects) = deref_dict(self.doc, resources.get(b"XObject").ok()) else { return };
        for (_, object) in xobjects.iter() {
            let Ok(id) = object.as_reference() else { continue };
            let empty = matches!(self.doc.get_object(id), Ok(Object::Stream(s)) if s.content.is_empty());
            if !empty && (self.path.contains(&id) || self.path.len() >= MAX_FORM_DEPTH) {
                // The form being drawn can draw an ancestor: it is the loop's way back.
                self.blank.insert(*self.path.last().unwrap_or(&id));
                continue;
            }
            let Ok(Object::Stream(stream)) = self.doc.get_object(id) else { continue };
            if stream.content.is_empty() {
                continue; // draws nothing, so no loop either
            }
            // pdf-extract draws any XObject it meets with the resources it brings, or else the
            // resources of whatever draws it.
            let own = deref_dict(self.doc, stream.dict.get(b"Resources").ok());
            if own.is_some() && !self.explored.insert(id) {
                continue;
            }
            self.path.push(id);
            self.visit(own.unwrap_or(resources));
            self.path.pop();
        }
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &str = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
        2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
        3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n";

    #[test]
    fn rebuilds_a_table_for_a_file_without_one() {
        let damaged = format!(
            "garbage before\n{PDF}xref\n0 4\nbroken table\ntrailer\n<< /Root 1 0 R >>\nstartxref\n99999\n%%EOF"
        );
        assert!(lopdf::Document::load_mem(damaged.as_bytes()).is_err());
        let repaired = rebuild(damaged.as_bytes()).unwrap();
        let doc = lopdf::Document::load_mem(&repaired).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn a_stream_whose_length_is_wrong_is_read_to_its_endstream() {
        let content = "BT /F1 12 Tf 100 700 Td (test example) Tj ET";
        for declared in [content.len() + 5, content.len() - 7, 575] {
            let pdf = format!(
                "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
                 2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
                 3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n\
                 4 0 obj\n<< /Length {declared:04} >>\nstream\n{content}\nendstream\nendobj\n"
            );
            let doc = lopdf::Document::load_mem(&rebuild(pdf.as_bytes()).unwrap()).unwrap();
            let page = *doc.get_pages().get(&1).unwrap();
            // lopdf ends each content stream of a page with a line break.
            assert_eq!(doc.get_page_content(page).unwrap().trim_ascii(), content.as_bytes(), "declared {declared}");
        }
        // Right lengths and lengths by reference stay as they are.
        let right = format!("1 0 obj\n<< /Length {} >>\nstream\n{content}\nendstream\nendobj\n", content.len());
        assert_eq!(with_true_stream_lengths(right.as_bytes()), right.as_bytes());
        let font = format!("1 0 obj\n<< /Length1 3 /Length 99 >>\nstream\n{content}\nendstream\nendobj\n");
        let fixed = String::from_utf8(with_true_stream_lengths(font.as_bytes())).unwrap();
        assert!(fixed.contains(&format!("<< /Length1 3 /Length {} >>", content.len())), "{fixed}");
        let by_reference = format!("1 0 obj\n<< /Length 9 0 R >>\nstream\n{content}\nendstream\nendobj\n");
        assert_eq!(with_true_stream_lengths(by_reference.as_bytes()), by_reference.as_bytes());
    }

    #[test]
    fn finds_the_catalog_without_a_trailer() {
        let repaired = rebuild(PDF.as_bytes()).unwrap();
        let doc = lopdf::Document::load_mem(&repaired).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn loops_in_pages_and_forms_are_broken() {
        use lopdf::{dictionary, Stream};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let form_id = doc.new_object_id();
        let page_id = doc.new_object_id();
        // A form that draws itself, and a page whose parent is itself.
        let form = Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Form", "Resources" => dictionary! { "XObject" => dictionary! { "X" => form_id } } },
            b"/X Do".to_vec(),
        );
        doc.objects.insert(form_id, Object::Stream(form));
        doc.objects.insert(
            page_id,
            Object::Dictionary(dictionary! {
                "Type" => "Page", "Parent" => page_id,
                "Resources" => dictionary! { "XObject" => dictionary! { "X" => form_id } },
            }),
        );
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        assert_eq!(break_cycles(&mut doc), 2);
        assert!(doc.get_dictionary(page_id).unwrap().get(b"Parent").is_err());
        assert!(doc.get_object(form_id).unwrap().as_stream().unwrap().content.is_empty());
        assert_eq!(break_cycles(&mut doc), 0);
    }

    #[test]
    fn nothing_to_rebuild() {
        assert!(rebuild(b"%PDF-1.4\nno objects here").is_none());
        assert!(rebuild(b"not a pdf").is_none());
    }
}
