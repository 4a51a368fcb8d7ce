//! Binary Office files as their programs write them: OLE compound files holding a Word 97
//! document, a PowerPoint 97 presentation, an Outlook message. Shared by the format tests and the
//! mutation fuzzer.

use std::io::{Cursor, Write};
use std::path::Path;

pub fn compound(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    for (path, bytes) in streams {
        let parent = Path::new(path).parent().unwrap();
        if parent != Path::new("/") && !file.exists(parent) {
            file.create_storage_all(parent).unwrap();
        }
        file.create_stream(path).unwrap().write_all(bytes).unwrap();
    }
    file.flush().unwrap();
    file.into_inner().into_inner()
}

pub fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A Word 97 document: its File Information Block, the text in the WordDocument stream as two
/// pieces (one 8-bit "compressed", one UTF-16), and the piece table in the 1Table stream.
pub fn word_97(first: &str, second: &str) -> Vec<u8> {
    let (text_at, second_at) = (0x800usize, 0xA00usize);
    let mut word = vec![0u8; second_at + second.encode_utf16().count() * 2];
    put_u16(&mut word, 0, 0xA5EC); // wIdent
    put_u16(&mut word, 2, 0x00C1); // nFib: Word 97
    put_u16(&mut word, 0x0A, 0x0200); // fWhichTblStm: 1Table
    put_u16(&mut word, 32, 14); // csw
    put_u16(&mut word, 62, 22); // cslw
    let chars = first.len() + second.encode_utf16().count();
    put_u32(&mut word, 64 + 12, chars as u32); // ccpText
    put_u16(&mut word, 152, 93); // cbRgFcLcb
    word[text_at..text_at + first.len()].copy_from_slice(first.as_bytes());
    let wide = utf16(second);
    word[second_at..second_at + wide.len()].copy_from_slice(&wide);
    // Clx: a Pcdt with two pieces.
    let mut plc = Vec::new();
    for cp in [0, first.len(), chars] {
        plc.extend((cp as u32).to_le_bytes());
    }
    for fc in [((text_at * 2) as u32) | 0x4000_0000, second_at as u32] {
        plc.extend([0u8, 0]);
        plc.extend(fc.to_le_bytes());
        plc.extend([0u8, 0]);
    }
    let mut clx = vec![0x02];
    clx.extend((plc.len() as u32).to_le_bytes());
    clx.extend(plc);
    let fc_clx = 16usize;
    let mut table = vec![0u8; fc_clx];
    table.extend(&clx);
    put_u32(&mut word, 0x1A2, fc_clx as u32);
    put_u32(&mut word, 0x1A6, clx.len() as u32);
    compound(&[("/WordDocument", word), ("/1Table", table)])
}

pub fn record(kind: u16, ver_inst: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(ver_inst.to_le_bytes());
    out.extend(kind.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// A PowerPoint 97 presentation: a document container whose slide list holds two slides' outline
/// text (one UTF-16, one 8-bit), and a slide whose drawing holds a text box.
pub fn powerpoint_97() -> Vec<u8> {
    let persist = record(0x03F3, 0, &[0u8; 20]);
    let mut list = Vec::new();
    list.extend(&persist);
    list.extend(record(0x0FA0, 0, &utf16("Quarterly results")));
    list.extend(&persist);
    list.extend(record(0x0FA8, 0, b"Pump maintenance schedule"));
    let mut document = record(0x0FF0, 0x000F, &list);
    let textbox = record(0xF00D, 0x000F, &record(0x0FA0, 0, &utf16("Revenue grew in Kazan")));
    document.extend(record(0x03EE, 0x000F, &textbox));
    let stream = record(0x03E8, 0x000F, &document);
    compound(&[("/PowerPoint Document", stream)])
}

pub fn outlook_message() -> Vec<u8> {
    compound(&[
        ("/__substg1.0_0037001F", utf16("Pump inspection")),
        ("/__substg1.0_0C1A001F", utf16("Анна Петрова")),
        ("/__substg1.0_0E04001F", utf16("Maintenance team")),
        ("/__substg1.0_1000001F", utf16("The coolant pump is inspected every spring.\r\nРегламент в приложении.")),
        ("/__attach_version1.0_#00000000/__substg1.0_3707001F", utf16("schedule.xlsx")),
    ])
}
