//! Judo-style template inference (Pitsillidis et al., NDSS 2010): the text a
//! campaign's messages share, with the places where they differ as slots.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Most tokens of one message used for inference: the alignment is
/// quadratic in this.
const MAX_TEMPLATE_TOKENS: usize = 400;
/// Most messages merged into one template.
const MAX_TEMPLATE_MESSAGES: usize = 32;
/// A message whose alignment keeps less than this share of the template's
/// fixed text is left out: it is an outlier (or another template), and
/// merging it would turn the whole template into one slot.
const MIN_SHARED: f64 = 0.5;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Piece {
    /// Text every merged message has here (a word, or a line break).
    Fixed(String),
    /// Text that differs between messages.
    Slot,
}

/// An inferred template: fixed text with slots, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The pieces, in order; adjacent slots are merged.
    pub pieces: Vec<Piece>,
    /// How many messages were merged into it.
    pub merged: usize,
    /// How many were left out as outliers.
    pub skipped: usize,
}

impl Template {
    /// The number of slots.
    pub fn slots(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Slot))
            .count()
    }

    /// The number of fixed words (line breaks not counted).
    pub fn fixed_words(&self) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Fixed(w) if w != "\n"))
            .count()
    }
}

/// Rendered with slots marked `«…»` and line breaks kept.
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut at_line_start = true;
        for piece in &self.pieces {
            let word = match piece {
                Piece::Fixed(w) if w == "\n" => {
                    f.write_str("\n")?;
                    at_line_start = true;
                    continue;
                }
                Piece::Fixed(w) => w.as_str(),
                Piece::Slot => "«…»",
            };
            if !at_line_start {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
            at_line_start = false;
        }
        Ok(())
    }
}

fn tokens(text: &str) -> Vec<&str> {
    let text = &text[..text.floor_char_boundary(32 << 10)];
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 && out.last() != Some(&"\n") {
            out.push("\n");
        }
        out.extend(line.split_whitespace());
        if out.len() >= MAX_TEMPLATE_TOKENS {
            out.truncate(MAX_TEMPLATE_TOKENS);
            break;
        }
    }
    while out.last() == Some(&"\n") {
        out.pop();
    }
    out
}

/// Longest common subsequence of `a` and `b`: the index pairs matched.
fn lcs(a: &[&str], b: &[&str]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    let mut dp = vec![0u16; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            dp[at(i, j)] = if a[i] == b[j] {
                dp[at(i + 1, j + 1)] + 1
            } else {
                dp[at(i + 1, j)].max(dp[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut pairs = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if dp[at(i + 1, j)] >= dp[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

fn push_slot(pieces: &mut Vec<Piece>) {
    if pieces.last() != Some(&Piece::Slot) {
        pieces.push(Piece::Slot);
    }
}

/// Infer the template behind `messages`: start from the first message's
/// words and, for each further message, keep the words the two share in
/// order (longest common subsequence) and turn the rest into slots.
/// Messages too unlike the template so far are skipped (counted in
/// `skipped`). Bounded: at most 32 messages of 400 words each.
pub fn template(messages: &[&str]) -> Template {
    let mut iter = messages.iter().filter(|m| !m.trim().is_empty());
    let Some(first) = iter.next() else {
        return Template::default();
    };
    let mut pieces: Vec<Piece> = tokens(first)
        .into_iter()
        .map(|t| Piece::Fixed(t.to_string()))
        .collect();
    let mut merged = 1;
    let mut skipped = 0;
    for msg in iter.take(MAX_TEMPLATE_MESSAGES - 1) {
        let words = tokens(msg);
        let fixed: Vec<(usize, &str)> = pieces
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Piece::Fixed(w) => Some((i, w.as_str())),
                Piece::Slot => None,
            })
            .collect();
        let fixed_words: Vec<&str> = fixed.iter().map(|(_, w)| *w).collect();
        let pairs = lcs(&fixed_words, &words);
        if fixed_words.is_empty() || (pairs.len() as f64) < MIN_SHARED * fixed_words.len() as f64 {
            skipped += 1;
            continue;
        }
        merged += 1;
        // Rebuild: walk the old pieces; a fixed word survives when matched,
        // and message words between two matches become a slot.
        let mut next = Vec::with_capacity(pieces.len());
        let mut matched = pairs.iter().peekable();
        let mut fixed_index = 0;
        let mut last_j: Option<usize> = None;
        for piece in &pieces {
            match piece {
                Piece::Slot => push_slot(&mut next),
                Piece::Fixed(w) => {
                    if let Some(&&(fi, j)) = matched.peek()
                        && fi == fixed_index
                    {
                        let gap_start = last_j.map_or(0, |l| l + 1);
                        if j > gap_start {
                            push_slot(&mut next);
                        }
                        next.push(Piece::Fixed(w.clone()));
                        last_j = Some(j);
                        matched.next();
                    } else {
                        push_slot(&mut next);
                    }
                    fixed_index += 1;
                }
            }
        }
        if last_j.map_or(0, |l| l + 1) < words.len() {
            push_slot(&mut next);
        }
        pieces = next;
    }
    Template {
        pieces,
        merged,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_slots_where_messages_differ() {
        let t = template(&[
            "Dear John,\nbuy Viagra at $1.99 today: http://a1.example/x",
            "Dear Mary,\nbuy Viagra at $2.49 today: http://b7.example/y",
            "Dear Peter Paul,\nbuy Viagra at $0.99 today: http://c3.example/z",
        ]);
        assert_eq!(t.to_string(), "Dear «…»\nbuy Viagra at «…» today: «…»");
        assert_eq!(
            (t.merged, t.skipped, t.slots(), t.fixed_words()),
            (3, 0, 3, 5)
        );
    }

    #[test]
    fn outliers_are_skipped_and_empty_input_is_empty() {
        let t = template(&["a b c d e f", "a b c d e g", "x y z"]);
        assert_eq!(t.to_string(), "a b c d e «…»");
        assert_eq!(t.skipped, 1);
        assert_eq!(template(&[]), Template::default());
        assert_eq!(template(&["  ", "\n"]).pieces.len(), 0);
    }

    #[test]
    fn bounded_on_huge_input() {
        let big = "word ".repeat(1_000_000);
        let t = template(&[&big, &big]);
        assert_eq!(t.fixed_words(), MAX_TEMPLATE_TOKENS);
    }
}
