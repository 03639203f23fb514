//! `pprl-client inspect`: what a token file holds, before it leaves the machine.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, bail};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pprl_specs::tokenfile::{MANIFEST_METADATA_KEY, Manifest};
use serde::Serialize;

/// What `inspect` reports.
#[derive(Debug, Serialize)]
pub struct Inspection {
    pub manifest: Manifest,
    /// Rows in the file, counted from the Parquet metadata.
    pub file_rows: u64,
    pub row_groups: usize,
    pub file_bytes: u64,
    /// Column name and Arrow type, in file order.
    pub columns: Vec<(String, String)>,
    /// Non-null values per column.
    pub non_null: Vec<(String, u64)>,
}

/// Reads a token file's metadata and checks it against the spec.
pub fn inspect(path: &Path) -> Result<Inspection> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let file_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a readable Parquet file", path.display()))?;
    let mut magic = [0u8; 4];
    let starts = File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic));
    if starts.is_err() || &magic != b"PAR1" {
        bail!(
            "{} is not a readable Parquet file: it does not start with `PAR1`",
            path.display()
        );
    }
    let meta = builder.metadata().clone();
    let manifest_json = meta
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == MANIFEST_METADATA_KEY))
        .and_then(|e| e.value.clone())
        .with_context(|| {
            format!(
                "{} has no pprl manifest: it is not a token file",
                path.display()
            )
        })?;
    let manifest = Manifest::from_json(&manifest_json)
        .with_context(|| format!("{}: bad manifest", path.display()))?;
    let schema = builder.schema().clone();
    manifest
        .check(&schema)
        .with_context(|| format!("{} is not a valid token file", path.display()))?;
    let file_rows = meta.file_metadata().num_rows().max(0) as u64;
    if file_rows != manifest.row_count {
        bail!(
            "{}: the manifest says {} rows but the file holds {}; the file is damaged or was altered",
            path.display(),
            manifest.row_count,
            file_rows
        );
    }
    let columns: Vec<(String, String)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().to_string()))
        .collect();
    let mut non_null = Vec::with_capacity(columns.len());
    // Leaf column i is top-level field i: the token-file schema is flat.
    for (i, (name, _)) in columns.iter().enumerate() {
        let mut nulls = 0u64;
        let mut known = true;
        for rg in meta.row_groups() {
            match rg.column(i).statistics().and_then(|s| s.null_count_opt()) {
                Some(n) => nulls += n,
                None => known = false,
            }
        }
        if known {
            non_null.push((name.clone(), file_rows - nulls));
        }
    }
    Ok(Inspection {
        manifest,
        file_rows,
        row_groups: meta.num_row_groups(),
        file_bytes,
        columns,
        non_null,
    })
}

/// Human-readable rendering of an inspection.
pub fn render(inspection: &Inspection) -> String {
    use std::fmt::Write;
    let m = &inspection.manifest;
    let q = &m.quality;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "token file        {} rows, {} row groups, {} bytes",
        inspection.file_rows, inspection.row_groups, inspection.file_bytes
    );
    let _ = writeln!(s, "spec version      {}", m.spec_version);
    let _ = writeln!(s, "dataset           {}", m.dataset);
    let _ = writeln!(s, "key fingerprint   {}", m.key_fingerprint);
    let _ = writeln!(s, "created at        {}", m.created_at);
    let _ = writeln!(s, "client version    {}", m.client_version);
    let _ = writeln!(
        s,
        "bloom encoding    {} bits, {}",
        m.bloom.bits, m.bloom.hardening
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "rows read {}, written {}, rejected {} (duplicate record ids {}), duplicate identities {}",
        q.rows_read,
        q.rows_written,
        q.rows_rejected,
        q.duplicate_record_ids,
        q.duplicate_identities
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<16} {:>10} {:>10} {:>10} {:>12}",
        "identifier", "present", "missing", "invalid", "placeholder"
    );
    for (name, c) in &q.identifiers {
        let _ = writeln!(
            s,
            "{:<16} {:>10} {:>10} {:>10} {:>12}",
            name, c.present, c.missing, c.invalid, c.placeholder
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "columns (nothing else is in the file):");
    for (name, ty) in &inspection.columns {
        // Token columns carry no statistics (random bytes); their counts come from the manifest.
        let from_manifest = match name.strip_prefix(pprl_specs::tokenfile::MATCH_KEY_COLUMN_PREFIX)
        {
            Some(key) => q.match_keys_formed.get(key).copied(),
            None if name == pprl_specs::tokenfile::RECORD_REF_COLUMN => Some(q.rows_written),
            None => None,
        };
        let count = inspection
            .non_null
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
            .or(from_manifest)
            .map(|c| format!("{c} non-null"));
        let kind = if m.attributes.iter().any(|a| &a.name == name) {
            "attribute"
        } else {
            "token"
        };
        let _ = writeln!(
            s,
            "  {name:<32} {ty:<24} {kind:<10} {}",
            count.unwrap_or_default()
        );
    }
    s
}
