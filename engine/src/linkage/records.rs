//! The records of one linkage run, in columns, in memory. The server fills
//! them from the current version of each dataset's token file; the engine
//! never reads a file.

use arrow_array::RecordBatch;
use arrow_schema::Field;
use pprl_specs::bloom::Encoding;
use pprl_specs::matchkey::{MATCH_KEY_COUNT, Token};

/// One dataset's place in a run.
#[derive(Debug, Clone)]
pub struct DatasetInput {
    pub name: String,
    pub version: u64,
    pub one_record_per_person: bool,
    /// Attribute columns, as declared by the partner (name and type).
    pub attribute_schema: Vec<Field>,
    /// Attribute values, one batch per row group read.
    pub attributes: Vec<RecordBatch>,
}

/// A match-key column: tokens and which rows have one.
#[derive(Debug, Default)]
pub struct KeyColumn {
    pub tokens: Vec<Token>,
    pub present: Vec<bool>,
}

/// Every record of a run, in columns. Record `i` belongs to dataset `dataset[i]`.
#[derive(Debug, Default)]
pub struct Records {
    pub datasets: Vec<DatasetInput>,
    pub dataset: Vec<u16>,
    pub record_ref: Vec<Token>,
    /// One column per match key, in spec order.
    pub keys: Vec<KeyColumn>,
    pub bloom: Vec<Encoding>,
    pub has_bloom: Vec<bool>,
    /// Row of the record within its dataset.
    pub row: Vec<u32>,
}

impl Records {
    /// An empty set with room for the match-key columns.
    pub fn new() -> Self {
        Records {
            keys: (0..MATCH_KEY_COUNT).map(|_| KeyColumn::default()).collect(),
            ..Default::default()
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.dataset.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.dataset.is_empty()
    }
}
