//! Reading extracts (CSV or Parquet) in batches of rows, keeping only the
//! columns the configuration selects.
//!
//! The selected text of a batch lives in one buffer that is wiped when the
//! batch is dropped. The `csv` and `parquet` crates keep their own read
//! buffers, which this module cannot wipe.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result};
use arrow_array::{Array, StringArray};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use zeroize::{Zeroize, Zeroizing};

use crate::config::{InputFormat, SelectedColumn};

/// A row that could not be read, with where and why.
#[derive(Debug, Clone)]
pub struct ReadError {
    /// The extract's column, when one column is at fault.
    pub column: Option<String>,
    pub reason: String,
}

/// Rows of selected columns. Field `c` of row `r` is `text[spans[r * n + c]]`.
pub struct RowBatch {
    text: Zeroizing<String>,
    spans: Vec<(u32, u32)>,
    /// Per row: its line (CSV, counting the header as line 1) or row number (Parquet).
    lines: Vec<u64>,
    errors: Vec<Option<ReadError>>,
    columns: usize,
}

impl std::fmt::Debug for RowBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowBatch({} rows, <redacted>)", self.lines.len())
    }
}

impl Default for RowBatch {
    fn default() -> Self {
        RowBatch {
            text: Zeroizing::new(String::new()),
            spans: Vec::new(),
            lines: Vec::new(),
            errors: Vec::new(),
            columns: 0,
        }
    }
}

impl RowBatch {
    /// Empties the batch for `rows` rows of `columns` columns, wiping its
    /// text. Its memory is kept: a batch is reused for the next rows rather
    /// than allocated afresh, which would cost page faults on every batch.
    fn start(&mut self, columns: usize, rows: usize) {
        self.clear();
        self.columns = columns;
        self.text.reserve(rows * columns * 12);
        self.spans.reserve(rows * columns);
        self.lines.reserve(rows);
        self.errors.reserve(rows);
    }

    /// Drops every row, wiping the text, and keeps the memory for reuse.
    pub fn clear(&mut self) {
        self.text.zeroize();
        self.spans.clear();
        self.lines.clear();
        self.errors.clear();
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when the batch holds no rows.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The line (CSV) or row number (Parquet) of a row.
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// Why a row could not be read, if it could not.
    pub fn error(&self, row: usize) -> Option<&ReadError> {
        self.errors[row].as_ref()
    }

    /// The text of one selected column of one row.
    pub fn field(&self, row: usize, column: usize) -> &str {
        let (start, end) = self.spans[row * self.columns + column];
        &self.text[start as usize..end as usize]
    }

    /// Starts a row; then call [`RowBatch::push_field`] once per column or [`RowBatch::fail_row`].
    fn push_row(&mut self, line: u64) {
        self.lines.push(line);
        self.errors.push(None);
    }

    fn push_field(&mut self, value: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(value);
        self.spans.push((start, self.text.len() as u32));
    }

    /// Marks the current row unreadable and pads its fields.
    fn fail_row(&mut self, error: ReadError) {
        let row = self.lines.len() - 1;
        self.spans.truncate(row * self.columns);
        self.spans.resize((row + 1) * self.columns, (0, 0));
        self.errors[row] = Some(error);
    }
}

/// A source of row batches.
pub trait RowSource: Send {
    /// The extract's column names.
    fn header(&self) -> &[String];
    /// Chooses the columns to read; call once before reading.
    fn select(&mut self, columns: &[SelectedColumn]) -> Result<()>;
    /// Refills `batch` (its rows so far are dropped and wiped) with the
    /// next rows, at most `max_rows`; it is left empty at the end.
    fn next_batch(&mut self, batch: &mut RowBatch, max_rows: usize) -> Result<()>;
    /// Progress through the input, in bytes (CSV) or rows (Parquet), and its total.
    fn progress(&self) -> (u64, u64);
}

/// Opens an extract, choosing the reader from the config or the file extension.
pub fn open(
    path: &Path,
    format: Option<InputFormat>,
    delimiter: u8,
    encoding: &'static encoding_rs::Encoding,
) -> Result<Box<dyn RowSource>> {
    let format = match format {
        Some(f) => f,
        None => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet") | Some("pq") => InputFormat::Parquet,
            _ => InputFormat::Csv,
        },
    };
    Ok(match format {
        InputFormat::Csv => Box::new(CsvSource::open(path, delimiter, encoding)?),
        InputFormat::Parquet => Box::new(ParquetSource::open(path)?),
    })
}

