//! Raw DEFLATE (the method of ZIP entries) into one buffer, with a hard limit on the output.

use zlib_rs::{Inflate, InflateFlush, Status};

/// Inflates the raw DEFLATE stream `input`. The buffer starts at `expected` bytes and grows
/// (doubling) as needed; `Ok(None)` once more than `limit` bytes would come out. Errors are
/// worded as `flate2` words them (what a streamed read through the `zip` crate reported).
pub fn raw(input: &[u8], expected: usize, limit: usize) -> Result<Option<Vec<u8>>, &'static str> {
    let mut inflate = Inflate::new(false, 15);
    // One byte beyond the limit tells a stream that ends exactly at the limit from a longer
    // one. The buffer is zeroed before it is written (no `unsafe` for uninitialised memory);
    // `len` counts the bytes inflated so far.
    let mut out: Vec<u8> = vec![0; expected.min(limit).saturating_add(1)];
    let mut len = 0usize;
    let mut consumed = 0usize;
    loop {
        if len == out.len() {
            if len > limit {
                return Ok(None);
            }
            let more = len.max(64 * 1024).min(limit + 1 - len);
            out.resize(len + more, 0);
        }
        let (in_before, out_before) = (inflate.total_in(), inflate.total_out());
        let status = inflate.decompress(&input[consumed..], &mut out[len..], InflateFlush::NoFlush);
        let produced = (inflate.total_out() - out_before) as usize;
        let taken = (inflate.total_in() - in_before) as usize;
        len += produced;
        consumed += taken;
        match status {
            Ok(Status::StreamEnd) => break,
            Ok(_) if produced == 0 && taken == 0 => {
                // No progress with room to write: the input ended before the stream did.
                return Err("corrupt deflate stream");
            }
            Ok(_) => {}
            Err(_) => return Err("corrupt deflate stream"),
        }
    }
    if len > limit {
        return Ok(None);
    }
    out.truncate(len);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::raw;

    /// A stored (uncompressed) DEFLATE block holding `data` (at most 65,535 bytes).
    fn stored(data: &[u8]) -> Vec<u8> {
        let n = data.len() as u16;
        let mut out = vec![1];
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn inflates_within_the_limit_and_refuses_beyond_it() {
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        let stream = stored(&data);
        assert_eq!(raw(&stream, 10, 1 << 20).unwrap().unwrap(), data, "grows past a low estimate");
        assert_eq!(raw(&stream, data.len(), data.len()).unwrap().unwrap(), data, "exactly at the limit");
        assert_eq!(raw(&stream, data.len(), data.len() - 1).unwrap(), None, "one byte over");
    }

    #[test]
    fn a_cut_or_garbled_stream_is_an_error() {
        let stream = stored(b"Windpark Hohe Heide");
        assert_eq!(raw(&stream[..stream.len() - 3], 64, 1 << 20), Err("corrupt deflate stream"));
        assert_eq!(raw(&[0xff; 16], 64, 1 << 20), Err("corrupt deflate stream"));
    }
}
