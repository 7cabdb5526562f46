//! What the chunk encoder ([`connector::chunk`](crate::connector)) and the
//! local intake's scanner ([`testing::batch`](crate::testing)) share to read
//! 64 bytes at once as bit masks (bit `i` for byte `i`): arithmetic on the
//! eight bytes of a `u64` word (SWAR) and, on x86_64, SSE2 lanes of 16 bytes.

/// `0x01` in each byte of a word.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a word.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;
/// The low seven bits of each byte of a word.
pub(crate) const LOW: u64 = !HIGH;

/// The transpose of an 8×8 bit matrix, bit `8 * row + column` (Hacker's
/// Delight, three rounds of swaps): the high bits of eight words gathered
/// one word at a time (`mask = (mask >> 1) | (word & HIGH)`) become the
/// block's mask.
#[inline(always)]
pub(crate) fn transpose(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00aa_00aa_00aa_00aa;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_cccc_0000_cccc;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_f0f0_f0f0;
    x ^ t ^ (t << 28)
}

/// The high bit of each byte of `word` not equal to `byte` (ASCII), other
/// bits unspecified (exact: no carry crosses bytes); `low` is `word & LOW`.
#[inline(always)]
pub(crate) fn other_bytes(word: u64, low: u64, byte: u8) -> u64 {
    ((low ^ ONES.wrapping_mul(u64::from(byte) & 0x7f)) + LOW) | word
}

/// The high bit of each byte of `word` that is not a control character
/// (below 0x20), other bits unspecified; `low` is `word & LOW`.
#[inline(always)]
pub(crate) fn text_bytes(word: u64, low: u64) -> u64 {
    (low + ONES.wrapping_mul(0x60)) | word
}

/// The 16 bytes of `lane` in an SSE2 register: from two words, so without
/// a pointer and without `unsafe` (compiled to a load).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
pub(crate) fn sse2_lane(lane: &[u8; 16]) -> std::arch::x86_64::__m128i {
    let (low, high) = lane.split_at(8);
    std::arch::x86_64::_mm_set_epi64x(
        i64::from_le_bytes(high.try_into().unwrap_or_default()),
        i64::from_le_bytes(low.try_into().unwrap_or_default()),
    )
}

/// The bit mask (bit `i` for byte `i` of the block) of the bytes set in
/// `equal`, the comparison of the block's 16-byte lane number `lane`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
pub(crate) fn sse2_bits(equal: std::arch::x86_64::__m128i, lane: usize) -> u64 {
    u64::from(std::arch::x86_64::_mm_movemask_epi8(equal) as u16) << (16 * lane)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_is_the_bit_matrix_transpose() {
        let mut seed = 7;
        for _ in 0..1000 {
            let state = crate::testing::splitmix64(&mut seed);
            let transposed = transpose(state);
            for row in 0..8 {
                for column in 0..8 {
                    assert_eq!(
                        (transposed >> (8 * row + column)) & 1,
                        (state >> (8 * column + row)) & 1
                    );
                }
            }
        }
    }
}
