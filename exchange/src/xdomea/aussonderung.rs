//! The Aussonderung to an archive: 0501 Anbieteverzeichnis (the offer) → the archive's
//! 0502 Bewertungsverzeichnis (its appraisal per Akte) → 0503 Aussonderung (the Akten it
//! keeps, with their documents) → the archive's 0506 AussonderungImportBestaetigen (what
//! it took over), after which the Akten handed over and those appraised for destruction
//! are deleted, with the evidence kept in their tombstones. A 0507
//! AussonderungEmpfangBestaetigen (mere receipt) is recorded but deletes nothing.
//!
//! **One ProzessID per Aussonderung.** Every message of one Aussonderung carries the
//! ProzessID of its 0501 (the schema: it "dient zur Identifikation bei Rückmeldungen"); a
//! 0502, 0506 or 0507 with another one is refused.
//!
//! **Where the progress is kept.** In each offered Akte's field `custom`, under the key
//! `aussonderung` ([`STATE_KEY`]), as an [`AussonderungState`]: this repository's id, the
//! ProzessID, and when it was offered, appraised (with the archive's A or V), handed over,
//! received, or refused by the archive. It is an ordinary field update, so every step is in
//! the Akte's history with old and new values, visible to the archivist and carried by
//! every export; a state written by another repository (an Akte that came in through an
//! import) is ignored. An Akte is in at most one Aussonderung: the offer skips Akten that
//! carry a state of this repository (removing the key withdraws an Akte).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use akte_store::{
    Change, Repository,
    catalog::{Catalog, Obj},
    erase::{Erased, check_deletable, evidence},
    model::{Appraisal, ObjKind},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{
    Limits, Sender,
    export::{Collect, message_names, target, write_kopf, write_schriftgut, write_zip},
    xml::{self, El, NS, Writer},
    zipin,
};
use crate::{Error, Format, Report, Result};

/// The root element and file stem of an Anbieteverzeichnis.
pub const ANBIETEVERZEICHNIS_0501: &str = "Aussonderung.Anbieteverzeichnis.0501";
/// The root element and file stem of a Bewertungsverzeichnis.
pub const BEWERTUNGSVERZEICHNIS_0502: &str = "Aussonderung.Bewertungsverzeichnis.0502";
/// The root element and file stem of an Aussonderung.
pub const AUSSONDERUNG_0503: &str = "Aussonderung.Aussonderung.0503";
/// The root element and file stem of the archive's import confirmation.
pub const IMPORT_BESTAETIGEN_0506: &str = "Aussonderung.AussonderungImportBestaetigen.0506";
/// The root element and file stem of the archive's receipt of an Aussonderung.
pub const EMPFANG_BESTAETIGEN_0507: &str = "Aussonderung.AussonderungEmpfangBestaetigen.0507";
/// The key in an Akte's `custom` field that holds its [`AussonderungState`].
pub const STATE_KEY: &str = "aussonderung";
/// The `basis` of the deletions an Aussonderung makes.
pub const BASIS: &str = "aussonderung";

/// Where an Akte stands in an Aussonderung (kept in `custom.aussonderung`). Times are
/// RFC 3339.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AussonderungState {
    /// The repository that offered the Akte (a state of another repository is ignored).
    pub repository: Uuid,
    /// The ProzessID of the Aussonderung (of its 0501).
    pub prozess_id: Uuid,
    /// When the Anbieteverzeichnis was written.
    pub offered: String,
    /// The archive's appraisal from the 0502: `A` (archivwürdig) or `V` (vernichten).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appraisal: Option<String>,
    /// When the 0502 was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appraised: Option<String>,
    /// When the 0503 was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_over: Option<String>,
    /// When the archive's 0507 (receipt) was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    /// The archive's reason when its 0506 reported the import of this Akte as failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// What happened to one Akte when a message was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Appraised archivwürdig (0502).
    Archivwuerdig,
    /// Appraised for destruction (0502).
    Vernichten,
    /// Offered, but the 0502 did not appraise it.
    NotAppraised,
    /// The archive confirmed receipt (0507).
    Received,
    /// Deleted (0506).
    Deleted,
    /// Deleted by an earlier run of the same confirmation (only erased again).
    AlreadyDeleted,
    /// The archive reports its import as failed; kept.
    Failed,
    /// Due for deletion, but kept (e.g. a legal hold was set since the offer).
    Kept,
    /// Handed over, but the confirmation does not mention it; kept.
    Pending,
}

