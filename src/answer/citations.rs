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
