//! Writing reports to files (for the CLI; the console serves the same bytes).
//! Files are created new (never overwritten) and readable only by the
//! owner: they hold students' names and results.

use super::{qti_results::result_file_name, results, seal, ReportError, Seal, SittingResults};
use crate::db::Db;
use crate::pki::Keys;
use std::path::{Path, PathBuf};

fn write(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    crate::pki::write_file(path, bytes, true).map_err(|e| ReportError::Io(e.to_string()))
}

/// Writes the proces-verbaal of `sitting_id` into `out_dir` (created when
/// missing) as `proces-verbaal-<sitting>.html` and `.pdf`, each with its
/// seal beside it (`.html.sig`, `.pdf.sig`). Returns the paths written.
pub async fn write_proces_verbaal(db: &Db, keys: &Keys, sitting_id: &str, out_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    // The hub's keys give what a PostgreSQL hub's data directory does not
    // (the school's name, the policy).
    let pv = super::ProcesVerbaal::of_hub(db, keys, sitting_id).await?;
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::Io(format!("{}: {e}", out_dir.display())))?;
    let base = format!("proces-verbaal-{}", super::file_name_part(sitting_id));
    let html = pv.to_html().into_bytes();
    let pdf = pv.to_pdf().into_bytes();
    let mut written = Vec::new();
    for (ext, bytes) in [("html", html), ("pdf", pdf)] {
        let path = out_dir.join(format!("{base}.{ext}"));
        let sig_path = out_dir.join(format!("{base}.{ext}.sig"));
        for p in [&path, &sig_path] {
            if p.exists() {
                return Err(ReportError::Io(format!("{} exists; refusing to overwrite a sealed report", p.display())));
            }
        }
        write(&path, &bytes)?;
        write(&sig_path, seal(keys, &bytes).to_text().as_bytes())?;
        written.push(path);
        written.push(sig_path);
    }
    Ok(written)
}

/// Writes the results CSV of `sitting_id` to `csv_path` and, with
/// `qti_dir`, one QTI 3 result document per candidate into that directory.
pub async fn write_results(db: &Db, sitting_id: &str, csv_path: &Path, qti_dir: Option<&Path>) -> Result<SittingResults, ReportError> {
    let results = results(db, sitting_id).await?;
    if csv_path.exists() {
        return Err(ReportError::Io(format!("{} exists; refusing to overwrite it", csv_path.display())));
    }
    write(csv_path, results.to_csv().as_bytes())?;
    if let Some(dir) = qti_dir {
        std::fs::create_dir_all(dir).map_err(|e| ReportError::Io(format!("{}: {e}", dir.display())))?;
        let mut used = std::collections::BTreeSet::new();
        for (student, xml) in results.qti_documents() {
            let mut name = result_file_name(&student);
            // Two student numbers that differ only in replaced characters get distinct files.
            let mut n = 1;
            while !used.insert(name.clone()) {
                n += 1;
                name = result_file_name(&format!("{student}-{n}"));
            }
            let path = dir.join(name);
            if path.exists() {
                return Err(ReportError::Io(format!("{} exists; refusing to overwrite it", path.display())));
            }
            write(&path, xml.as_bytes())?;
        }
    }
    Ok(results)
}

/// Checks a sealed file against its seal file and the trusted hub key (hex).
pub fn verify_sealed_file(file: &Path, seal_file: &Path, trusted_key_hex: &str) -> Result<Seal, ReportError> {
    let bytes = std::fs::read(file).map_err(|e| ReportError::Io(format!("{}: {e}", file.display())))?;
    let text = std::fs::read_to_string(seal_file).map_err(|e| ReportError::Io(format!("{}: {e}", seal_file.display())))?;
    let seal = Seal::parse(&text)?;
    super::verify_seal(trusted_key_hex, &bytes, &seal)?;
    Ok(seal)
}
