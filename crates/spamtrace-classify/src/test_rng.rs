//! The deterministic generator behind the crate's randomized unit tests.

/// xorshift64: enough for test inputs, and the same on every platform.
pub(crate) struct XorShift(pub u64);

impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `n` texts of fewer than `max_pieces` pieces each, drawn from
    /// `pieces`. The generator steps once per text as well as once per
    /// piece: stepped per piece only, a text of no pieces would leave it
    /// as it was, and every later text would be empty too.
    pub(crate) fn texts<'a>(
        &'a mut self,
        pieces: &'a [&'a str],
        n: usize,
        max_pieces: u64,
    ) -> impl Iterator<Item = String> + 'a {
        (0..n).map(move |_| {
            let count = self.next() % max_pieces;
            (0..count)
                .map(|_| pieces[(self.next() % pieces.len() as u64) as usize])
                .collect()
        })
    }
}