/// CSV extracts, decoded from the configured encoding.
pub struct CsvSource {
    reader: csv::Reader<encoding_rs_io::DecodeReaderBytes<BufReader<File>, Vec<u8>>>,
    header: Vec<String>,
    selected: Vec<usize>,
    record: csv::ByteRecord,
    total_bytes: u64,
    encoding_name: &'static str,
}

impl CsvSource {
    fn open(path: &Path, delimiter: u8, encoding: &'static encoding_rs::Encoding) -> Result<Self> {
        let file =
            File::open(path).with_context(|| format!("cannot open extract {}", path.display()))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        // UTF-8 passes through untranscoded, so that the row check below
        // sees malformed bytes: a UTF-8 decoder would replace them, unseen.
        let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding((encoding != encoding_rs::UTF_8).then_some(encoding))
            .bom_sniffing(false)
            .utf8_passthru(true)
            .strip_bom(true)
            .build(BufReader::with_capacity(1 << 20, file));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .buffer_capacity(1 << 20)
            .from_reader(decoder);
        let header_record = reader
            .byte_headers()
            .with_context(|| format!("cannot read the header line of {}", path.display()))?
            .clone();
        if header_record.is_empty() || (header_record.len() == 1 && header_record[0].is_empty()) {
            anyhow::bail!("{} is empty: it has no header line", path.display());
        }
        let mut header = Vec::with_capacity(header_record.len());
        for (i, name) in header_record.iter().enumerate() {
            let name = std::str::from_utf8(name).with_context(|| {
                format!(
                    "{}: line 1, column {}: the header is not valid {} text",
                    path.display(),
                    i + 1,
                    encoding.name()
                )
            })?;
            header.push(name.trim().to_owned());
        }
        Ok(CsvSource {
            reader,
            header,
            selected: Vec::new(),
            record: csv::ByteRecord::new(),
            total_bytes,
            encoding_name: encoding.name(),
        })
    }
}

impl RowSource for CsvSource {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn select(&mut self, columns: &[SelectedColumn]) -> Result<()> {
        self.selected = columns.iter().map(|c| c.index).collect();
        Ok(())
    }

