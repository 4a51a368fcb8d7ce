//! Spreadsheets: XLSX, XLSB and XLS through calamine, ODS through the streaming XML walker, CSV and
//! TSV with a small parser. A sheet is a page (numbered in workbook order); each row becomes one
//! line that carries its own context — "Row 12: Name=Alice; Age=30" with the header's names, or
//! column letters where there is no header — so a passage cut from the middle of a sheet still
//! says what its numbers are.
//!
//! Cells are streamed, never laid out as a dense grid: a sheet with one cell at A1 and one at
//! XFD1048576 costs two cells, not seventeen billion.

use std::io::Cursor;
use std::path::Path;

use calamine::{DataRef, Reader as _};

use super::archive::Archive;
use super::xml::{attr, walk, Node};
use super::{out_of_time, text, tidy, ExtractError, Extraction, Extractor, Page};
use crate::calendar::civil_from_days;

/// Text kept from one spreadsheet; the worker keeps no more than this of any file anyway.
const MAX_TEXT: usize = 64 << 20;

pub struct Workbook;

impl Extractor for Workbook {
    fn name(&self) -> &'static str {
        "spreadsheet"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["xlsx", "xlsm", "xltx", "xltm", "xlsb", "xls", "xla", "xlam", "ods", "ots"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        let mut book = Book::default();
        if bytes.starts_with(b"PK") {
            let mut archive = Archive::open(bytes, "spreadsheet")?;
            if archive.find("content.xml").is_some() {
                read_ods(&mut archive, &mut book)?;
            } else {
                // calamine has no limits of its own: inflate everything once under ours first.
                archive.check_all()?;
                if archive.find("xl/workbook.bin").is_some() {
                    let mut xlsb = calamine::Xlsb::new(Cursor::new(bytes)).map_err(calamine_error)?;
                    for name in xlsb.sheet_names() {
                        let mut cells = xlsb.worksheet_cells_reader(&name).map_err(calamine_error)?;
                        book.stream_sheet(&name, || Ok(cells.next_cell().map_err(calamine_error)?.map(located)))?;
                    }
                } else {
                    let mut xlsx = calamine::Xlsx::new(Cursor::new(bytes)).map_err(calamine_error)?;
                    for name in xlsx.sheet_names() {
                        let mut cells = xlsx.worksheet_cells_reader(&name).map_err(calamine_error)?;
                        book.stream_sheet(&name, || Ok(cells.next_cell().map_err(calamine_error)?.map(located)))?;
                    }
                }
            }
        } else if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
            // Legacy XLS (at most 65,536 × 256 cells, so a range is bounded), or an encrypted
            // OOXML workbook, which lives in the same container.
            let mut xls = calamine::Xls::new(Cursor::new(bytes)).map_err(calamine_error)?;
            for name in xls.sheet_names() {
                let range = xls.worksheet_range(&name).map_err(calamine_error)?;
                let mut cells = range.used_cells().map(|(r, c, v)| (r as u32, c as u32, data_text(v)));
                book.stream_sheet(&name, || Ok(cells.next()))?;
            }
        } else {
            return Err(ExtractError::Malformed {
                format: "spreadsheet".into(),
                detail: "neither a ZIP (XLSX, ODS) nor an OLE (XLS) container; the file is damaged or misnamed".into(),
            });
        }
        book.finish()
    }
}

pub struct Csv;

impl Extractor for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["csv", "tsv", "tab"]
    }
    fn extract(&self, path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        if text::looks_binary(bytes) {
            return Err(ExtractError::Unreadable("binary content in a CSV file; it is not text".into()));
        }
        let source = text::decode(bytes);
        let tab = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab"));
        let delimiter = if tab { '\t' } else { guess_delimiter(&source) };
        let mut sheet = Sheet::new(None);
        for (index, record) in CsvRecords::new(&source, delimiter).enumerate() {
            if sheet.full() || (index % 4096 == 0 && out_of_time()) {
                sheet.warnings.push(format!("only the first {index} rows were read (size or time limit)"));
                break;
            }
            let cells: Vec<(u32, String)> = record
                .into_iter()
                .enumerate()
                .map(|(c, v)| (c as u32, v))
                .filter(|(_, v)| !v.trim().is_empty())
                .collect();
            sheet.row(index as u32, &cells);
        }
        let warnings = std::mem::take(&mut sheet.warnings);
        let text = tidy(&sheet.out);
        if text.is_empty() {
            return Err(ExtractError::NoText("the CSV file has no values".into()));
        }
        Ok(Extraction { pages: vec![Page { number: None, text }], warnings })
    }
}

/// Pages of a workbook under construction.
#[derive(Default)]
struct Book {
    pages: Vec<Page>,
    warnings: Vec<String>,
    sheets: u32,
    bytes: usize,
}

