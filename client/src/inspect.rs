//! `pprl-client inspect`: what a token file holds, before it leaves the machine.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use pprl_specs::tokenfile::Manifest;
use pprl_tokenfile::{ReadError, TokenFile};
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

/// Reads a token file's metadata and checks it against the spec, through
/// the same reader and the same checks as the linker's upload validation
/// (every page of `record_ref` is decoded, so a damaged file is found here
/// rather than refused after upload). The key fingerprint and the dataset are
/// shown, not checked: only the linker knows what its project expects.
pub fn inspect(path: &Path) -> Result<Inspection> {
    crate::seal::refuse_sealed(path)?;
    let at = |e: ReadError| anyhow::anyhow!("{}: {e}", path.display());
    let open = || -> Result<TokenFile<File>> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        TokenFile::open(file).map_err(at)
    };
    let token_file = open()?;
    let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    token_file.check_structure().map_err(at)?;
    let manifest = token_file.manifest().clone();
    let meta = token_file.metadata().clone();
    let schema = token_file.schema().clone();
    let file_rows = token_file.footer_rows();
    open()?.count_rows().map_err(at)?;
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
            // A damaged footer can count more nulls than rows.
            let Some(values) = file_rows.checked_sub(nulls) else {
                anyhow::bail!(
                    "{}: column {name}: the file's statistics count {nulls} nulls in {file_rows} rows; the file is damaged",
                    path.display()
                );
            };
            non_null.push((name.clone(), values));
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
    if let Some(id) = m.key_id {
        let _ = writeln!(s, "key id            {id}");
    }
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
