//! Sample documents the tests write themselves: with the docx-rs, rust_xlsxwriter and
//! epub-builder writers where crates.io has one, by hand as ZIP and XML where it has none (PPTX,
//! ODT, ODS). Shared by the format tests and the smoke fuzzer, which mutates them.

#![allow(dead_code)]

pub mod ole;

use std::io::Write;
use std::path::Path;

/// A ZIP of the given entries, stored or deflated as a real writer would.
pub fn zip_file(path: &Path, entries: &[(&str, &str)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    for (name, content) in entries {
        let method =
            if *name == "mimetype" { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        zip.start_file(*name, zip::write::SimpleFileOptions::default().compression_method(method)).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

pub fn write_docx(path: &Path) {
    use docx_rs::{Docx, Footnote, Paragraph, Run, Table, TableCell, TableRow};
    let cell = |text: &str| TableCell::new().add_paragraph(Paragraph::new().add_run(Run::new().add_text(text)));
    let note = Footnote::new().add_content(Paragraph::new().add_run(Run::new().add_text("Measured at sea level.")));
    Docx::new()
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text("Boiling points")))
        .add_paragraph(
            Paragraph::new()
                .add_run(Run::new().add_text("Water boils at 100 degrees Celsius."))
                .add_run(Run::new().add_footnote_reference(note)),
        )
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text("Вода кипит при ста градусах.")))
        .add_table(Table::new(vec![
            TableRow::new(vec![cell("Liquid"), cell("Boiling point")]),
            TableRow::new(vec![cell("Ethanol"), cell("78.37")]),
        ]))
        .build()
        .pack(std::fs::File::create(path).unwrap())
        .unwrap();
}

pub fn write_xlsx(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sales = book.add_worksheet();
    sales.set_name("Sales").unwrap();
    sales.write_string(0, 0, "Quarterly sales").unwrap();
    for (c, h) in ["Region", "Amount", "Closed"].iter().enumerate() {
        sales.write_string(1, c as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (r, (region, amount, day)) in [("North", 1250.0, 5), ("South", 980.5, 12)].iter().enumerate() {
        let row = r as u32 + 2;
        sales.write_string(row, 0, *region).unwrap();
        sales.write_number(row, 1, *amount).unwrap();
        sales.write_datetime_with_format(row, 2, ExcelDateTime::from_ymd(2024, 3, *day).unwrap(), &date).unwrap();
    }
    let notes = book.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "Figures exclude the refrigerated warehouse in Murmansk").unwrap();
    // A far corner: the sheet is sparse, not a grid of a million empty cells.
    notes.write_string(1_048_575, 16_383, "far corner").unwrap();
    book.save(path).unwrap();
}

pub fn write_epub(path: &Path) {
    use epub_builder::{EpubBuilder, EpubContent, ZipLibrary};
    let mut builder = EpubBuilder::new(ZipLibrary::new().unwrap()).unwrap();
    builder.metadata("title", "A Small Book").unwrap();
    for (i, (title, body)) in [
        ("Harbour", "The harbour freezes in January, and the ferries stop."),
        ("Lighthouse", "The lighthouse keeper logs every passing ship."),
        ("Маяк", "Смотритель маяка записывает каждый корабль."),
    ]
    .iter()
    .enumerate()
    {
        let html = format!(
            "<?xml version='1.0' encoding='utf-8'?><html xmlns='http://www.w3.org/1999/xhtml'><head><title>{title}</title>\
             <style>p {{ color: red }}</style></head><body><h1>{title}</h1><p>{body}</p></body></html>"
        );
        builder.add_content(EpubContent::new(format!("chapter_{i}.xhtml"), html.as_bytes()).title(*title)).unwrap();
    }
    let mut out = Vec::new();
    builder.generate(&mut out).unwrap();
    std::fs::write(path, out).unwrap();
}

/// A minimal PPTX as PowerPoint lays it out: slides listed in presentation.xml through
/// relationships, in an order that differs from the file names, one with speaker notes.
pub fn write_pptx(path: &Path) {
    let slide = |texts: &[&str]| {
        let shapes: String = texts
            .iter()
            .map(|t| format!("<p:sp><p:txBody><a:bodyPr/><a:p><a:r><a:rPr lang=\"en-US\"/><a:t>{t}</a:t></a:r></a:p></p:txBody></p:sp>"))
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><p:sld xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" \
             xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"><p:cSld><p:spTree>{shapes}</p:spTree></p:cSld></p:sld>"
        )
    };
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    zip_file(
        path,
        &[
            ("[Content_Types].xml", "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
            ("_rels/.rels", &format!("<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"ppt/presentation.xml\"/></Relationships>")),
            ("ppt/presentation.xml", "<p:presentation xmlns:p=\"p\" xmlns:r=\"r\"><p:sldIdLst><p:sldId id=\"256\" r:id=\"rId7\"/><p:sldId id=\"257\" r:id=\"rId3\"/></p:sldIdLst></p:presentation>"),
            ("ppt/_rels/presentation.xml.rels", &format!("<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId3\" Type=\"{rel}/slide\" Target=\"slides/slide1.xml\"/><Relationship Id=\"rId7\" Type=\"{rel}/slide\" Target=\"slides/slide2.xml\"/></Relationships>")),
            ("ppt/slides/slide2.xml", &slide(&["Quarterly review", "Revenue grew in every region"])),
            ("ppt/slides/slide1.xml", &slide(&["Next steps", "Open the Tromsø office"])),
            ("ppt/slides/_rels/slide1.xml.rels", &format!("<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId2\" Type=\"{rel}/notesSlide\" Target=\"../notesSlides/notesSlide1.xml\"/></Relationships>")),
            ("ppt/notesSlides/notesSlide1.xml", &slide(&["Mention the lease signed in May"])),
        ],
    );
}

pub fn write_odt(path: &Path) {
    zip_file(
        path,
        &[
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:text>\
                <text:h text:outline-level=\"1\">Glaciers</text:h><text:p>Glaciers move<text:s text:c=\"2\"/>slowly downhill.</text:p>\
                <text:list><text:list-item><text:p>Ice ages recur.</text:p></text:list-item></text:list></office:text></office:body></office:document-content>"),
        ],
    );
}