impl Book {
    /// Reads one sheet from a source of (row, column, text) cells in row order.
    fn stream_sheet(
        &mut self,
        name: &str,
        mut next: impl FnMut() -> Result<Option<(u32, u32, String)>, ExtractError>,
    ) -> Result<(), ExtractError> {
        let mut sheet = Sheet::new(Some(name));
        let mut row: Vec<(u32, String)> = Vec::new();
        let mut row_index = None;
        let mut count = 0usize;
        loop {
            let cell = match next() {
                Ok(cell) => cell,
                Err(e) if count > 0 => {
                    sheet
                        .warnings
                        .push(format!("sheet {name} is damaged after {count} cells ({e}); the rest was not read"));
                    None
                }
                Err(e) => return Err(e),
            };
            count += 1;
            if count.is_multiple_of(65536) && (out_of_time() || self.bytes + sheet.out.len() > MAX_TEXT) {
                sheet
                    .warnings
                    .push(format!("sheet {name}: only the first {count} cells were read (size or time limit)"));
                break;
            }
            let Some((r, c, value)) = cell else { break };
            if row_index != Some(r) {
                if let Some(previous) = row_index {
                    sheet.row(previous, &row);
                }
                row.clear();
                row_index = Some(r);
            }
            if !value.is_empty() {
                row.push((c, value));
            }
        }
        if let Some(previous) = row_index {
            sheet.row(previous, &row);
        }
        self.add(sheet);
        Ok(())
    }

    fn add(&mut self, mut sheet: Sheet) {
        self.sheets += 1;
        self.warnings.append(&mut sheet.warnings);
        if sheet.rows == 0 {
            return;
        }
        let text = tidy(&sheet.out);
        self.bytes += text.len();
        self.pages.push(Page { number: Some(self.sheets), text });
    }

    fn finish(self) -> Result<Extraction, ExtractError> {
        if self.pages.is_empty() {
            return Err(ExtractError::NoText(format!("none of the {} sheets has values", self.sheets)));
        }
        Ok(Extraction { pages: self.pages, warnings: self.warnings })
    }
}

/// One sheet's text: "Sheet: name", then a line per row with header names where there is a header.
struct Sheet {
    out: String,
    header: Option<Vec<(u32, String)>>,
    /// Non-empty rows seen; a header is looked for among the first few.
    rows: usize,
    warnings: Vec<String>,
}

impl Sheet {
    fn new(name: Option<&str>) -> Self {
        let out = name.map(|n| format!("Sheet: {n}\n")).unwrap_or_default();
        Sheet { out, header: None, rows: 0, warnings: Vec::new() }
    }

    fn full(&self) -> bool {
        self.out.len() > MAX_TEXT
    }

    /// `row` is 0-based; cells are (0-based column, value) with empty ones left out.
    fn row(&mut self, row: u32, cells: &[(u32, String)]) {
        if cells.is_empty() {
            return;
        }
        self.rows += 1;
        let number = row as u64 + 1;
        // A header: among the first rows, the first with two or more cells, all of them words.
        if self.header.is_none() && self.rows <= 5 && cells.len() >= 2 && cells.iter().all(|(_, v)| is_label(v)) {
            self.header = Some(cells.to_vec());
            let names: Vec<&str> = cells.iter().map(|(_, v)| v.as_str()).collect();
            self.out.push_str(&format!("Row {number} (header): {}\n", names.join("; ")));
            return;
        }
        let mut line = format!("Row {number}: ");
        for (i, (column, value)) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str("; ");
            }
            let name = self
                .header
                .as_ref()
                .and_then(|h| h.iter().find(|(c, _)| c == column))
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| column_name(*column));
            line.push_str(&name);
            line.push('=');
            line.push_str(value);
        }
        line.push('\n');
        self.out.push_str(&line);
    }
}

/// Text that names a column rather than being a value: not a number or a date.
fn is_label(value: &str) -> bool {
    let v = value.trim();
    v.chars().any(char::is_alphabetic) && v.parse::<f64>().is_err() && v.chars().count() <= 80
}

/// "A", "B", …, "Z", "AA", … for a 0-based column.
fn column_name(mut column: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

fn located(cell: calamine::Cell<DataRef<'_>>) -> (u32, u32, String) {
    let (row, column) = cell.get_position();
    (row, column, cell_text(cell.get_value()))
}

fn data_text(value: &calamine::Data) -> String {
    use calamine::Data;
    let text = match value {
        Data::Int(v) => v.to_string(),
        Data::Float(v) => format_number(*v),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) if d.is_duration() => format_duration(d.as_f64()),
        Data::DateTime(d) => excel_date(d.as_f64()).unwrap_or_else(|| format_number(d.as_f64())),
        Data::Error(e) => format!("#{e:?}"),
        Data::Empty => String::new(),
    };
    flatten(&text)
}

