//! Text evidence: masked tokens, word shingles, and the two near-duplicate
//! sketches compared in `benches/attribution.rs` (MinHash and SimHash).
//!
//! Every hash here is defined in this file (FNV-1a plus a 64-bit finaliser)
//! rather than taken from `std`, because sketches are persisted in the
//! attributor's snapshot: they must mean the same thing in every build.

/// Most bytes of a message's text looked at: spam templates show themselves
/// in the first screens; the rest costs time and gives hostile input room.
pub(crate) const MAX_TEXT_BYTES: usize = 16 << 10;
/// Most tokens kept per message.
pub(crate) const MAX_TOKENS: usize = 600;
/// Words per shingle.
pub(crate) const SHINGLE: usize = 3;
/// MinHash values per sketch: `BANDS * ROWS`.
pub(crate) const MINHASH_K: usize = BANDS * ROWS;
/// LSH bands. 20 bands of 3 rows find a pair with Jaccard 0.5 with
/// probability 0.93 and one with 0.3 with probability 0.42.
pub(crate) const BANDS: usize = 20;
/// Rows per LSH band.
pub(crate) const ROWS: usize = 3;

/// 64-bit FNV-1a, then the MurmurHash3 finaliser for better high bits.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// A hasher for maps whose keys are already good hashes (shingles, band
/// keys): the value itself, mixed once; byte keys (domains) use FNV-1a.
/// Several times faster than SipHash here; the keys are not chosen by an
/// attacker in a way that could collide them more than random ones.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = mix(self.0 ^ hash_bytes(bytes));
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = mix(self.0 ^ x);
    }
    fn write_u32(&mut self, x: u32) {
        self.0 = mix(self.0 ^ x as u64);
    }
    fn write_usize(&mut self, x: usize) {
        self.0 = mix(self.0 ^ x as u64);
    }
}

/// A hash map keyed by precomputed hashes or short strings.
pub(crate) type FastMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// MurmurHash3's 64-bit finaliser.
pub(crate) fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// What a variable token was replaced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mask {
    Url,
    Email,
    Number,
    Random,
}

