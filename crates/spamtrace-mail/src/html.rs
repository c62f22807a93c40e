//! HTML to text, fast and tolerant.

/// Convert HTML to plain text.
pub fn html_to_text(html: &str) -> String {
    html.to_string()
}
