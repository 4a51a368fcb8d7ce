//! E-mail (EML, RFC 5322 with MIME): the main headers, then the text bodies (HTML bodies read as
//! HTML where there is no plain-text one), attached messages likewise, and the names of other
//! attachments. mail-parser decodes encoded words, transfer encodings and legacy charsets.

use std::path::Path;

use mail_parser::{Address, Message, MessageParser, MimeHeaders};

use super::html::html_to_text;
use super::{text, tidy, ExtractError, Extraction, Extractor, Page};

pub struct Email;

/// How deep attached messages are followed (a message attached to a message attached to …).
const MAX_NESTING: usize = 4;

impl Extractor for Email {
    fn name(&self) -> &'static str {
        "email"
    }
    fn extensions(&self) -> &'static [&'static str] {
        &["eml", "mht", "mhtml"]
    }
    fn extract(&self, _path: &Path, bytes: &[u8]) -> Result<Extraction, ExtractError> {
        if text::looks_binary(bytes) {
            return Err(ExtractError::Unreadable("binary content in an e-mail file; it is not a MIME message".into()));
        }
        let message = MessageParser::default().parse(bytes).ok_or_else(|| ExtractError::Malformed {
            format: "e-mail".into(),
            detail: "no message headers found".into(),
        })?;
        let mut out = String::new();
        write_message(&message, &mut out, 0);
        let text = tidy(&out);
        if text.is_empty() {
            return Err(ExtractError::NoText("the message is empty".into()));
        }
        Ok(vec![Page { number: None, text }].into())
    }
}

fn write_message(message: &Message<'_>, out: &mut String, depth: usize) {
    for (label, value) in [
        ("From", message.from().map(addresses)),
        ("To", message.to().map(addresses)),
        ("Cc", message.cc().map(addresses)),
        ("Date", message.date().map(|d| d.to_rfc3339())),
        ("Subject", message.subject().map(str::to_string)),
    ] {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            out.push_str(&format!("{label}: {value}\n"));
        }
    }
    out.push('\n');
    // Plain-text bodies where the message has them; HTML ones otherwise (mail-parser lists an
    // HTML part among the text bodies when there is no plain alternative).
    for part in message.text_bodies() {
        match part.text_contents() {
            Some(html) if part.is_text_html() => out.push_str(&html_to_text(html)),
            Some(text) => out.push_str(text),
            None => {}
        }
        out.push_str("\n\n");
    }
    let mut names = Vec::new();
    for attachment in message.attachments() {
        if let Some(inner) = attachment.message() {
            if depth < MAX_NESTING {
                out.push_str("Attached message:\n");
                write_message(inner, out, depth + 1);
            }
        } else if let Some(name) = attachment.attachment_name() {
            names.push(name.to_string());
        }
    }
    if !names.is_empty() {
        out.push_str(&format!("Attachments: {}\n\n", names.join(", ")));
    }
}

fn addresses(address: &Address<'_>) -> String {
    address
        .iter()
        .map(|a| match (&a.name, &a.address) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (Some(name), None) => name.to_string(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_bodies_and_attachments() {
        let eml = "From: =?UTF-8?B?0JjQstCw0L0=?= <ivan@example.org>\r\nTo: bob@example.org\r\n\
            Subject: =?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?=\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
            Content-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            =D2=E5=EA=F1=F2 =EF=E8=F1=FC=EC=E0\r\n--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--\r\n";
        let ex = Email.extract(Path::new("m.eml"), eml.as_bytes()).unwrap();
        let text = &ex.pages[0].text;
        assert!(text.contains("From: Иван <ivan@example.org>"), "{text}");
        assert!(text.contains("Subject: Привет"), "{text}");
        assert!(text.contains("Текст письма"), "{text}");
        assert!(text.contains("Attachments: report.pdf"), "{text}");
    }

    #[test]
    fn html_only_mail_is_read_as_html() {
        let eml = "Subject: hi\r\nContent-Type: text/html\r\n\r\n<html><body><script>x()</script><p>Hello <b>there</b></p></body></html>\r\n";
        let ex = Email.extract(Path::new("m.eml"), eml.as_bytes()).unwrap();
        assert_eq!(ex.pages[0].text, "Subject: hi\n\nHello there");
    }
}
