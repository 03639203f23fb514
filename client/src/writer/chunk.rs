//! Token columns encoded by hand: Parquet column chunks of fixed-length
//! byte arrays, PLAIN, uncompressed, without statistics (spec §7.1).
//!
//! Arrow's Parquet writer turns every fixed-size binary value into a
//! reference-counted `Bytes` before copying it into a page: two atomic
//! operations and a copy for each of a token file's nineteen values a row,
//! which was a sixth of the tokenise run's CPU time. The encoding these
//! columns need is simple enough to write directly: a data page (format v1)
//! is the definition levels, bit-packed, followed by the present values one
//! after another. The page headers and the column chunk's metadata are still
//! written by the `parquet` crate, so the file is read like any other.

use bytes::Bytes;
use parquet::basic::{Compression, Encoding, EncodingMask};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::Result;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

/// Values per bit-packed run of definition levels: 63 groups of eight, the
/// most whose run header fits one byte (as parquet-mr writes them).
const RUN_GROUPS: usize = 63;

/// One fixed-length byte-array column of the row group being written.
pub(super) struct TokenColumnChunk {
    descr: ColumnDescPtr,
    width: usize,
    nullable: bool,
    /// Rows per data page.
    page_rows: usize,
    /// The page being filled: definition levels, eight to a byte from the
    /// least significant bit (only for a nullable column).
    levels: Vec<u8>,
    /// The levels of the rows past the last whole byte.
    pending_bits: u8,
    /// The page being filled: room for the encoded levels ([`Self::prefix`]
    /// bytes), then the present values one after another. The levels go in
    /// at the end of the room, so the page's body is one slice, never copied.
    body: Vec<u8>,
    /// Bytes reserved at the start of [`Self::body`]: the most a page's levels take.
    prefix: usize,
    /// The page's levels, encoded.
    encoded: Vec<u8>,
    rows_in_page: usize,
    /// The row group's encoded pages, headers included.
    pages: Vec<u8>,
    /// Rows of the row group in finished pages.
    rows_in_chunk: u64,
}

impl TokenColumnChunk {
    /// A column of `descr`'s fixed length whose pages hold about
    /// `page_bytes` of values.
    pub(super) fn new(descr: ColumnDescPtr, page_bytes: usize) -> Self {
        let width = usize::try_from(descr.type_length()).expect("a fixed length is positive");
        assert!(width > 0, "a fixed-length column has a positive length");
        assert!(descr.max_def_level() <= 1 && descr.max_rep_level() == 0);
        let nullable = descr.max_def_level() > 0;
        let page_rows = (page_bytes / width).max(8) / 8 * 8;
        let prefix = if nullable {
            let packed = page_rows / 8;
            4 + packed + packed.div_ceil(RUN_GROUPS)
        } else {
            0
        };
        let mut body = Vec::with_capacity(prefix + page_rows * width);
        body.resize(prefix, 0);
        TokenColumnChunk {
            descr,
            width,
            nullable,
            page_rows,
            levels: Vec::with_capacity(page_rows / 8),
            pending_bits: 0,
            body,
            prefix,
            encoded: Vec::with_capacity(prefix),
            rows_in_page: 0,
            pages: Vec::new(),
            rows_in_chunk: 0,
        }
    }

    /// Appends one row's value; `None` is null.
    ///
    /// # Panics
    /// If the value has the wrong length, or is null in a column that is not nullable.
    #[inline]
    pub(super) fn push(&mut self, value: Option<&[u8]>) -> Result<()> {
        if let Some(value) = value {
            assert_eq!(value.len(), self.width, "a value of the column's length");
            self.body.extend_from_slice(value);
        } else {
            assert!(self.nullable, "null in a required column");
        }
        if self.nullable {
            let bit = self.rows_in_page % 8;
            self.pending_bits |= u8::from(value.is_some()) << bit;
            if bit == 7 {
                self.levels.push(self.pending_bits);
                self.pending_bits = 0;
            }
        }
        self.rows_in_page += 1;
        if self.rows_in_page == self.page_rows {
            self.finish_page()?;
        }
        Ok(())
    }

