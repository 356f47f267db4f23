//! `akte export` and `akte import`: Akten through BagIt, OCFL and xdomea (akte-exchange);
//! `akte aussonderung`: the xdomea Aussonderung to an archive.

use std::{path::Path, process::ExitCode};

use akte_store::OpenOptions;
use anyhow::{Context, Result, anyhow, bail};

use crate::{
    AussonderungCommand,
    cmd::{find_akte, open, print_json},
    ingest, output,
    output::say,
    search,
};

pub async fn export(
    opts: &OpenOptions,
    format: &str,
    akten: &[String],
    out: &Path,
    institution: &str,
    json_out: bool,
) -> Result<ExitCode> {
    let repo = open(opts).await?;
    let ids = akten.iter().map(|a| find_akte(&repo, a).map(|o| o.id)).collect::<Result<Vec<_>>>()?;
    let report = match format {
        "bagit" => akte_exchange::export_bagit(&repo, &ids, out).await?,
        "ocfl" => akte_exchange::export_ocfl(&repo, &ids, out).await?,
        "xdomea" => {
            std::fs::create_dir_all(out).with_context(|| format!("Cannot create {}", out.display()))?;
            let institution = crate::http::config::institution(institution)?;
            let sender = akte_exchange::Sender { institution, ..akte_exchange::Sender::default() };
            akte_exchange::export_xdomea_0401(&repo, &ids, out, &sender).await?
        }
        other => bail!("The format {other:?} is unknown; use bagit, ocfl or xdomea"),
    };
    print_exchange(&report, "exported", json_out);
    Ok(ExitCode::SUCCESS)
}

pub async fn import(opts: &OpenOptions, path: &Path, json_out: bool) -> Result<ExitCode> {
    let mut repo = open(opts).await?;
    // The node's validators see every file first, as for `akte add`.
    let validators = ingest::ValidatorGate::of(&opts.data_dir, &repo).await?;
    let gate: &dyn akte_exchange::Gate = match &validators {
        Some(g) => g,
        None => &akte_exchange::Ungated,
    };
    let held = akte_exchange::Held::new(&mut repo);
    let report = if path.join("bagit.txt").is_file() {
        akte_exchange::import_bagit_gated(&held, path, gate).await?
    } else if path.join("0=ocfl_1.1").is_file() {
        akte_exchange::import_ocfl_gated(&held, path, gate).await?
    } else if path.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        akte_exchange::import_xdomea_gated(&held, path, &akte_exchange::Limits::default(), gate).await?
    } else if path.join(akte_exchange::paperless::MANIFEST).is_file() {
        let options = akte_exchange::PaperlessOptions::default();
        akte_exchange::import_paperless_gated(&held, path, &options, gate).await?
    } else {
        bail!(
            "{} is neither a BagIt bag (bagit.txt), an OCFL storage root (0=ocfl_1.1), a Paperless-ngx export \
             (manifest.json) nor an xdomea message (.zip)",
            path.display()
        );
    };
    if ingest::enabled() {
        let pipeline = ingest::pipeline(&opts.data_dir, &repo, json_out).await?;
        let pending = pipeline.pending(repo.catalog());
        ingest::run(&pipeline, &mut repo, &pending, json_out).await?;
        search::sync(&opts.data_dir, &repo, false, json_out).await?;
    }
    print_exchange(&report, "imported", json_out);
    Ok(ExitCode::SUCCESS)
}

pub fn print_exchange(report: &akte_exchange::Report, verb: &str, json_out: bool) {
    if json_out {
        print_json(report);
        return;
    }
    for a in &report.akten {
        say!("{verb} {}  {}", a.aktenzeichen, a.path);
    }
    say!(
        "{} Akten, {} Vorgänge, {} Dokumente, {} Versionen, {} in {}",
        report.akten.len(),
        report.vorgaenge,
        report.dokumente,
        report.versionen,
        output::size(report.bytes),
        report.path.display()
    );
}

fn archive_sender(
    institution: &str,
    archive: &Option<String>,
    prozess: Option<uuid::Uuid>,
) -> Result<akte_exchange::Sender> {
    Ok(akte_exchange::Sender {
        institution: crate::http::config::institution(institution)?,
        recipient: archive.clone(),
        prozess_id: prozess,
        ..akte_exchange::Sender::default()
    })
}

/// `akte aussonderung offer|appraisal|handover|confirm`.
pub async fn aussonderung(opts: &OpenOptions, command: &AussonderungCommand, json_out: bool) -> Result<ExitCode> {
    let mut repo = open(opts).await?;
    match command {
        AussonderungCommand::Offer { out, institution, archive } => {
            std::fs::create_dir_all(out).with_context(|| format!("Cannot create {}", out.display()))?;
            let today = time::OffsetDateTime::now_utc().date();
            let sender = archive_sender(institution, archive, None)?;
            let report = akte_exchange::export_0501(&mut repo, out, &sender, today).await?;
            print_exchange(&report, "offered", json_out);
        }
        AussonderungCommand::Handover { out, prozess, institution, archive } => {
            let prozess = match prozess {
                Some(p) => Some(p.trim().parse().map_err(|_| anyhow!("The ProzessID {p:?} is not a UUID"))?),
                None => None,
            };
            std::fs::create_dir_all(out).with_context(|| format!("Cannot create {}", out.display()))?;
            let sender = archive_sender(institution, archive, prozess)?;
            let report = akte_exchange::export_0503(&mut repo, out, &sender).await?;
            print_exchange(&report, "handed over", json_out);
        }
        AussonderungCommand::Appraisal { file } => {
            let report = akte_exchange::import_0502(&mut repo, file).await?;
            print_aussonderung(&report, json_out);
        }
        AussonderungCommand::Confirm { file } => {
            let report = akte_exchange::aussonderung::confirm(&mut repo, file).await?;
            if report.erased.is_some() {
                search::sync(&opts.data_dir, &repo, false, true).await?;
            }
            print_aussonderung(&report, json_out);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_aussonderung(report: &akte_exchange::AussonderungReport, json_out: bool) {
    if json_out {
        print_json(report);
        return;
    }
    for a in &report.akten {
        let outcome = serde_json::to_value(a.outcome).ok().and_then(|v| v.as_str().map(str::to_string));
        let outcome = outcome.unwrap_or_default().replace('_', " ");
        match &a.note {
            Some(n) => say!("{outcome} {}  ({n})", a.aktenzeichen),
            None => say!("{outcome} {}", a.aktenzeichen),
        }
    }
    match &report.erased {
        // Counted by outcome: a rerun only erases what an interrupted run left, and says so.
        Some(e) => say!(
            "Aussonderung {} ({}): deleted {} Akte(n) now ({} already before); erased {} objects and {} packs, kept {} shared with other Akten",
            report.prozess_id,
            report.message,
            report.akten.iter().filter(|a| a.outcome == akte_exchange::aussonderung::Outcome::Deleted).count(),
            report.akten.iter().filter(|a| a.outcome == akte_exchange::aussonderung::Outcome::AlreadyDeleted).count(),
            e.objects,
            e.packs,
            e.shared
        ),
        None => say!("Aussonderung {} ({}): {} Akte(n)", report.prozess_id, report.message, report.akten.len()),
    }
}