/// One Akte of an [`AussonderungReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AkteOutcome {
    /// The Akte's id.
    pub id: Uuid,
    /// Its Aktenzeichen.
    pub aktenzeichen: String,
    /// What happened.
    pub outcome: Outcome,
    /// Why (for `failed` and `kept`), or the archive's Archivkennung (for `deleted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What reading a 0502, 0506 or 0507 did.
#[derive(Clone, Debug, Serialize)]
pub struct AussonderungReport {
    /// The message type read (`0502`, `0506`, `0507`).
    pub message: String,
    /// The file read.
    pub path: PathBuf,
    /// The ProzessID of the Aussonderung.
    pub prozess_id: Uuid,
    /// The Akten of the Aussonderung, by Aktenzeichen.
    pub akten: Vec<AkteOutcome>,
    /// The erasure, when Akten were deleted.
    pub erased: Option<Erased>,
}

/// The state an Akte carries for this repository, if any.
pub fn state_of(akte: &Obj, repository: Uuid) -> Option<AussonderungState> {
    let v = akte.fields.get("custom")?.get(STATE_KEY)?;
    let s: AussonderungState = serde_json::from_value(v.clone()).ok()?;
    (s.repository == repository).then_some(s)
}

/// The update that sets an Akte's state (other custom fields kept).
fn set_state(akte: &Obj, state: &AussonderungState, extra: Option<(&str, Value)>) -> Change {
    let mut custom = akte.fields.get("custom").and_then(Value::as_object).cloned().unwrap_or_default();
    custom.insert(STATE_KEY.into(), serde_json::to_value(state).expect("state serializes"));
    let mut fields = Map::new();
    fields.insert("custom".into(), Value::Object(custom));
    if let Some((k, v)) = extra {
        fields.insert(k.into(), v);
    }
    Change::Update { id: akte.id, fields }
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&Rfc3339).expect("now formats")
}

fn az(akte: &Obj) -> String {
    akte.text("aktenzeichen").unwrap_or_default().to_string()
}

/// The live Akten of one Aussonderung of this repository, by Aktenzeichen.
fn members(catalog: &Catalog, repository: Uuid, prozess: Uuid) -> Vec<(&Obj, AussonderungState)> {
    let mut out: Vec<(&Obj, AussonderungState)> = catalog
        .all(ObjKind::Akte)
        .filter_map(|a| state_of(a, repository).map(|s| (a, s)))
        .filter(|(_, s)| s.prozess_id == prozess)
        .collect();
    out.sort_by(|a, b| (a.0.text("aktenzeichen"), a.0.id).cmp(&(b.0.text("aktenzeichen"), b.0.id)));
    out
}

/// Whether a ProzessID was used by an Aussonderung of this repository (live or deleted Akten).
fn prozess_used(catalog: &Catalog, repository: Uuid, prozess: Uuid) -> bool {
    let p = prozess.to_string();
    !members(catalog, repository, prozess).is_empty()
        || catalog.state.deleted.values().any(|t| t.evidence.get("prozess_id").and_then(Value::as_str) == Some(&p))
}

