//! Everything shown in the report passes through here. Mail is hostile: a
//! subject may hold markup, `</style>`, NULs, bidirectional overrides that
//! reorder the text around it, or a megabyte of anything.

/// Longest subject, domain or name shown, in characters.
pub const MAX_SHORT: usize = 200;
/// Longest template or sample text shown, in characters.
pub const MAX_LONG: usize = 2_000;

/// `text` cut to at most `max` characters, with `…` when it was cut.
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// Characters that would let mail reorder or hide the text around it:
/// bidirectional embeddings, overrides and isolates, and the marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Escape `text` for HTML text and for double- or single-quoted attribute
/// values (also inside inline SVG), after clipping it to `max` characters.
/// Control characters become `�`; bidirectional controls become a visible
/// `[U+202E]` so an analyst sees that the mail tried to reorder its text.
pub fn esc_clip(text: &str, max: usize) -> String {
    let text = clip(text, max);
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if is_bidi_control(c) => out.push_str(&format!("[U+{:04X}]", c as u32)),
            c if c.is_control() || c == '\u{FEFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// [`esc_clip`] with the short limit, for names, subjects and domains.
pub fn esc(text: &str) -> String {
    esc_clip(text, MAX_SHORT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_quotes_and_controls_are_neutralised() {
        assert_eq!(esc("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(esc("a\0b\u{7}c\u{85}"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}");
        assert_eq!(esc("evil\u{202E}gpj.exe"), "evil[U+202E]gpj.exe");
        assert_eq!(esc("line\nnext"), "line\nnext");
    }

    #[test]
    fn long_text_is_clipped_on_a_character_boundary() {
        let long = "é".repeat(1_000_000);
        let out = esc(&long);
        assert_eq!(out.chars().count(), MAX_SHORT + 1);
        assert!(out.ends_with('…'));
        assert_eq!(clip("short", 10), "short");
    }
}