pub fn write_ods(path: &Path) {
    zip_file(
        path,
        &[
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:spreadsheet>\
                <table:table table:name=\"Stock\"><table:table-row><table:table-cell office:value-type=\"string\"><text:p>Item</text:p></table:table-cell><table:table-cell office:value-type=\"string\"><text:p>Count</text:p></table:table-cell></table:table-row>\
                <table:table-row><table:table-cell office:value-type=\"string\"><text:p>Anchors</text:p></table:table-cell><table:table-cell office:value-type=\"float\" office:value=\"12\"><text:p>12</text:p></table:table-cell></table:table-row></table:table>\
                <table:table table:name=\"Empty\"/><table:table table:name=\"Crew\"><table:table-row><table:table-cell office:value-type=\"string\"><text:p>Captain Nemo</text:p></table:table-cell></table:table-row></table:table>\
                </office:spreadsheet></office:body></office:document-content>"),
        ],
    );
}

pub const RTF: &str = r"{\rtf1\ansi\ansicpg1251\deff0{\fonttbl{\f0\fnil\fcharset204 Times New Roman;}}{\info{\author Nobody}}
\f0\fs24 \'cf\'f0\'e8\'e2\'e5\'f2 from RTF.\par Second \b bold\b0  line\u8212? done.\par}";

pub const EML: &str = "From: Harbour Master <master@port.example>\r\nTo: crew@port.example\r\nSubject: Ice report\r\n\
    Date: Tue, 5 Mar 2024 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"x\"\r\n\r\n\
    --x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe inner basin is frozen; moor at pier 4.\r\n\
    --x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>The inner basin is <b>frozen</b>; moor at pier 4.</p>\r\n--x--\r\n";