/// The message head time and the sender with it filled in, so that the state and the
/// message say the same.
fn stamped(sender: &Sender) -> Result<(Sender, String)> {
    let created = sender.created.unwrap_or_else(time::OffsetDateTime::now_utc);
    let text = created.format(&Rfc3339).map_err(|e| Error::Usage(format!("Bad creation time: {e}")))?;
    Ok((Sender { created: Some(created), ..sender.clone() }, text))
}

/// Writes the Anbieteverzeichnis (0501) of every closed Akte whose retention has ended on
/// `today` ([`check_deletable`]: never one with a legal hold or a running retention) and
/// that is in no Aussonderung of this repository yet, into `out_dir` as
/// `<ProzessID>_Aussonderung.Anbieteverzeichnis.0501.zip` holding the XML only: the Akten's
/// metadata with their Vorgänge and Dokumente, but no versions and no primary documents.
/// Each Akte carries an Aussonderungsart: its `appraisal`, else its Aktenplan node's, else
/// B. The offer is recorded in each Akte ([`AussonderungState`], one journal entry)
/// before the ZIP is given its name.
pub async fn export_0501(repo: &mut Repository, out_dir: &Path, sender: &Sender, today: time::Date) -> Result<Report> {
    let repository = repo.repository_id();
    let catalog = repo.catalog();
    let mut due: Vec<(String, Uuid)> = catalog
        .all(ObjKind::Akte)
        .filter(|a| check_deletable(catalog, a, today).is_ok() && state_of(a, repository).is_none())
        .map(|a| (az(a), a.id))
        .collect();
    due.sort();
    let ids: Vec<Uuid> = due.into_iter().map(|(_, id)| id).collect();
    if ids.is_empty() {
        return Err(Error::Usage(
            "No Akte is due for an offer: none is closed, past its retention, free of a legal hold and not yet offered"
                .into(),
        ));
    }
    let prozess = sender.prozess_id.unwrap_or_else(Uuid::new_v4);
    if prozess_used(catalog, repository, prozess) {
        return Err(Error::Usage(format!("The ProzessID {prozess} belongs to an earlier Aussonderung")));
    }
    let (sender, created) = stamped(sender)?;
    let (zip_name, xml_name) = message_names(prozess, ANBIETEVERZEICHNIS_0501);
    let target = target(out_dir, &zip_name)?;
    let mut w = Writer::new(ANBIETEVERZEICHNIS_0501);
    write_kopf(&mut w, repo, &sender, prozess, "0501")?;
    w.text("Empfangsbestaetigung", if sender.receipt { "true" } else { "false" });
    w.close("Kopf");
    let mut report = Report { format: Format::Xdomea, path: target.clone(), ..Default::default() };
    let mut collect = Collect::aussonderung(true);
    write_schriftgut(repo, &mut w, &ids, &xml_name, &mut report, &mut collect).await?;
    let xml = w.finish(ANBIETEVERZEICHNIS_0501);
    let partial = write_zip(repo, &target, &xml_name, &xml, &collect, &mut report).await?;
    let state = AussonderungState { repository, prozess_id: prozess, offered: created.clone(), ..Default::default() };
    let changes: Vec<Change> =
        ids.iter().map(|id| set_state(repo.catalog().get(id).expect("selected above"), &state, None)).collect();
    repo.commit(changes).await?;
    partial.publish(&target)?;
    Ok(report)
}