/// A cell as it reads: numbers without trailing zeros, dates as ISO dates, line breaks flattened.
fn cell_text(value: &DataRef<'_>) -> String {
    let text = match value {
        DataRef::Int(v) => v.to_string(),
        DataRef::Float(v) => format_number(*v),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) if d.is_duration() => format_duration(d.as_f64()),
        DataRef::DateTime(d) => excel_date(d.as_f64()).unwrap_or_else(|| format_number(d.as_f64())),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    };
    flatten(&text)
}

fn flatten(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn format_duration(days: f64) -> String {
    let seconds = (days * 86_400.0).round() as i64;
    format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// An Excel serial date (1900 system: day 1 is 1900-01-01, with Lotus's phantom 1900-02-29) as
/// "YYYY-MM-DD", with the time of day when there is one.
fn excel_date(serial: f64) -> Option<String> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    // Days since 1970-01-01: serial 25569 is 1970-01-01 for serials after the phantom leap day.
    let unix_days = if days < 61 { days - 25568 } else { days - 25569 };
    let (y, m, d) = civil_from_days(unix_days);
    let seconds = ((serial - serial.floor()) * 86_400.0).round() as i64;
    Some(if seconds == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", seconds / 3600, seconds / 60 % 60)
    })
}

fn calamine_error(e: impl std::fmt::Display) -> ExtractError {
    let detail = e.to_string();
    if detail.to_lowercase().contains("password") || detail.contains("EncryptedPackage") {
        return ExtractError::Encrypted;
    }
    ExtractError::Malformed { format: "spreadsheet".into(), detail }
}

/// ODS: `content.xml` streamed. Repeated rows and cells (how ODF stores runs of equal cells) are
/// written once with their span instead of being expanded, so a sheet that repeats a cell a
/// billion times costs one line.
fn read_ods(archive: &mut Archive<'_>, book: &mut Book) -> Result<(), ExtractError> {
    let xml = archive.read_text("content.xml")?;
    let mut sheet: Option<Sheet> = None;
    let mut row: Vec<(u32, String)> = Vec::new();
    let (mut row_index, mut row_repeat, mut column, mut cell_repeat) = (0u32, 1u32, 0u32, 1u32);
    let mut cell: Option<String> = None;
    let mut paragraphs = 0usize;
    let mut finished: Vec<Sheet> = Vec::new();
    let mut annotation = 0usize;
    let result = walk(&xml, |node| match node {
        Node::Open { name, tag } => match name {
            "table" => {
                let name = attr(tag, "table:name").unwrap_or_else(|| format!("Sheet{}", finished.len() + 1));
                sheet = Some(Sheet::new(Some(&name)));
                row_index = 0;
            }
            "table-row" => {
                row.clear();
                column = 0;
                row_repeat = repeat(tag, "table:number-rows-repeated");
            }
            "table-cell" | "covered-table-cell" => {
                cell_repeat = repeat(tag, "table:number-columns-repeated");
                cell = Some(String::new());
                paragraphs = 0;
            }
            "annotation" => annotation += 1,
            "p" | "h" if annotation == 0 => {
                if let Some(c) = cell.as_mut() {
                    if paragraphs > 0 {
                        c.push(' ');
                    }
                    paragraphs += 1;
                }
            }
            "s" | "tab" | "line-break" if annotation == 0 => {
                if let Some(c) = cell.as_mut() {
                    c.push(' ');
                }
            }
            _ => {}
        },
        Node::Text(t) => {
            if let (Some(c), 0) = (cell.as_mut(), annotation) {
                if c.len() < 1 << 20 {
                    c.push_str(t);
                }
            }
        }
        Node::Close { name } => match name {
            "annotation" => annotation = annotation.saturating_sub(1),
            "table-cell" | "covered-table-cell" => {
                if let Some(value) = cell.take().map(|c| flatten(&c)).filter(|c| !c.is_empty()) {
                    let value = if cell_repeat > 1 { format!("{value} (×{cell_repeat})") } else { value };
                    row.push((column, value));
                }
                column = column.saturating_add(cell_repeat);
            }
            "table-row" => {
                if let Some(s) = sheet.as_mut() {
                    if !row.is_empty() && !s.full() {
                        s.row(row_index, &row);
                        if row_repeat > 1 {
                            s.out.push_str(&format!("(the row above repeats {row_repeat} times)\n"));
                        }
                    }
                }
                row_index = row_index.saturating_add(row_repeat);
            }
            "table" => {
                if let Some(s) = sheet.take() {
                    finished.push(s);
                }
            }
            _ => {}
        },
    });
    if let Some(s) = sheet.take() {
        finished.push(s);
    }
    let damaged = result.err();
    for s in finished {
        book.add(s);
    }
    if let Some(stop) = damaged {
        if book.pages.is_empty() {
            return Err(stop.into_error("ODS", "content.xml"));
        }
        book.warnings.push(stop.warning("content.xml"));
    }
    Ok(())
}