    fn next_batch(&mut self, batch: &mut RowBatch, max_rows: usize) -> Result<()> {
        batch.start(self.selected.len(), max_rows);
        while batch.len() < max_rows {
            if !self
                .reader
                .read_byte_record(&mut self.record)
                .context("cannot read the extract")?
            {
                break;
            }
            let line = self.record.position().map_or(0, |p| p.line());
            batch.push_row(line);
            if self.record.len() != self.header.len() {
                batch.fail_row(ReadError {
                    column: None,
                    reason: format!(
                        "row has {} fields, the header has {}",
                        self.record.len(),
                        self.header.len()
                    ),
                });
                continue;
            }
            // One UTF-8 check of the whole row is much cheaper than one per
            // field; a field is then valid when it starts and ends on
            // character boundaries. Only a row that fails is checked field
            // by field, to name the column at fault.
            let row = std::str::from_utf8(self.record.as_slice()).ok();
            for &index in &self.selected {
                let value = match (row, self.record.range(index)) {
                    (Some(row), Some(range)) => row.get(range),
                    _ => std::str::from_utf8(&self.record[index]).ok(),
                };
                match value {
                    Some(value) => batch.push_field(value),
                    None => {
                        batch.fail_row(ReadError {
                            column: Some(self.header[index].clone()),
                            reason: format!(
                                "value is not valid {} text (set input.encoding if the extract uses another)",
                                self.encoding_name
                            ),
                        });
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn progress(&self) -> (u64, u64) {
        (self.reader.position().byte(), self.total_bytes)
    }
}

impl std::fmt::Debug for CsvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSource")
            .field("columns", &self.header.len())
            .finish_non_exhaustive()
    }
}

/// Parquet extracts; every selected column is read as text.
pub struct ParquetSource {
    builder: Option<ParquetRecordBatchReaderBuilder<File>>,
    reader: Option<ParquetRecordBatchReader>,
    header: Vec<String>,
    selected: Vec<usize>,
    /// Pending rows of the current Arrow batch: columns as text, and the next row.
    pending: Option<(Vec<StringArray>, usize)>,
    rows_done: u64,
    total_rows: u64,
}

impl ParquetSource {
    fn open(path: &Path) -> Result<Self> {
        let file =
            File::open(path).with_context(|| format!("cannot open extract {}", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
        let header = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        Ok(ParquetSource {
            builder: Some(builder),
            reader: None,
            header,
            selected: Vec::new(),
            pending: None,
            rows_done: 0,
            total_rows,
        })
    }

    /// The next Arrow batch with the selected columns cast to text, in selection order.
    fn next_arrow(&mut self) -> Result<Option<Vec<StringArray>>> {
        let reader = self.reader.as_mut().context("select() was not called")?;
        let Some(batch) = reader.next() else {
            return Ok(None);
        };
        let batch = batch.context("cannot read the Parquet extract")?;
        let schema = batch.schema();
        let mut columns = Vec::with_capacity(self.selected.len());
        for &index in &self.selected {
            let name = &self.header[index];
            let position = schema
                .index_of(name)
                .context("projected column is present")?;
            let cast = arrow_cast::cast(batch.column(position), &DataType::Utf8)
                .with_context(|| format!("column `{name}` cannot be read as text"))?;
            let strings = cast
                .as_any()
                .downcast_ref::<StringArray>()
                .context("a cast to Utf8 yields a StringArray")?
                .clone();
            columns.push(strings);
        }
        Ok(Some(columns))
    }
}

impl std::fmt::Debug for ParquetSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetSource")
            .field("rows", &self.total_rows)
            .finish_non_exhaustive()
    }
}

impl RowSource for ParquetSource {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn select(&mut self, columns: &[SelectedColumn]) -> Result<()> {
        self.selected = columns.iter().map(|c| c.index).collect();
        let builder = self.builder.take().context("select() is called once")?;
        let mut roots: Vec<usize> = self.selected.clone();
        roots.sort_unstable();
        roots.dedup();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        self.reader = Some(
            builder
                .with_projection(mask)
                .with_batch_size(8192)
                .build()?,
        );
        Ok(())
    }

    fn next_batch(&mut self, batch: &mut RowBatch, max_rows: usize) -> Result<()> {
        batch.start(self.selected.len(), max_rows);
        while batch.len() < max_rows {
            if self.pending.is_none() {
                match self.next_arrow()? {
                    Some(columns) => self.pending = Some((columns, 0)),
                    None => break,
                }
            }
            let (columns, next) = self.pending.as_mut().expect("pending was just filled");
            let rows = columns.first().map_or(0, |c| c.len());
            while *next < rows && batch.len() < max_rows {
                self.rows_done += 1;
                batch.push_row(self.rows_done);
                for column in columns.iter() {
                    batch.push_field(if column.is_null(*next) {
                        ""
                    } else {
                        column.value(*next)
                    });
                }
                *next += 1;
            }
            if *next >= rows {
                self.pending = None;
            }
        }
        Ok(())
    }

    fn progress(&self) -> (u64, u64) {
        (self.rows_done, self.total_rows)
    }
}