/// Writes the Aussonderung (0503) of the Akten the archive appraised archivwürdig, with
/// their full content as in an Abgabe 0401 (Vorgänge, Dokumente, Versionen, primary
/// documents), into `out_dir` as `<ProzessID>_Aussonderung.Aussonderung.0503.zip`. The
/// Aussonderung is `sender.prozess_id`, or else the only one whose archivwürdig Akten
/// wait for their handover. The handover is recorded in each Akte (one journal entry)
/// before the ZIP is given its name; writing the same Aussonderung again (a lost ZIP) is
/// allowed until the archive confirms.
pub async fn export_0503(repo: &mut Repository, out_dir: &Path, sender: &Sender) -> Result<Report> {
    let repository = repo.repository_id();
    let catalog = repo.catalog();
    // Aussonderung → (archivwürdig Akten, whether any still waits for its handover).
    let mut open: BTreeMap<Uuid, (Vec<(String, Uuid)>, bool)> = BTreeMap::new();
    for a in catalog.all(ObjKind::Akte) {
        if let Some(s) = state_of(a, repository).filter(|s| s.appraisal.as_deref() == Some("A")) {
            let e = open.entry(s.prozess_id).or_default();
            e.0.push((az(a), a.id));
            e.1 |= s.handed_over.is_none();
        }
    }
    let prozess = match sender.prozess_id {
        Some(p) if open.contains_key(&p) => p,
        Some(p) => {
            return Err(Error::Usage(format!("No Akte of the Aussonderung {p} is appraised archivwürdig")));
        }
        None => {
            let waiting: Vec<Uuid> = open.iter().filter(|(_, (_, w))| *w).map(|(p, _)| *p).collect();
            match waiting.as_slice() {
                [one] => *one,
                [] => return Err(Error::Usage("No Akte appraised archivwürdig waits for its handover".into())),
                many => {
                    let list: Vec<String> = many.iter().map(Uuid::to_string).collect();
                    return Err(Error::Usage(format!(
                        "Several Aussonderungen wait for their handover ({}); name one ProzessID",
                        list.join(", ")
                    )));
                }
            }
        }
    };
    let mut akten = open.remove(&prozess).map(|(a, _)| a).unwrap_or_default();
    akten.sort();
    let ids: Vec<Uuid> = akten.into_iter().map(|(_, id)| id).collect();
    let (sender, created) = stamped(sender)?;
    let (zip_name, xml_name) = message_names(prozess, AUSSONDERUNG_0503);
    let target = target(out_dir, &zip_name)?;
    let mut w = Writer::new(AUSSONDERUNG_0503);
    write_kopf(&mut w, repo, &sender, prozess, "0503")?;
    w.text("Importbestaetigung", "1");
    w.text("RueckmeldungArchivkennung", "true");
    w.text("Empfangsbestaetigung", if sender.receipt { "true" } else { "false" });
    w.close("Kopf");
    let mut report = Report { format: Format::Xdomea, path: target.clone(), ..Default::default() };
    let mut collect = Collect::aussonderung(false);
    write_schriftgut(repo, &mut w, &ids, &xml_name, &mut report, &mut collect).await?;
    let xml = w.finish(AUSSONDERUNG_0503);
    let partial = write_zip(repo, &target, &xml_name, &xml, &collect, &mut report).await?;
    let catalog = repo.catalog();
    let changes: Vec<Change> = ids
        .iter()
        .filter_map(|id| {
            let a = catalog.get(id)?;
            let s = state_of(a, repository)?;
            s.handed_over
                .is_none()
                .then(|| set_state(a, &AussonderungState { handed_over: Some(created.clone()), ..s }, None))
        })
        .collect();
    if !changes.is_empty() {
        repo.commit(changes).await?;
    }
    partial.publish(&target)?;
    Ok(report)
}

/// A message of the archive, read.
struct Message {
    /// The XML's name (the ZIP entry, or the file).
    name: String,
    root: El,
    /// The type code (`0502`, …).
    code: &'static str,
    prozess: Uuid,
}