impl Mask {
    fn token(self) -> &'static str {
        match self {
            Mask::Url => "\u{1}url",
            Mask::Email => "\u{1}email",
            Mask::Number => "\u{1}num",
            Mask::Random => "\u{1}rand",
        }
    }
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// Whether a lowercase ASCII word looks machine-made: no vowel in five or
/// more letters, or a run of six consonants (English has at most five, as
/// in "strengths"; random letters often have more).
fn looks_random(word: &[u8]) -> bool {
    if word.len() < 5 {
        return false;
    }
    let mut run = 0;
    let mut vowels = 0;
    for &c in word {
        if is_vowel(c) {
            vowels += 1;
            run = 0;
        } else if c.is_ascii_alphabetic() {
            run += 1;
            if run >= 6 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    vowels == 0
}

/// Classify one whitespace-separated word: `Err(mask)` when it is variable
/// by nature, `Ok(normalised)` otherwise (lowercased, punctuation trimmed;
/// empty when nothing is left).
pub(crate) fn classify_word(word: &str) -> Result<String, Mask> {
    let lower_start = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    if lower_start.len() >= 4 {
        let head = &lower_start.as_bytes()[..lower_start.len().min(8)];
        let head = head.to_ascii_lowercase();
        if head.starts_with(b"http") || head.starts_with(b"www.") || word.contains("://") {
            return Err(Mask::Url);
        }
    }
    if word.contains('@') && word.contains('.') {
        return Err(Mask::Email);
    }
    let trimmed = word.trim_matches(|c: char| !c.is_alphanumeric());
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed.bytes().any(|b| b.is_ascii_digit()) {
        return Err(Mask::Number);
    }
    if trimmed.len() > 24 || trimmed.matches('-').count() >= 3 {
        return Err(Mask::Random);
    }
    let lower = trimmed.to_lowercase();
    if lower.is_ascii() && looks_random(lower.as_bytes()) {
        return Err(Mask::Random);
    }
    Ok(lower)
}

/// Like [`classify_word`] but returns the hash of the normalised word,
/// without allocating for ASCII words (the common case).
fn classify_word_hash(word: &str) -> Result<Option<u64>, Mask> {
    if !word.is_ascii() {
        return classify_word(word).map(|w| (!w.is_empty()).then(|| hash_bytes(w.as_bytes())));
    }
    let lower_start = word.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    if lower_start.len() >= 4 {
        let b = lower_start.as_bytes();
        let starts = |p: &[u8]| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p);
        if starts(b"http") || starts(b"www.") || word.contains("://") {
            return Err(Mask::Url);
        }
    }
    let bytes = word.as_bytes();
    if bytes.contains(&b'@') && bytes.contains(&b'.') {
        return Err(Mask::Email);
    }
    let trimmed = word
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .as_bytes();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.iter().any(u8::is_ascii_digit) {
        return Err(Mask::Number);
    }
    if trimmed.len() > 24 || trimmed.iter().filter(|&&c| c == b'-').count() >= 3 {
        return Err(Mask::Random);
    }
    let mut buf = [0u8; 24];
    let lower = &mut buf[..trimmed.len()];
    lower.copy_from_slice(trimmed);
    lower.make_ascii_lowercase();
    if looks_random(lower) {
        return Err(Mask::Random);
    }
    Ok(Some(hash_bytes(lower)))
}

/// The tokens of a text after masking variable ones, as hashes. Runs of the
/// same mask collapse into one so that slots of varying length line up.
/// Returns the token hashes and the number of words that were not masked.
pub(crate) fn masked_token_hashes(text: &str) -> (Vec<u64>, usize) {
    let text = &text[..text.floor_char_boundary(MAX_TEXT_BYTES)];
    let mut out = Vec::with_capacity(128);
    let mut plain = 0;
    let mut last_mask: Option<Mask> = None;
    for word in text.split_whitespace() {
        if out.len() >= MAX_TOKENS {
            break;
        }
        match classify_word_hash(word) {
            Ok(None) => {}
            Ok(Some(h)) => {
                out.push(h);
                plain += 1;
                last_mask = None;
            }
            Err(m) => {
                if last_mask != Some(m) {
                    out.push(hash_bytes(m.token().as_bytes()));
                }
                last_mask = Some(m);
            }
        }
    }
    (out, plain)
}

/// The masked text as a readable pattern (subjects): variable tokens become
/// `#`, `<url>`, `<email>` or `*`.
pub(crate) fn masked_pattern(text: &str) -> String {
    let text = &text[..text.floor_char_boundary(1024)];
    let mut out = String::new();
    for word in text.split_whitespace() {
        let piece = match classify_word(word) {
            Ok(w) if w.is_empty() => continue,
            Ok(w) => w,
            Err(Mask::Url) => "<url>".into(),
            Err(Mask::Email) => "<email>".into(),
            Err(Mask::Number) => "#".into(),
            Err(Mask::Random) => "*".into(),
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&piece);
    }
    out
}

/// Hashes of the `SHINGLE`-word windows of a token sequence (a shorter
/// sequence gives one shingle of all its tokens; none when empty).
pub(crate) fn shingles(tokens: &[u64]) -> Vec<u64> {
    if tokens.is_empty() {
        return Vec::new();
    }
    if tokens.len() < SHINGLE {
        return vec![tokens.iter().fold(0u64, |h, t| mix(h.rotate_left(21) ^ t))];
    }
    let mut out: Vec<u64> = tokens
        .windows(SHINGLE)
        .map(|w| mix(w[0].rotate_left(42) ^ w[1].rotate_left(21) ^ w[2]))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Per-row seeds of the MinHash permutations, derived once.
fn minhash_seeds() -> &'static [(u64, u64); MINHASH_K] {
    static SEEDS: std::sync::OnceLock<[(u64, u64); MINHASH_K]> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = [(0u64, 0u64); MINHASH_K];
        for (i, s) in seeds.iter_mut().enumerate() {
            s.0 = mix(0x5151_0000 + i as u64) | 1;
            s.1 = mix(0xabcd_0000 + i as u64);
        }
        seeds
    })
}

/// The MinHash sketch of a shingle set: for each of `MINHASH_K` hash
/// functions, the smallest value over the set (top 32 bits).
pub(crate) fn minhash(shingles: &[u64]) -> Vec<u32> {
    let seeds = minhash_seeds();
    let mut sketch = vec![u32::MAX; MINHASH_K];
    for &s in shingles {
        for (slot, &(a, b)) in sketch.iter_mut().zip(seeds.iter()) {
            let v = ((s ^ b).wrapping_mul(a) >> 32) as u32;
            if v < *slot {
                *slot = v;
            }
        }
    }
    sketch
}

/// Estimated Jaccard similarity of the two sets behind two MinHash sketches.
pub(crate) fn minhash_similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// The LSH band keys of a MinHash sketch: one per band, mixing in the band
/// number so equal rows in different bands do not collide.
pub(crate) fn band_keys(sketch: &[u32]) -> impl Iterator<Item = u64> + '_ {
    sketch.chunks(ROWS).enumerate().map(|(band, rows)| {
        let mut h = mix(band as u64 + 1);
        for &r in rows {
            h = mix(h ^ r as u64);
        }
        h
    })
}