fn repeat(tag: &quick_xml::events::BytesStart<'_>, name: &str) -> u32 {
    attr(tag, name).and_then(|v| v.trim().parse().ok()).filter(|n| *n >= 1).unwrap_or(1)
}

/// The delimiter of a CSV file: the candidate that splits the first lines most consistently.
fn guess_delimiter(source: &str) -> char {
    let lines: Vec<&str> = source.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    let mut best = (',', 0usize);
    for candidate in [',', ';', '\t', '|'] {
        let counts: Vec<usize> = lines.iter().map(|l| l.matches(candidate).count()).collect();
        let Some(&first) = counts.first() else { continue };
        let consistent = counts.iter().filter(|&&c| c == first).count();
        let score = if first == 0 { 0 } else { consistent * 1000 + first };
        if score > best.1 {
            best = (candidate, score);
        }
    }
    best.0
}

/// RFC 4180 records: quoted fields may hold delimiters, doubled quotes and line breaks.
struct CsvRecords<'s> {
    rest: &'s str,
    delimiter: char,
}

impl<'s> CsvRecords<'s> {
    fn new(source: &'s str, delimiter: char) -> Self {
        CsvRecords { rest: source, delimiter }
    }
}

impl Iterator for CsvRecords<'_> {
    type Item = Vec<String>;

    fn next(&mut self) -> Option<Vec<String>> {
        if self.rest.is_empty() {
            return None;
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = self.rest.char_indices().peekable();
        let mut end = self.rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' if quoted => {
                    if chars.peek().is_some_and(|(_, n)| *n == '"') {
                        field.push('"');
                        chars.next();
                    } else {
                        quoted = false;
                    }
                }
                '"' if field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                c if c == self.delimiter && !quoted => fields.push(flatten(&std::mem::take(&mut field))),
                '\n' if !quoted => {
                    end = i + 1;
                    break;
                }
                '\r' if !quoted => {}
                c => {
                    // A field of a megabyte is not a cell anyone reads; keep memory bounded.
                    if field.len() < 1 << 20 {
                        field.push(c);
                    }
                }
            }
        }
        fields.push(flatten(&field));
        self.rest = &self.rest[end..];
        Some(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_carry_header_names() {
        let csv = "Name,Age,City\nAlice,30,\"Paris, France\"\n\"Bob \"\"B\"\"\",41,\"Multi\nline\"\n";
        let ex = Csv.extract(Path::new("people.csv"), csv.as_bytes()).unwrap();
        assert_eq!(
            ex.pages[0].text,
            "Row 1 (header): Name; Age; City\nRow 2: Name=Alice; Age=30; City=Paris, France\n\
             Row 3: Name=Bob \"B\"; Age=41; City=Multi line"
        );
    }

    #[test]
    fn semicolons_and_no_header() {
        let csv = "1;2;3\n4;5;6\n";
        let ex = Csv.extract(Path::new("n.csv"), csv.as_bytes()).unwrap();
        assert_eq!(ex.pages[0].text, "Row 1: A=1; B=2; C=3\nRow 2: A=4; B=5; C=6");
    }

    #[test]
    fn columns_dates_and_numbers() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16383), "XFD");
        assert_eq!(excel_date(45000.0).unwrap(), "2023-03-15");
        assert_eq!(excel_date(45000.5).unwrap(), "2023-03-15 12:00");
        assert_eq!(excel_date(1.0).unwrap(), "1900-01-01");
        assert_eq!(format_number(30.0), "30");
        assert_eq!(format_number(2.5), "2.5");
    }

    #[test]
    fn ods_repeats_are_not_expanded() {
        let xml = r#"<office:document-content><office:body><office:spreadsheet>
            <table:table table:name="Data"><table:table-row><table:table-cell office:value-type="string"><text:p>Item</text:p></table:table-cell>
            <table:table-cell office:value-type="string"><text:p>Qty</text:p></table:table-cell></table:table-row>
            <table:table-row table:number-rows-repeated="1000000000"><table:table-cell office:value-type="string" table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell></table:table-row>
            </table:table></office:spreadsheet></office:body></office:document-content>"#;
        let mut zip = std::io::Cursor::new(Vec::new());
        let mut w = ::zip::ZipWriter::new(&mut zip);
        w.start_file("content.xml", ::zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut w, xml.as_bytes()).unwrap();
        w.finish().unwrap();
        let ex = Workbook.extract(Path::new("a.ods"), zip.get_ref()).unwrap();
        assert_eq!(ex.pages[0].number, Some(1));
        assert_eq!(
            ex.pages[0].text,
            "Sheet: Data\nRow 1 (header): Item; Qty\nRow 2: Item=x (×16384)\n(the row above repeats 1000000000 times)"
        );
    }
}