/// Reads a message from a ZIP holding only `<ProzessID>_<root>.xml`, or from the XML file
/// itself, under the same rules as an import: bounded sizes, entry names that stay
/// inside, no DTD or entities; its root must be one of `kinds` (root, type code) in the
/// xdomea 3.0.0 namespace, with that Nachrichtentyp and a ProzessID.
fn read_message(path: &Path, kinds: &[(&str, &'static str)], limits: &Limits) -> Result<Message> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("{} is not a regular file", path.display())));
    }
    let mut head = [0u8; 4];
    let is_zip = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        f.read(&mut head).map_err(|e| Error::io(path, e))? == 4 && head == *b"PK\x03\x04"
    } || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let (name, bytes) = if is_zip {
        let mut z = zipin::open(path, limits)?;
        let mut xmls = Vec::new();
        for name in z.entries.keys() {
            if !name.contains('/') && kinds.iter().any(|(root, _)| name.ends_with(&format!("_{root}.xml"))) {
                xmls.push(name.clone());
            } else {
                return Err(Error::integrity(name, "is in the ZIP, but is not the message"));
            }
        }
        let [one] = xmls.as_slice() else {
            let wanted: Vec<String> = kinds.iter().map(|(r, _)| format!("<ProzessID>_{r}.xml")).collect();
            return Err(Error::invalid("", format!("the ZIP must hold exactly one message {}", wanted.join(" or "))));
        };
        let one = one.clone();
        let bytes = z.read_small(&one, limits.max_xml)?;
        (one, bytes)
    } else {
        let shown = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if meta.len() > limits.max_xml {
            return Err(Error::invalid(&shown, format!("is larger than {} bytes", limits.max_xml)));
        }
        (shown, std::fs::read(path).map_err(|e| Error::io(path, e))?)
    };
    let root = xml::parse(&bytes).map_err(|r| Error::invalid(&name, r))?;
    let Some((_, code)) = kinds.iter().find(|(r, _)| root.name == *r && root.namespace_of(&root.prefix) == Some(NS))
    else {
        let wanted: Vec<&str> = kinds.iter().map(|(r, _)| *r).collect();
        return Err(Error::invalid(&name, format!("is not an xdomea 3.0.0 {} message ({NS})", wanted.join(" or "))));
    };
    if root.text_at(&["Kopf", "Nachrichtentyp", "code"]).map(str::trim) != Some(*code) {
        return Err(Error::invalid(&name, format!("Kopf/Nachrichtentyp is not {code}")));
    }
    let prozess = root.text_at(&["Kopf", "ProzessID"]).unwrap_or_default().trim().to_string();
    let prozess = Uuid::parse_str(&prozess).map_err(|_| Error::invalid(&name, "Kopf/ProzessID is not a UUID"))?;
    Ok(Message { name, root, code, prozess })
}

fn uuid_at(m: &Message, el: &El, element: &str) -> Result<Uuid> {
    let text = el.text_at(&[element]).ok_or_else(|| Error::invalid(&m.name, format!("an entry has no {element}")))?;
    Uuid::parse_str(text.trim()).map_err(|_| Error::invalid(&m.name, format!("{element} {text:?} is not a UUID")))
}

/// Why an id that is not part of the Aussonderung is refused.
fn stranger(m: &Message, catalog: &Catalog, id: Uuid, not: &str) -> Error {
    let known = catalog.get(&id).is_some() || catalog.state.deleted.contains_key(&id);
    let why = if known {
        format!("names {id}, which was not {not} in the Aussonderung {}", m.prozess)
    } else {
        format!("names {id}, which this repository does not know")
    };
    Error::invalid(&m.name, why)
}