/// Charikar's SimHash of a shingle set: each bit is the majority vote of the
/// shingles' hash bits.
pub(crate) fn simhash(shingles: &[u64]) -> u64 {
    let mut votes = [0i32; 64];
    for &s in shingles {
        for (bit, v) in votes.iter_mut().enumerate() {
            *v += if (s >> bit) & 1 == 1 { 1 } else { -1 };
        }
    }
    votes.iter().enumerate().fold(
        0u64,
        |acc, (bit, &v)| if v > 0 { acc | (1 << bit) } else { acc },
    )
}

/// Similarity of two SimHashes on the scale of MinHash's Jaccard estimate:
/// SimHash bits agree with probability `1 - angle/pi`, so the cosine is
/// `cos(pi * hamming / 64)`; for sets of similar size the Jaccard index is
/// about `cos / (2 - cos)`.
pub(crate) fn simhash_similarity(a: u64, b: u64) -> f64 {
    let hamming = (a ^ b).count_ones() as f64;
    let cos = (std::f64::consts::PI * hamming / 64.0).cos();
    if cos <= 0.0 { 0.0 } else { cos / (2.0 - cos) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_variable_tokens() {
        assert_eq!(classify_word("http://x.example/a"), Err(Mask::Url));
        assert_eq!(classify_word("(www.foo.com)"), Err(Mask::Url));
        assert_eq!(classify_word("bob@x.com"), Err(Mask::Email));
        assert_eq!(classify_word("$12.99"), Err(Mask::Number));
        assert_eq!(classify_word("xkcdqz"), Err(Mask::Random));
        assert_eq!(classify_word("ab3d-efgh-ijkl-mnop"), Err(Mask::Number));
        assert_eq!(classify_word("Viagra,"), Ok("viagra".into()));
        assert_eq!(classify_word("strengths"), Ok("strengths".into()));
        assert_eq!(classify_word("--"), Ok(String::new()));
        assert_eq!(
            masked_pattern("Re: your order #12345 from bob@x.com"),
            "re your order # from <email>"
        );
        for w in [
            "Viagra,",
            "xkcdqz",
            "$1.99",
            "http://a",
            "WWW.x.y",
            "a@b.c",
            "--",
            "ab-cd-ef-gh",
            "Hello!",
            "héllo",
            "STRENGTHS",
        ] {
            let slow = classify_word(w).map(|s| (!s.is_empty()).then(|| hash_bytes(s.as_bytes())));
            assert_eq!(classify_word_hash(w), slow, "{w}");
        }
    }

    #[test]
    fn masked_runs_collapse_and_limits_hold() {
        let (a, plain) = masked_token_hashes("buy 1 2 3 now");
        let (b, _) = masked_token_hashes("buy 77 now");
        assert_eq!(a, b);
        assert_eq!(plain, 2);
        let huge = "word ".repeat(100_000);
        assert_eq!(masked_token_hashes(&huge).0.len(), MAX_TOKENS);
        // Multi-byte text cut at the byte limit must not panic.
        let wide = "é".repeat(MAX_TEXT_BYTES);
        assert!(!masked_token_hashes(&wide).0.is_empty());
    }

    #[test]
    fn sketches_estimate_similarity() {
        let text_a = "the quick brown fox jumps over the lazy dog and runs into the deep dark forest where nobody can find it ever again";
        let text_b = "the quick brown fox jumps over the lazy cat and runs into the deep dark forest where nobody can find it ever again";
        let text_c = "completely different words about pharmacy products shipped worldwide without any prescription needed today";
        let sh = |t: &str| shingles(&masked_token_hashes(t).0);
        let (a, b, c) = (sh(text_a), sh(text_b), sh(text_c));
        let (ma, mb, mc) = (minhash(&a), minhash(&b), minhash(&c));
        assert!(
            minhash_similarity(&ma, &mb) > 0.6,
            "{}",
            minhash_similarity(&ma, &mb)
        );
        assert!(minhash_similarity(&ma, &mc) < 0.15);
        assert_eq!(minhash_similarity(&ma, &ma), 1.0);
        assert!(
            simhash_similarity(simhash(&a), simhash(&b))
                > simhash_similarity(simhash(&a), simhash(&c))
        );
        assert_eq!(simhash_similarity(simhash(&a), simhash(&a)), 1.0);
        let keys_a: Vec<u64> = band_keys(&ma).collect();
        assert_eq!(keys_a.len(), BANDS);
        assert!(band_keys(&mb).zip(&keys_a).any(|(x, y)| x == *y));
    }
}