    /// Encodes the page being filled and appends it to the row group's pages.
    fn finish_page(&mut self) -> Result<()> {
        if self.rows_in_page == 0 {
            return Ok(());
        }
        let mut start = self.prefix;
        if self.nullable {
            if !self.rows_in_page.is_multiple_of(8) {
                self.levels.push(self.pending_bits);
                self.pending_bits = 0;
            }
            self.encoded.clear();
            encode_levels(&self.levels, self.rows_in_page, &mut self.encoded);
            self.levels.clear();
            start -= self.encoded.len();
            self.body[start..self.prefix].copy_from_slice(&self.encoded);
        }
        let body = Bytes::from(std::mem::take(&mut self.body));
        let page = Page::DataPage {
            buf: body.slice(start..),
            num_values: u32::try_from(self.rows_in_page).expect("a page holds under 2^32 rows"),
            encoding: Encoding::PLAIN,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        let size = body.len() - start;
        let mut sink = TrackedWrite::new(std::mem::take(&mut self.pages));
        let written =
            SerializedPageWriter::new(&mut sink).write_page(CompressedPage::new(page, size));
        self.pages = sink.into_inner()?;
        written?;
        self.rows_in_chunk += self.rows_in_page as u64;
        self.rows_in_page = 0;
        // The page has been written and dropped: its body is ours again.
        self.body = match body.try_into_mut() {
            Ok(body) => body.into(),
            Err(_) => Vec::with_capacity(self.prefix + self.page_rows * self.width),
        };
        self.body.clear();
        self.body.resize(self.prefix, 0);
        Ok(())
    }

    /// Closes the row group's column chunk: its bytes, and what the file
    /// writer needs to splice them in. The column is then ready for the next
    /// row group.
    pub(super) fn close(&mut self) -> Result<(Bytes, ColumnCloseResult)> {
        self.finish_page()?;
        let pages = Bytes::from(std::mem::take(&mut self.pages));
        let size = i64::try_from(pages.len()).expect("a column chunk is under 2^63 bytes");
        let metadata = ColumnChunkMetaData::builder(self.descr.clone())
            .set_compression(Compression::UNCOMPRESSED)
            .set_encodings_mask(EncodingMask::new_from_encodings(
                [Encoding::PLAIN, Encoding::RLE].iter(),
            ))
            .set_total_compressed_size(size)
            .set_total_uncompressed_size(size)
            .set_num_values(self.rows_in_chunk as i64)
            .set_data_page_offset(0)
            .build()?;
        let close = ColumnCloseResult {
            bytes_written: pages.len() as u64,
            rows_written: self.rows_in_chunk,
            metadata,
            bloom_filter: None,
            column_index: None,
            offset_index: None,
        };
        self.rows_in_chunk = 0;
        Ok((pages, close))
    }

    /// Takes back the buffer of a closed chunk once the file writer is done
    /// with it, so the next row group does not allocate (and fault in) its
    /// pages anew.
    pub(super) fn recycle(&mut self, pages: Bytes) {
        if let Ok(pages) = pages.try_into_mut() {
            let mut pages: Vec<u8> = pages.into();
            pages.clear();
            self.pages = pages;
        }
    }
}

/// Writes definition levels of width one, packed eight to a byte, as the
/// RLE/bit-packing hybrid of a v1 data page: a four-byte length, then runs.
/// A stretch of whole bytes that are all present (or all null) becomes one
/// RLE run; the rest goes in bit-packed runs of at most [`RUN_GROUPS`] bytes.
/// Padding bits in the last byte are zero; readers stop at the page's value
/// count (`rows`). The output is never longer than `4 + n + ⌈n / 63⌉` bytes
/// for `n` packed bytes.
fn encode_levels(packed: &[u8], rows: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    // Bytes whose eight levels are all rows of the page.
    let whole = (rows / 8).min(packed.len());
    let mut i = 0;
    while i < packed.len() {
        let end = (i + RUN_GROUPS).min(packed.len());
        let byte = packed[i];
        let uniform = |run: &[u8]| run.iter().all(|&b| b == byte);
        if (byte == 0 || byte == 0xFF)
            && end - i == RUN_GROUPS
            && end <= whole
            && uniform(&packed[i..end])
        {
            let mut stop = end;
            while stop + RUN_GROUPS <= whole && uniform(&packed[stop..stop + RUN_GROUPS]) {
                stop += RUN_GROUPS;
            }
            // An RLE run: its length shifted left (low bit clear), then the
            // level in one byte.
            write_uleb128(out, ((stop - i) as u64 * 8) << 1);
            out.push(byte & 1);
            i = stop;
        } else {
            // A bit-packed run: its number of groups of eight shifted left,
            // low bit set (one byte under 64 groups), then the packed bytes.
            out.push((((end - i) as u8) << 1) | 1);
            out.extend_from_slice(&packed[i..end]);
            i = end;
        }
    }
    let length = u32::try_from(out.len() - start - 4).expect("a page's levels are under 4 GB");
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
}

/// Appends `value` as an unsigned LEB128 varint.
fn write_uleb128(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Packs levels eight to a byte from the least significant bit.
    fn pack(levels: &[bool]) -> Vec<u8> {
        levels
            .chunks(8)
            .map(|byte| {
                byte.iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, &l)| acc | (u8::from(l) << i))
            })
            .collect()
    }

    /// Decodes the hybrid encoding of width-one levels, as the Parquet format
    /// describes it, independently of [`encode_levels`]: `rows` levels.
    fn decode(encoded: &[u8], rows: usize) -> Vec<bool> {
        let length = u32::from_le_bytes(encoded[..4].try_into().unwrap()) as usize;
        assert_eq!(
            encoded.len(),
            4 + length,
            "the length prefix covers the runs"
        );
        let mut input = &encoded[4..];
        let mut levels = Vec::new();
        while !input.is_empty() {
            let (mut header, mut shift) = (0u64, 0);
            loop {
                let byte = input[0];
                input = &input[1..];
                header |= u64::from(byte & 0x7F) << shift;
                shift += 7;
                if byte < 0x80 {
                    break;
                }
            }
            if header & 1 == 1 {
                let bytes = (header >> 1) as usize;
                for byte in &input[..bytes] {
                    levels.extend((0..8).map(|i| byte >> i & 1 == 1));
                }
                input = &input[bytes..];
            } else {
                let count = (header >> 1) as usize;
                assert!(input[0] <= 1, "an RLE run repeats 0 or 1");
                levels.extend(std::iter::repeat_n(input[0] == 1, count));
                input = &input[1..];
            }
        }
        assert!(
            levels.len() >= rows && levels.len() < rows + 8,
            "padding is under a byte"
        );
        assert!(levels[rows..].iter().all(|&l| !l), "padding is zero");
        levels.truncate(rows);
        levels
    }

    fn encoded(levels: &[bool]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_levels(&pack(levels), levels.len(), &mut out);
        out
    }

    #[test]
    fn mixed_levels_are_bit_packed_runs_of_at_most_63_bytes() {
        let levels: Vec<bool> = (0..1040).map(|i| i % 3 == 0).collect();
        let out = encoded(&levels);
        // 130 bytes: runs of 63, 63 and 4 bytes, each behind a header byte.
        assert_eq!(out.len(), 4 + 133);
        assert_eq!(out[4], (63 << 1) | 1);
        assert_eq!(out[68], (63 << 1) | 1);
        assert_eq!(out[132], (4 << 1) | 1);
        assert_eq!(decode(&out, levels.len()), levels);
    }

    #[test]
    fn long_stretches_of_one_level_are_single_rle_runs() {
        // 5,000 present, then 3 absent: one RLE run of 4,536 (9 × 504), then
        // the 59 bytes after it bit-packed.
        let mut levels = vec![true; 5_000];
        levels.extend([false; 3]);
        let out = encoded(&levels);
        assert_eq!(&out[4..8], &[0xF0, 0x46, 1, (59 << 1) | 1]); // 4,536 << 1 = 9,072
        assert_eq!(out.len(), 4 + 4 + 59);
        assert_eq!(decode(&out, levels.len()), levels);
        let nulls = vec![false; 65_536];
        let out = encoded(&nulls);
        assert_eq!(
            out.len(),
            4 + 3 + 1 + 1 + 2,
            "one run of 65,520, then two bytes bit-packed"
        );
        assert_eq!(decode(&out, nulls.len()), nulls);
    }

    #[test]
    fn no_levels_no_runs() {
        assert_eq!(encoded(&[]), 0u32.to_le_bytes());
    }

    proptest! {
        #[test]
        fn levels_round_trip_within_the_reserved_room(
            runs in proptest::collection::vec((any::<bool>(), 1usize..1_200), 0..12),
        ) {
            let levels: Vec<bool> = runs
                .iter()
                .flat_map(|&(level, n)| std::iter::repeat_n(level, n))
                .collect();
            let out = encoded(&levels);
            let packed = levels.len().div_ceil(8);
            prop_assert!(out.len() <= 4 + packed + packed.div_ceil(RUN_GROUPS));
            prop_assert_eq!(decode(&out, levels.len()), levels);
        }
    }
}