/// Reads the archive's Bewertungsverzeichnis (0502; a ZIP or the XML itself): the
/// appraisal per offered Akte, `A` (archivwürdig) or `V` (vernichten) from the code list
/// aussonderungsart. Refused, with nothing changed: a ProzessID under which this
/// repository offered nothing, an id that is unknown or was not offered in that
/// Aussonderung, an id twice, `B` or a configurable Aussonderungsart, a changed appraisal
/// of an Akte already handed over, and everything an import refuses (sizes, DTDs,
/// entities, unsafe entry names). Sets each Akte's `appraisal` and its state in one
/// journal entry; reading the same message again changes nothing.
pub async fn import_0502(repo: &mut Repository, path: &Path) -> Result<AussonderungReport> {
    let m = read_message(path, &[(BEWERTUNGSVERZEICHNIS_0502, "0502")], &Limits::default())?;
    let repository = repo.repository_id();
    let catalog = repo.catalog();
    let offered = members(catalog, repository, m.prozess);
    if offered.is_empty() {
        return Err(Error::invalid(
            &m.name,
            format!(
                "Kopf/ProzessID {} names no Aussonderung of this repository: nothing was offered under it",
                m.prozess
            ),
        ));
    }
    let by_id: BTreeMap<Uuid, &(&Obj, AussonderungState)> = offered.iter().map(|e| (e.0.id, e)).collect();
    let mut named: BTreeMap<Uuid, &'static str> = BTreeMap::new();
    for bo in m.root.all("BewertetesObjekt") {
        let id = uuid_at(&m, bo, "ID")?;
        let Some(code) = bo.text_at(&["Aussonderungsart", "Aussonderungsart", "code"]).map(str::trim) else {
            return Err(Error::invalid(
                &m.name,
                format!("{id} has no Aussonderungsart code (a configurable Aussonderungsart is not read)"),
            ));
        };
        let code = match code {
            "A" => "A",
            "V" => "V",
            "B" => {
                return Err(Error::invalid(
                    &m.name,
                    format!("{id} is appraised B (bewerten); the archive must decide A or V"),
                ));
            }
            other => return Err(Error::invalid(&m.name, format!("{id}: {other:?} is not an Aussonderungsart code"))),
        };
        let Some((akte, state)) = by_id.get(&id).map(|e| (e.0, &e.1)) else {
            return Err(stranger(&m, catalog, id, "offered"));
        };
        if named.insert(id, code).is_some() {
            return Err(Error::invalid(&m.name, format!("names {id} twice")));
        }
        if state.handed_over.is_some() && state.appraisal.as_deref() != Some(code) {
            return Err(Error::invalid(
                &m.name,
                format!("Akte {} was handed over already; its appraisal cannot change", az(akte)),
            ));
        }
    }
    if named.is_empty() {
        return Err(Error::invalid(&m.name, "holds no BewertetesObjekt"));
    }
    let appraised = now();
    let mut changes = Vec::new();
    let mut akten = Vec::new();
    for (akte, state) in &offered {
        let Some(code) = named.get(&akte.id) else {
            akten.push(AkteOutcome { id: akte.id, aktenzeichen: az(akte), outcome: Outcome::NotAppraised, note: None });
            continue;
        };
        let (appraisal, outcome) = if *code == "A" {
            (Appraisal::Archivwuerdig, Outcome::Archivwuerdig)
        } else {
            (Appraisal::Vernichten, Outcome::Vernichten)
        };
        let value = serde_json::to_value(appraisal).expect("serializes");
        if state.appraisal.as_deref() != Some(*code) || akte.fields.get("appraisal") != Some(&value) {
            let s = AussonderungState {
                appraisal: Some(code.to_string()),
                appraised: Some(appraised.clone()),
                ..state.clone()
            };
            changes.push(set_state(akte, &s, Some(("appraisal", value))));
        }
        akten.push(AkteOutcome { id: akte.id, aktenzeichen: az(akte), outcome, note: None });
    }
    if !changes.is_empty() {
        repo.commit(changes).await?;
    }
    Ok(AussonderungReport {
        message: m.code.into(),
        path: path.to_path_buf(),
        prozess_id: m.prozess,
        akten,
        erased: None,
    })
}

