//! Citation markers in an answer: `[1]`, `[2, 3]`, `[2][3]`. Markers that name a provided source
//! are resolved; others (the model inventing `[7]` with five sources) are removed and counted.

/// Numbers cited in `text`, in order of first use, and the text with invalid markers removed.
pub fn extract(text: &str, sources: usize) -> (Vec<usize>, String, usize) {
    let mut cited = Vec::new();
    let mut dropped = 0;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &after[..close];
        let numbers: Option<Vec<usize>> = inner
            .split([',', ';'])
            .map(|part| part.trim().trim_start_matches(['#', 'S', 's']).trim().parse::<usize>().ok())
            .collect();
        match numbers {
            Some(numbers) if !numbers.is_empty() && !inner.trim().is_empty() => {
                let valid: Vec<usize> = numbers.iter().copied().filter(|n| (1..=sources).contains(n)).collect();
                dropped += numbers.len() - valid.len();
                for n in &valid {
                    if !cited.contains(n) {
                        cited.push(*n);
                    }
                }
                if !valid.is_empty() {
                    out.push('[');
                    out.push_str(&valid.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "));
                    out.push(']');
                }
            }
            // Not a citation (a bracketed word, a link): keep it.
            _ => {
                out.push('[');
                out.push_str(inner);
                out.push(']');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    // Removing a marker can leave a space before punctuation.
    let out = out.replace(" .", ".").replace(" ,", ",");
    (cited, out, dropped)
}

#[cfg(test)]
mod tests {
    use super::extract;

    #[test]
    fn valid_markers_are_kept_and_invented_ones_dropped() {
        let (cited, text, dropped) = extract("Paris [2]. Lyon [1, 7][3]. See [note].", 3);
        assert_eq!(cited, vec![2, 1, 3]);
        assert_eq!(dropped, 1);
        assert_eq!(text, "Paris [2]. Lyon [1][3]. See [note].");
        let (cited, text, dropped) = extract("Nothing [9].", 2);
        assert!(cited.is_empty());
        assert_eq!((text.as_str(), dropped), ("Nothing.", 1));
    }
}

/// Adds citations to sentences that carry none but whose words come from one source: small models
/// often answer from a passage without writing its marker. A sentence is attributed to the source
/// sharing most of its content words (stemmed), when that share is at least half and two words.
/// Returns the text with markers added and how many sentences were attributed.
pub fn attribute(text: &str, sources: &[&str]) -> (String, usize) {
    let source_terms: Vec<std::collections::HashSet<String>> =
        sources.iter().map(|s| content_terms(s).into_iter().collect()).collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut added = 0;
    for sentence in split_sentences(text) {
        let trimmed = sentence.trim_end();
        if trimmed.contains('[') || trimmed.trim().is_empty() {
            out.push_str(sentence);
            continue;
        }
        let terms = content_terms(trimmed);
        let best = source_terms
            .iter()
            .enumerate()
            .map(|(i, st)| (i, terms.iter().filter(|t| st.contains(*t)).count()))
            .max_by_key(|&(i, n)| (n, std::cmp::Reverse(i)));
        match best {
            Some((i, shared)) if shared >= 2 && shared * 2 >= terms.len() => {
                // The marker goes before the sentence's final punctuation.
                let body = trimmed.trim_end_matches(['.', '!', '?', '…']);
                out.push_str(body);
                out.push_str(&format!(" [{}]", i + 1));
                out.push_str(&trimmed[body.len()..]);
                out.push_str(&sentence[trimmed.len()..]);
                added += 1;
            }
            _ => out.push_str(sentence),
        }
    }
    (out, added)
}

/// Sentences with their trailing whitespace, so joining them gives the text back.
fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let end_here = matches!(c, '.' | '!' | '?' | '\n') && chars.get(k + 1).is_none_or(|&(_, n)| n.is_whitespace());
        if end_here {
            let mut j = k + 1;
            while j < chars.len() && chars[j].1.is_whitespace() {
                j += 1;
            }
            let stop = chars.get(j).map_or(text.len(), |&(p, _)| p);
            out.push(&text[start..stop]);
            start = stop;
            let _ = i;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Stemmed words of three or more letters, and numbers: what ties a sentence to a passage.
fn content_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = crate::store::keyword_terms(text)
        .into_iter()
        .filter(|t| t.chars().count() >= 3 || t.chars().all(|c| c.is_ascii_digit()))
        .filter(|t| !STOP.contains(&t.as_str()))
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

/// Stems too common to tie a sentence to a passage.
const STOP: &[&str] = &[
    "the", "and", "for", "are", "was", "were", "that", "this", "with", "from", "have", "has", "had", "not", "but",
    "they", "their", "which", "what", "when", "where", "who", "how", "can", "also", "into", "its", "than", "then",
    "there", "these", "those", "been", "about", "answer", "sourc", "document", "как", "что", "это", "для", "или",
    "так", "его",
];

#[cfg(test)]
mod attribution_tests {
    use super::attribute;

    #[test]
    fn sentences_are_attributed_to_the_source_they_come_from() {
        let sources = ["Honey bees dance to show where flowers are.", "Lake Baikal is 1642 metres deep."];
        let (text, added) =
            attribute("Bees dance to show where the flowers are. Baikal is 1642 metres deep! Hello.", &sources);
        assert_eq!(text, "Bees dance to show where the flowers are [1]. Baikal is 1642 metres deep [2]! Hello.");
        assert_eq!(added, 2);
        let (kept, added) = attribute("Already cited [2].", &sources);
        assert_eq!((kept.as_str(), added), ("Already cited [2].", 0));
    }
}