/// Reads the archive's confirmation of a handover (a ZIP or the XML itself) and acts on it.
///
/// - A **0506** (AussonderungImportBestaetigen) lists per Akte whether the archive took it
///   over (`Erfolgreich`). Every Akte it took over is deleted ([`Repository::delete`],
///   evidence basis `aussonderung` with the ProzessID, the names of the messages and the
///   Archivkennung), and with them every Akte of the same Aussonderung the archive
///   appraised `V`. An Akte it failed to take over is kept, its reason recorded; a handed
///   over Akte it does not mention is kept. An Akte that may no longer be deleted (a legal
///   hold set since the offer) is kept and reported.
/// - A **0507** (AussonderungEmpfangBestaetigen) only confirms receipt: it is recorded,
///   nothing is deleted.
///
/// Refused, with nothing changed: a ProzessID under which nothing was handed over, an id
/// that is unknown or was not handed over in that Aussonderung, an id twice, and
/// everything an import refuses. Reading the same confirmation again deletes nothing twice:
/// Akten it deleted before are only erased again (finishing an interrupted erasure).
pub async fn confirm(repo: &mut Repository, path: &Path) -> Result<AussonderungReport> {
    let kinds = [(IMPORT_BESTAETIGEN_0506, "0506"), (EMPFANG_BESTAETIGEN_0507, "0507")];
    let m = read_message(path, &kinds, &Limits::default())?;
    let repository = repo.repository_id();
    let catalog = repo.catalog();
    let prozess = m.prozess.to_string();
    let all = members(catalog, repository, m.prozess);
    let handed: BTreeMap<Uuid, (&Obj, &AussonderungState)> =
        all.iter().filter(|(_, s)| s.handed_over.is_some()).map(|(a, s)| (a.id, (*a, s))).collect();
    let tombs: BTreeMap<Uuid, String> = catalog
        .state
        .deleted
        .values()
        .filter(|t| {
            t.evidence.get("basis").and_then(Value::as_str) == Some(BASIS)
                && t.evidence.get("prozess_id").and_then(Value::as_str) == Some(&prozess)
        })
        .map(|t| (t.id, t.evidence.get("aktenzeichen").and_then(Value::as_str).unwrap_or_default().to_string()))
        .collect();
    if handed.is_empty() && tombs.is_empty() {
        return Err(Error::invalid(
            &m.name,
            format!("Kopf/ProzessID {} names no handover of this repository: no 0503 was written under it", m.prozess),
        ));
    }
    let mut akten = Vec::new();
    let mut changes = Vec::new();
    let at = now();
    if m.code == "0507" {
        for (akte, s) in handed.values() {
            if s.received.is_none() {
                changes.push(set_state(akte, &AussonderungState { received: Some(at.clone()), ..(*s).clone() }, None));
            }
            akten.push(AkteOutcome { id: akte.id, aktenzeichen: az(akte), outcome: Outcome::Received, note: None });
        }
        if !changes.is_empty() {
            repo.commit(changes).await?;
        }
        return Ok(AussonderungReport {
            message: m.code.into(),
            path: path.to_path_buf(),
            prozess_id: m.prozess,
            akten,
            erased: None,
        });
    }

    let today = time::OffsetDateTime::now_utc().date();
    let stem = |root: &str| format!("{}_{root}", m.prozess);
    let messages = |archived: bool| {
        let mut l = vec![stem(ANBIETEVERZEICHNIS_0501), stem(BEWERTUNGSVERZEICHNIS_0502)];
        if archived {
            l.push(stem(AUSSONDERUNG_0503));
        }
        l.push(stem(IMPORT_BESTAETIGEN_0506));
        json!(l)
    };
    let due = |akte: &Obj, archive_id: Option<&str>, archived: bool| {
        check_deletable(catalog, akte, today).map(|()| {
            let mut f = evidence(catalog, akte, BASIS, None);
            f.insert("prozess_id".into(), json!(prozess));
            f.insert("messages".into(), messages(archived));
            if let Some(k) = archive_id {
                f.insert("archive_id".into(), json!(k));
            }
            f
        })
    };
    let mut doomed: Vec<(Uuid, Map<String, Value>)> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut count = 0;
    for sgo in m.root.all("AusgesondertesSGO") {
        count += 1;
        let id = uuid_at(&m, sgo, "IDSGO")?;
        if !seen.insert(id) {
            return Err(Error::invalid(&m.name, format!("names {id} twice")));
        }
        let ok = match sgo.text_at(&["Erfolgreich"]).map(str::trim) {
            Some("1" | "true") => true,
            Some("0" | "false") => false,
            other => return Err(Error::invalid(&m.name, format!("{id}: Erfolgreich {other:?} is not a boolean"))),
        };
        let archive_id = sgo.text_at(&["Archivkennung"]).map(str::trim);
        if let Some(a) = tombs.get(&id) {
            akten.push(AkteOutcome { id, aktenzeichen: a.clone(), outcome: Outcome::AlreadyDeleted, note: None });
            continue;
        }
        let Some((akte, state)) = handed.get(&id) else {
            return Err(stranger(&m, catalog, id, "handed over"));
        };
        if ok {
            match due(akte, archive_id, true) {
                Ok(f) => {
                    doomed.push((id, f));
                    let note = archive_id.map(str::to_string);
                    akten.push(AkteOutcome { id, aktenzeichen: az(akte), outcome: Outcome::Deleted, note });
                }
                Err(r) => akten.push(AkteOutcome {
                    id,
                    aktenzeichen: az(akte),
                    outcome: Outcome::Kept,
                    note: Some(r.to_string()),
                }),
            }
        } else {
            let mut why: Vec<String> = sgo.all("Fehlermeldung").map(|e| e.text.trim().to_string()).collect();
            why.extend(sgo.all("FehlermeldungCode").filter_map(|e| e.text_at(&["code"]).map(|c| format!("code {c}"))));
            let why = if why.is_empty() { "no reason given".to_string() } else { why.join("; ") };
            if state.failed.as_deref() != Some(why.as_str()) {
                changes.push(set_state(
                    akte,
                    &AussonderungState { failed: Some(why.clone()), ..(*state).clone() },
                    None,
                ));
            }
            akten.push(AkteOutcome { id, aktenzeichen: az(akte), outcome: Outcome::Failed, note: Some(why) });
        }
    }
    if count == 0 {
        return Err(Error::invalid(&m.name, "holds no AusgesondertesSGO"));
    }
    for (akte, _) in handed.values().filter(|(a, _)| !seen.contains(&a.id)) {
        akten.push(AkteOutcome { id: akte.id, aktenzeichen: az(akte), outcome: Outcome::Pending, note: None });
    }
    // The Akten the archive appraised for destruction go with the confirmed handover.
    for (akte, _) in all.iter().filter(|(_, s)| s.appraisal.as_deref() == Some("V")) {
        match due(akte, None, false) {
            Ok(f) => {
                doomed.push((akte.id, f));
                akten.push(AkteOutcome { id: akte.id, aktenzeichen: az(akte), outcome: Outcome::Deleted, note: None });
            }
            Err(r) => akten.push(AkteOutcome {
                id: akte.id,
                aktenzeichen: az(akte),
                outcome: Outcome::Kept,
                note: Some(r.to_string()),
            }),
        }
    }
    // Deleted by an earlier run: erase again, so that an interrupted erasure completes.
    for (id, a) in &tombs {
        if !seen.contains(id) {
            akten.push(AkteOutcome { id: *id, aktenzeichen: a.clone(), outcome: Outcome::AlreadyDeleted, note: None });
        }
        doomed.push((*id, Map::new()));
    }
    akten.sort_by(|a, b| (&a.aktenzeichen, a.id).cmp(&(&b.aktenzeichen, b.id)));
    if !changes.is_empty() {
        repo.commit(changes).await?;
    }
    let erased = if doomed.is_empty() { None } else { Some(repo.delete(doomed).await?) };
    Ok(AussonderungReport { message: m.code.into(), path: path.to_path_buf(), prozess_id: m.prozess, akten, erased })
}
