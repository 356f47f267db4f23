//! Reading an Abgabe 0401 or an Aussonderung 0503 (ours or another system's) into the
//! repository.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use akte_store::{
    Repository,
    model::{self, ObjKind},
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    Limits, TEILAKTE, XDOMEA_KEY,
    aussonderung::AUSSONDERUNG_0503,
    codes,
    export::ABGABE_0401,
    xml::{self, AKTE_NS, El, NS, xml_safe},
    zipin,
};
use crate::{
    Error, Format, Report, Result,
    import::{ContentFile, Expect, Gate, Held, Incoming, Shared, Ungated, commit_all},
    meta::{FORMAT, ObjDoc, PObj, Parsed, PlanNode},
    provenance::{PROVENANCE_VERSION, Provenance},
};

/// The deepest nesting of Vorgänge and Teilakten read.
const MAX_DEPTH: usize = 200;
/// The deepest nesting of Anlagen (Anlagen of Anlagen …) read.
const MAX_ANLAGEN_DEPTH: usize = 64;

/// A directory for unpacked entries, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One version read from the message, its content still in the ZIP.
struct PendingVersion {
    id: Uuid,
    entry: String,
    /// Whether the fields came from our extension (then size and digests are stated and
    /// must match) or were built here (then they are filled in from the content).
    stated: bool,
}

/// What reading one Akte collects.
struct Reader<'a> {
    xml: &'a str,
    objects: Vec<PObj>,
    history: BTreeMap<Uuid, Vec<Value>>,
    versions: Vec<PendingVersion>,
    vorgaenge: usize,
    dokumente: usize,
}

fn invalid(xml: &str, what: &str, reason: impl std::fmt::Display) -> Error {
    Error::invalid(xml, format!("{what}: {reason}"))
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn id_of(xml: &str, el: &El, what: &str) -> Result<Uuid> {
    let text = el.text_at(&["Identifikation", "ID"]).ok_or_else(|| invalid(xml, what, "has no Identifikation/ID"))?;
    Uuid::parse_str(text.trim()).map_err(|_| invalid(xml, what, format!("its ID {text:?} is not a UUID")))
}

/// A date of the schema (`xs:date`, maybe with a time zone) as `YYYY-MM-DD`.
fn date(xml: &str, what: &str, text: Option<&str>) -> Result<Option<String>> {
    let Some(t) = text.map(str::trim) else { return Ok(None) };
    let day = t.get(..10).unwrap_or(t);
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(day, &fmt).map_err(|_| invalid(xml, what, format!("{t:?} is not a date")))?;
    Ok(Some(day.to_string()))
}

/// The name of a contact: institution, organisational unit or person.
fn kontakt_name(el: &El) -> Option<String> {
    if let Some(n) = el.text_at(&["Institution", "Name"]) {
        return Some(n.to_string());
    }
    if let Some(n) = el.text_at(&["Organisationseinheit", "Name"]) {
        return Some(n.to_string());
    }
    let parts: Vec<&str> = [el.text_at(&["Name", "Vorname", "Name"]), el.text_at(&["Name", "Familienname", "Name"])]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Our extension element of an object, if it carries one.
fn extension(xml: &str, el: &El, what: &str, kind: ObjKind, id: Uuid) -> Result<Option<ObjDoc>> {
    let Some(ext) = el.child("AnwendungsspezifischeErweiterungXML") else { return Ok(None) };
    let Some(o) = ext.all("Objekt").find(|o| o.namespace_of(&o.prefix) == Some(AKTE_NS)) else { return Ok(None) };
    let doc: ObjDoc = serde_json::from_str(&o.text)
        .map_err(|e| invalid(xml, what, format!("its akte:Objekt is not valid: {}", crate::foreign(e))))?;
    if doc.format != FORMAT || doc.kind != kind || doc.id != id {
        return Err(invalid(xml, what, "its akte:Objekt describes another object or format"));
    }
    Ok(Some(doc))
}

/// The standard element and our extension must say the same.
fn agree(xml: &str, what: &str, element: &str, stated: Option<&str>, ours: Option<&str>) -> Result<()> {
    if stated.map(str::to_string) != ours.map(xml_safe) {
        return Err(invalid(xml, what, format!("{element} {stated:?} contradicts the akte:Objekt ({ours:?})")));
    }
    Ok(())
}

fn check(xml: &str, what: &str, kind: ObjKind, fields: &Map<String, Value>) -> Result<()> {
    model::validate(kind, fields, true).map_err(|e| invalid(xml, what, e))
}

/// `HistorienProtokollInformation` as history entries.
fn history_of(el: &El) -> Vec<Value> {
    el.all("HistorienProtokollInformation")
        .map(|h| {
            let mut e = Map::new();
            let text = |p: &str| h.text_at(&[p]).map(|t| Value::String(t.to_string())).unwrap_or(Value::Null);
            e.insert("time".into(), text("DatumUhrzeit"));
            e.insert("actor".into(), text("Akteur"));
            e.insert("action".into(), text("Aktion"));
            if let Some(f) = h.text_at(&["MetadatumName"]) {
                e.insert(
                    "changes".into(),
                    json!([{"field": f, "old": text("MetadatumAlterWert"), "new": text("MetadatumNeuerWert")}]),
                );
            }
            if let Some(b) = h.text_at(&["Bemerkung"]) {
                e.insert("remark".into(), Value::String(b.to_string()));
            }
            Value::Object(e)
        })
        .collect()
}

/// The Vorgänge and Dokumente inside a container (each with what it carries along), in
/// their stated order: by `NummerImUebergeordnetenContainer` when every one has a distinct
/// number, else as written.
fn ordered<T>(items: Vec<(&El, T)>) -> Vec<(&El, T)> {
    let numbers: Vec<Option<u32>> = items
        .iter()
        .map(|(e, _)| {
            e.text_at(&["Identifikation", "NummerImUebergeordnetenContainer"]).and_then(|t| t.trim().parse().ok())
        })
        .collect();
    let distinct: BTreeSet<u32> = numbers.iter().flatten().copied().collect();
    if numbers.iter().all(Option::is_some) && distinct.len() == items.len() {
        let mut pairs: Vec<(u32, (&El, T))> = numbers.into_iter().flatten().zip(items).collect();
        pairs.sort_by_key(|(n, _)| *n);
        return pairs.into_iter().map(|(_, e)| e).collect();
    }
    items
}

/// Our `custom.xdomea` object of a field map, if there is one.
fn xdomea_custom(fields: &Map<String, Value>) -> Option<&Map<String, Value>> {
    fields.get("custom")?.get(XDOMEA_KEY)?.as_object()
}

/// Sets `custom.xdomea` in a field map built from the standard elements.
fn set_xdomea_custom(fields: &mut Map<String, Value>, value: Map<String, Value>) {
    let custom = fields.entry("custom").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(c) = custom {
        c.insert(XDOMEA_KEY.into(), Value::Object(value));
    }
}

/// `ZdA` as a status.
fn status_of(el: &El) -> Option<Value> {
    el.text_at(&["ZdA"]).map(|z| json!(if matches!(z.trim(), "true" | "1") { "zda" } else { "offen" }))
}

/// What an Akte or Teilakte says beyond Kennzeichen and Betreff, under the names of the
/// Akte's fields: `aktenplan` (the unit's Kennzeichen), `status`, `laufzeit_beginn`,
/// `laufzeit_ende`, `retention_years`, `appraisal`, `confidentiality`.
fn akte_metadata(xml: &str, el: &El, what: &str) -> Result<Map<String, Value>> {
    let mut f = Map::new();
    if let Some(code) = el.text_at(&["AllgemeineMetadaten", "Aktenplaneinheit", "Kennzeichen"]) {
        f.insert("aktenplan".into(), json!(code.trim()));
    }
    if let Some(s) = status_of(el) {
        f.insert("status".into(), s);
    }
    if let Some(b) = date(xml, what, el.text_at(&["Laufzeit", "Beginn"]))? {
        f.insert("laufzeit_beginn".into(), json!(b));
    }
    if let Some(e) = date(xml, what, el.text_at(&["Laufzeit", "Ende"]))? {
        f.insert("laufzeit_ende".into(), json!(e));
    }
    let archiv = el.child("ArchivspezifischeMetadaten");
    if let Some(y) = archiv.and_then(|a| a.text_at(&["Aufbewahrungsdauer", "AnzahlJahre"])) {
        let y: u32 = y.trim().parse().map_err(|_| invalid(xml, what, format!("AnzahlJahre {y:?} is not a number")))?;
        f.insert("retention_years".into(), json!(y));
    }
    if let Some(code) = archiv.and_then(|a| a.text_at(&["Aussonderungsart", "Aussonderungsart", "code"])) {
        let a = codes::appraisal(code).map_err(|e| invalid(xml, what, e))?;
        f.insert("appraisal".into(), serde_json::to_value(a).expect("serializes"));
    }
    if let Some(code) = el.text_at(&["AllgemeineMetadaten", "Vertraulichkeitsstufe", "code"]) {
        let c = codes::confidentiality(code).map_err(|e| invalid(xml, what, e))?;
        f.insert("confidentiality".into(), serde_json::to_value(c).expect("serializes"));
    }
    Ok(f)
}

/// The title of the Aktenplan unit an Akte or Teilakte names.
fn plan_title(el: &El) -> Option<&str> {
    el.text_at(&["AllgemeineMetadaten", "Aktenplaneinheit", "Inhaltsangabe"]).or(el.text_at(&[
        "AllgemeineMetadaten",
        "Aktenplaneinheit",
        "BetreffKurz",
    ]))
}

/// The file name a `Format` gives its primary document: the last component of
/// `DateinameOriginal`, else the `Dateiname` less its `UUID_` prefix.
fn file_name_of(format: &El, entry: &str) -> String {
    match format.text_at(&["Primaerdokument", "DateinameOriginal"]) {
        Some(o) => o.rsplit(['/', '\\']).next().unwrap_or(o).to_string(),
        None => {
            let stripped = entry.get(37..).filter(|_| entry.as_bytes().get(36) == Some(&b'_'));
            let base = stripped.unwrap_or(entry);
            base.rsplit('/').next().unwrap_or(base).to_string()
        }
    }
}

impl Reader<'_> {
    fn akte(&mut self, el: &El) -> Result<ObjDoc> {
        let id = id_of(self.xml, el, "an Akte")?;
        let what = format!("Akte {id}");
        let kennzeichen = el.text_at(&["AllgemeineMetadaten", "Kennzeichen"]);
        let betreff = el.text_at(&["AllgemeineMetadaten", "Betreff"]);
        let doc = match extension(self.xml, el, &what, ObjKind::Akte, id)? {
            Some(doc) => {
                agree(
                    self.xml,
                    &what,
                    "Kennzeichen",
                    kennzeichen,
                    doc.fields.get("aktenzeichen").and_then(Value::as_str),
                )?;
                agree(self.xml, &what, "Betreff", betreff, doc.fields.get("title").and_then(Value::as_str))?;
                if doc.parent.is_some() || doc.position.is_some() || doc.versions.is_some() {
                    return Err(invalid(self.xml, &what, "its akte:Objekt has parent, position or versions"));
                }
                doc
            }
            None => self.foreign_akte(el, id, &what, kennzeichen, betreff)?,
        };
        check(self.xml, &what, ObjKind::Akte, &doc.fields)?;
        for node in doc.aktenplan.iter().flatten() {
            check(self.xml, &what, ObjKind::Aktenplan, &node.fields)?;
        }
        let chain = doc.aktenplan.as_deref().unwrap_or_default();
        for (i, node) in chain.iter().enumerate() {
            if node.parent != if i == 0 { None } else { Some(chain[i - 1].id) } {
                return Err(invalid(self.xml, &what, "its Aktenplan path is not a path from a root node"));
            }
        }
        if !doc.history.is_empty() {
            self.history.insert(id, doc.history.clone());
        }
        self.contents(id, akteninhalt(el), 0)?;
        Ok(doc)
    }

    fn foreign_akte(
        &self,
        el: &El,
        id: Uuid,
        what: &str,
        kennzeichen: Option<&str>,
        betreff: Option<&str>,
    ) -> Result<ObjDoc> {
        let xml = self.xml;
        let az =
            kennzeichen.ok_or_else(|| invalid(xml, what, "has no AllgemeineMetadaten/Kennzeichen (Aktenzeichen)"))?;
        let title = betreff.ok_or_else(|| invalid(xml, what, "has no AllgemeineMetadaten/Betreff"))?;
        let mut f = obj(json!({"aktenzeichen": az.trim(), "title": title}));
        f.extend(akte_metadata(xml, el, what)?);
        let mut chain = Vec::new();
        if let Some(code) = f.get("aktenplan").and_then(Value::as_str) {
            chain.push(PlanNode {
                id: Uuid::new_v4(),
                parent: None,
                fields: obj(json!({"code": code, "title": plan_title(el).unwrap_or(code)})),
            });
        }
        Ok(ObjDoc {
            format: FORMAT.into(),
            kind: ObjKind::Akte,
            id,
            parent: None,
            position: None,
            aktenplan: Some(chain),
            fields: f,
            history: history_of(el),
            versions: None,
        })
    }

    /// Reads the Vorgänge, Teilakten and Dokumente of a container, in order, depth first.
    /// The Anlagen of a Dokument follow it (depth first) as Dokumente of the same
    /// container; positions count all of them.
    fn contents(&mut self, parent: Uuid, items: Vec<&El>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(invalid(
                self.xml,
                &format!("{parent}"),
                format!("Vorgänge and Teilakten are nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let mut flat = Vec::new();
        for (el, ()) in ordered(items.into_iter().map(|e| (e, ())).collect()) {
            self.flatten(el, None, &mut flat, 0)?;
        }
        // Our own export numbers Anlagen among everything in the container; then these
        // numbers give the order in which the objects were created.
        for (position, (el, anlage_zu)) in ordered(flat).into_iter().enumerate() {
            let position = position as u32;
            match el.name.as_str() {
                "Dokument" | "Anlage" => self.dokument(parent, el, position, anlage_zu)?,
                "Teilakte" => self.teilakte(parent, el, position, depth)?,
                _ => self.vorgang(parent, el, position, depth)?,
            }
        }
        Ok(())
    }

    /// Puts an item and, for a Dokument, its Anlagen (with the Dokument they belong to)
    /// into `flat`.
    fn flatten<'e>(
        &self,
        el: &'e El,
        anlage_zu: Option<Uuid>,
        flat: &mut Vec<(&'e El, Option<Uuid>)>,
        depth: usize,
    ) -> Result<()> {
        flat.push((el, anlage_zu));
        if el.name != "Dokument" && el.name != "Anlage" {
            return Ok(());
        }
        let anlagen: Vec<&El> = el.all("Anlage").collect();
        if anlagen.is_empty() {
            return Ok(());
        }
        let id = id_of(self.xml, el, "a Dokument")?;
        if depth >= MAX_ANLAGEN_DEPTH {
            return Err(invalid(self.xml, &format!("Dokument {id}"), "has Anlagen nested too deep"));
        }
        for a in anlagen {
            self.flatten(a, Some(id), flat, depth + 1)?;
        }
        Ok(())
    }

    fn placed(&self, what: &str, doc: &ObjDoc, parent: Uuid, position: u32) -> Result<()> {
        if doc.parent != Some(parent) || doc.position != Some(position) {
            return Err(invalid(self.xml, what, "its akte:Objekt names another parent or position than the message"));
        }
        Ok(())
    }

    fn vorgang(&mut self, parent: Uuid, el: &El, position: u32, depth: usize) -> Result<()> {
        let id = id_of(self.xml, el, "a Vorgang")?;
        let what = format!("Vorgang {id}");
        let betreff = el.text_at(&["AllgemeineMetadaten", "Betreff"]);
        let (fields, history) = match extension(self.xml, el, &what, ObjKind::Vorgang, id)? {
            Some(doc) => {
                agree(self.xml, &what, "Betreff", betreff, doc.fields.get("title").and_then(Value::as_str))?;
                self.placed(&what, &doc, parent, position)?;
                (doc.fields, doc.history)
            }
            None => {
                let title = betreff
                    .or(el.text_at(&["Aktenbetreff"]))
                    .ok_or_else(|| invalid(self.xml, &what, "has no AllgemeineMetadaten/Betreff"))?;
                let mut f = obj(json!({"title": title}));
                if let Some(s) = status_of(el) {
                    f.insert("status".into(), s);
                }
                (f, history_of(el))
            }
        };
        check(self.xml, &what, ObjKind::Vorgang, &fields)?;
        if !history.is_empty() {
            self.history.insert(id, history);
        }
        self.objects.push(PObj { kind: ObjKind::Vorgang, id, parent, fields, file: None });
        self.vorgaenge += 1;
        let items = el.children.iter().filter(|c| c.name == "Dokument" || c.name == "Teilvorgang").collect();
        self.contents(id, items, depth + 1)
    }

    /// A Teilakte becomes a Vorgang: Betreff (else Kennzeichen) its title, ZdA its status,
    /// the rest of the Akte's metadata in `custom.xdomea` with `typ` `Teilakte`.
    fn teilakte(&mut self, parent: Uuid, el: &El, position: u32, depth: usize) -> Result<()> {
        let xml = self.xml;
        let id = id_of(xml, el, "a Teilakte")?;
        let what = format!("Teilakte {id}");
        let kennzeichen = el.text_at(&["AllgemeineMetadaten", "Kennzeichen"]);
        let betreff = el.text_at(&["AllgemeineMetadaten", "Betreff"]);
        let (fields, history) = match extension(xml, el, &what, ObjKind::Vorgang, id)? {
            Some(doc) => {
                agree(xml, &what, "Betreff", betreff, doc.fields.get("title").and_then(Value::as_str))?;
                let x = xdomea_custom(&doc.fields);
                if x.and_then(|x| x.get("typ")).and_then(Value::as_str) != Some(TEILAKTE) {
                    return Err(invalid(xml, &what, "its akte:Objekt is no Vorgang marked as Teilakte"));
                }
                let stated = x.and_then(|x| x.get("kennzeichen")).and_then(Value::as_str);
                agree(xml, &what, "Kennzeichen", kennzeichen, stated)?;
                self.placed(&what, &doc, parent, position)?;
                (doc.fields, doc.history)
            }
            None => {
                let title = betreff
                    .or(kennzeichen)
                    .ok_or_else(|| invalid(xml, &what, "has neither AllgemeineMetadaten/Betreff nor Kennzeichen"))?;
                let mut meta = akte_metadata(xml, el, &what)?;
                let mut f = obj(json!({"title": title}));
                if let Some(s) = meta.remove("status") {
                    f.insert("status".into(), s);
                }
                let mut x = obj(json!({"typ": TEILAKTE}));
                if let Some(k) = kennzeichen {
                    x.insert("kennzeichen".into(), json!(k));
                }
                if let Some(t) = plan_title(el).filter(|_| meta.contains_key("aktenplan")) {
                    x.insert("aktenplan_titel".into(), json!(t));
                }
                x.extend(meta);
                set_xdomea_custom(&mut f, x);
                (f, history_of(el))
            }
        };
        check(xml, &what, ObjKind::Vorgang, &fields)?;
        if !history.is_empty() {
            self.history.insert(id, history);
        }
        self.objects.push(PObj { kind: ObjKind::Vorgang, id, parent, fields, file: None });
        self.vorgaenge += 1;
        self.contents(id, akteninhalt(el), depth + 1)
    }

    fn dokument(&mut self, parent: Uuid, el: &El, position: u32, anlage_zu: Option<Uuid>) -> Result<()> {
        let xml = self.xml;
        let id = id_of(xml, el, "a Dokument")?;
        let what = format!("Dokument {id}");
        let betreff = el.text_at(&["AllgemeineMetadaten", "Betreff"]);
        let ext = extension(xml, el, &what, ObjKind::Dokument, id)?;
        let (mut fields, history) = match &ext {
            Some(doc) => {
                agree(xml, &what, "Betreff", betreff, doc.fields.get("title").and_then(Value::as_str))?;
                self.placed(&what, doc, parent, position)?;
                let stated = xdomea_custom(&doc.fields).and_then(|x| x.get("anlage_zu")).and_then(Value::as_str);
                // A Dokument written plainly may still name a Dokument in `anlage_zu`
                // (one the export could not nest it in); an Anlage must name its parent.
                if anlage_zu.is_some() && stated.and_then(|s| Uuid::parse_str(s).ok()) != anlage_zu {
                    return Err(invalid(
                        xml,
                        &what,
                        "its akte:Objekt and the message disagree on the Dokument it is an Anlage of",
                    ));
                }
                (doc.fields.clone(), doc.history.clone())
            }
            None => {
                let title = betreff.ok_or_else(|| invalid(xml, &what, "has no AllgemeineMetadaten/Betreff"))?;
                let mut f = obj(json!({"title": title}));
                if let Some(t) = el.text_at(&["Typ"]) {
                    f.insert("document_type".into(), json!(t));
                }
                if let Some(d) = date(xml, &what, el.text_at(&["Posteingangsdatum"]))? {
                    f.insert("received".into(), json!(d));
                }
                if let Some(d) = date(xml, &what, el.text_at(&["Postausgangsdatum"]))? {
                    f.insert("sent".into(), json!(d));
                }
                if let Some(d) = date(xml, &what, el.text_at(&["DatumDesSchreibens"]))? {
                    f.insert("date".into(), json!(d));
                }
                if let Some(s) = el.child("Absender").and_then(kontakt_name) {
                    f.insert("sender".into(), json!(s));
                }
                if let Some(r) = el.child("Empfaenger").and_then(kontakt_name) {
                    f.insert("recipient".into(), json!(r));
                }
                (f, history_of(el))
            }
        };

        // Every Format of every Version is one version here, in order: the first Format
        // of a Version its content, each further one a rendition after it.
        let versions: Vec<&El> = el.all("Version").collect();
        let count: usize = versions.iter().map(|v| v.all("Format").count()).sum();
        let stated = ext.as_ref().and_then(|d| d.versions.as_ref());
        if let Some(s) = stated
            && s.len() != count
        {
            return Err(invalid(
                xml,
                &what,
                format!("has {count} Formate in its Versionen, its akte:Objekt {}", s.len()),
            ));
        }
        let mut pending = Vec::new();
        let mut groups = Vec::new();
        for (j, v) in versions.iter().enumerate() {
            let nummer = v.text_at(&["Nummer"]).map(str::trim).map(str::to_string).unwrap_or((j + 1).to_string());
            let formats: Vec<&El> = v.all("Format").collect();
            if formats.is_empty() {
                return Err(invalid(xml, &what, format!("its Version {nummer} has no Format")));
            }
            let primary_number = pending.len() + 1;
            let mut listed = Vec::new();
            for (k, f) in formats.into_iter().enumerate() {
                let n = pending.len();
                let entry = f
                    .text_at(&["Primaerdokument", "Dateiname"])
                    .ok_or_else(|| invalid(xml, &what, "a Primaerdokument has no Dateiname"))?
                    .to_string();
                let (vid, vfields, vhistory) = match stated {
                    Some(s) => {
                        let sv = &s[n];
                        if sv.number != n as u32 + 1 {
                            return Err(invalid(xml, &what, format!("version {} is not numbered {}", sv.id, n + 1)));
                        }
                        (sv.id, sv.fields.clone(), sv.history.clone())
                    }
                    None => {
                        let name = file_name_of(f, &entry);
                        let mut vf = obj(json!({"file_name": name, "media_type": model::media_type_for(&name)}));
                        if k > 0 {
                            let note = format!(
                                "Rendition of version {primary_number} (xdomea Version {nummer}, Format {})",
                                k + 1
                            );
                            vf.insert("comment".into(), json!(note));
                        }
                        (Uuid::new_v4(), vf, Vec::new())
                    }
                };
                let mut format = obj(json!({"id": vid.to_string()}));
                if let Some(code) = f.text_at(&["Name", "code"]) {
                    format.insert("name".into(), json!(code.trim()));
                }
                if let Some(fv) = f.text_at(&["Version"]) {
                    format.insert("version".into(), json!(fv));
                }
                listed.push(Value::Object(format));
                pending.push((vid, vfields, vhistory, entry));
            }
            groups.push(json!({"nummer": nummer, "formate": listed}));
        }
        if ext.is_none() {
            let mut x = Map::new();
            if let Some(p) = anlage_zu {
                x.insert("anlage_zu".into(), json!(p.to_string()));
                if let Some(nr) = el.text_at(&["Nummer"]) {
                    x.insert("nummer".into(), json!(nr));
                }
            }
            if count > versions.len() {
                x.insert("versionen".into(), Value::Array(groups));
            }
            if !x.is_empty() {
                set_xdomea_custom(&mut fields, x);
            }
        }
        check(xml, &what, ObjKind::Dokument, &fields)?;
        if !history.is_empty() {
            self.history.insert(id, history);
        }
        self.objects.push(PObj { kind: ObjKind::Dokument, id, parent, fields, file: None });
        self.dokumente += 1;
        for (vid, vfields, vhistory, entry) in pending {
            if !vhistory.is_empty() {
                self.history.insert(vid, vhistory);
            }
            self.objects.push(PObj {
                kind: ObjKind::Version,
                id: vid,
                parent: id,
                fields: vfields,
                file: Some(entry.clone()),
            });
            self.versions.push(PendingVersion { id: vid, entry, stated: stated.is_some() });
        }
        Ok(())
    }
}

/// The primary documents of the covering letter: every Format of every Version, of the
/// letter and of its Anlagen.
fn letter_entries(dok: &El, out: &mut Vec<String>) {
    for f in dok.all("Version").flat_map(|v| v.all("Format")) {
        if let Some(name) = f.text_at(&["Primaerdokument", "Dateiname"]) {
            out.push(name.to_string());
        }
    }
    for a in dok.all("Anlage") {
        letter_entries(a, out);
    }
}

/// The Dokumente, Vorgänge and Teilakten in an Akte's or Teilakte's `Akteninhalt`.
fn akteninhalt(el: &El) -> Vec<&El> {
    el.child("Akteninhalt")
        .into_iter()
        .flat_map(|i| i.children.iter())
        .filter(|c| matches!(c.name.as_str(), "Dokument" | "Vorgang" | "Teilakte"))
        .collect()
}

/// Imports an Abgabe 0401 or an Aussonderung 0503 with the default [`Limits`]. See
/// [`import_xdomea_with`].
pub async fn import_xdomea(repo: &mut Repository, zip_path: &Path) -> Result<Report> {
    import_xdomea_with(repo, zip_path, &Limits::default()).await
}

/// Imports an Abgabe 0401 (a ZIP with `…_Abgabe.Abgabe.0401.xml` and the primary
/// documents) or an Aussonderung 0503 (`…_Aussonderung.Aussonderung.0503.xml`, the same
/// content under another head, as an archive receives it), from this or another system:
/// every `Schriftgutobjekt` must be an Akte. A `Teilakte` becomes a Vorgang, an `Anlage` a
/// Dokument beside the one it belongs to, and every further `Format` of a Version a further
/// version of its Dokument (see the crate README's xdomea mapping).
/// The ZIP is checked against `limits` before anything is unpacked; the XML is read
/// without DTDs or entities; every primary document must be in the ZIP, every entry must
/// be named by the message, and a document's size and digests must match what the
/// message states. Akten whose Kennzeichen or ids the repository already has are a
/// `Conflict`. Contents are stored first, then everything is committed as one journal
/// entry; on any error nothing becomes visible.
pub async fn import_xdomea_with(repo: &mut Repository, zip_path: &Path, limits: &Limits) -> Result<Report> {
    import_xdomea_gated(&Held::new(repo), zip_path, limits, &Ungated).await
}

/// [`import_xdomea_with`], asking `gate` about every file before anything is stored.
pub async fn import_xdomea_gated(
    repo: &dyn Shared,
    zip_path: &Path,
    limits: &Limits,
    gate: &dyn Gate,
) -> Result<Report> {
    let mut z = zipin::open(zip_path, limits)?;
    // An Abgabe 0401 or an Aussonderung 0503: the same content, another head.
    let kinds = [(ABGABE_0401, "0401"), (AUSSONDERUNG_0503, "0503")];
    let mut xmls: Vec<(String, &str, &str)> = Vec::new();
    for name in z.entries.keys().filter(|n| !n.contains('/')) {
        for (root, code) in kinds {
            if name.ends_with(&format!("_{root}.xml")) {
                xmls.push((name.clone(), root, code));
            }
        }
    }
    let (xml_name, message, code) = match xmls.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Error::invalid(
                "",
                format!(
                    "the ZIP holds no message <ProzessID>_{ABGABE_0401}.xml or <ProzessID>_{AUSSONDERUNG_0503}.xml"
                ),
            ));
        }
        _ => return Err(Error::invalid("", format!("the ZIP holds {} messages; one is read", xmls.len()))),
    };
    let bytes = z.read_small(&xml_name, limits.max_xml)?;
    let root = xml::parse(&bytes).map_err(|r| Error::invalid(&xml_name, r))?;
    drop(bytes);
    if root.name != message || root.namespace_of(&root.prefix) != Some(NS) {
        return Err(Error::invalid(&xml_name, format!("is not an xdomea 3.0.0 {message} message ({NS})")));
    }
    let prozess = root.text_at(&["Kopf", "ProzessID"]).unwrap_or_default().trim().to_string();
    let prozess = Uuid::parse_str(&prozess).map_err(|_| Error::invalid(&xml_name, "Kopf/ProzessID is not a UUID"))?;
    if root.text_at(&["Kopf", "Nachrichtentyp", "code"]).map(str::trim) != Some(code) {
        return Err(Error::invalid(&xml_name, format!("Kopf/Nachrichtentyp is not {code}")));
    }

    // The Akten, and which entries they name.
    let mut read = Vec::new();
    for sgo in root.all("Schriftgutobjekt") {
        let Some(akte) = sgo.child("Akte") else {
            return Err(Error::invalid(&xml_name, "a Schriftgutobjekt is no Akte; only whole Akten are imported"));
        };
        let mut r = Reader {
            xml: &xml_name,
            objects: Vec::new(),
            history: BTreeMap::new(),
            versions: Vec::new(),
            vorgaenge: 0,
            dokumente: 0,
        };
        let doc = r.akte(akte)?;
        read.push((doc, r.objects, r.history, r.versions, r.vorgaenge, r.dokumente));
    }
    if read.is_empty() {
        return Err(Error::invalid(&xml_name, "holds no Akte"));
    }
    let mut named: BTreeSet<&str> = read.iter().flat_map(|r| r.3.iter().map(|v| v.entry.as_str())).collect();
    named.insert(&xml_name);
    // The covering letter (Anschreiben) may bring documents of its own; they are not imported.
    let mut letter: Vec<String> = Vec::new();
    if let Some(a) = root.child("Anschreiben") {
        letter_entries(a, &mut letter);
    }
    for name in z.entries.keys() {
        if !named.contains(name.as_str()) && !letter.contains(name) {
            return Err(Error::integrity(name, "is in the ZIP, but the message does not name it"));
        }
    }
    for name in &named {
        if !z.entries.contains_key(*name) {
            return Err(Error::integrity(*name, "is named as a Primaerdokument, but missing from the ZIP"));
        }
    }

    // Unpack the primary documents (by index, never by name) and complete their fields.
    let tmp = TempDir(std::env::temp_dir().join(format!("akte-xdomea-{}", Uuid::new_v4().simple())));
    std::fs::create_dir(&tmp.0).map_err(|e| Error::io(&tmp.0, e))?;
    let mut incoming = Vec::new();
    let mut n = 0usize;
    for (doc, mut objects, history, versions, vorgaenge, dokumente) in read {
        let mut contents = HashMap::new();
        let mut unpacked = HashMap::new();
        for v in &versions {
            n += 1;
            let dest = tmp.0.join(n.to_string());
            let u = z.unpack(&v.entry, &dest)?;
            contents.insert(
                v.id,
                ContentFile {
                    path: dest,
                    shown: v.entry.clone(),
                    expect: Expect { sha256: Some(u.sha256.clone()), sha512: None },
                },
            );
            unpacked.insert(v.id, (u, v.stated));
        }
        for o in objects.iter_mut().filter(|o| o.kind == ObjKind::Version) {
            let (u, stated) = &unpacked[&o.id];
            if !stated {
                o.fields.insert("size".into(), json!(u.size));
                o.fields.insert("sha256".into(), json!(u.sha256));
                o.fields.insert("blake3".into(), json!(u.blake3));
            }
            check(&xml_name, &format!("version {}", o.id), ObjKind::Version, &o.fields)?;
        }
        let versionen = versions.len();
        incoming.push(Incoming {
            parsed: Parsed { akte: doc, objects, history, meta_files: Vec::new(), vorgaenge, dokumente, versionen },
            contents,
            provenance: Provenance {
                v: PROVENANCE_VERSION,
                format: "xdomea".into(),
                source: Some(format!("urn:uuid:{prozess}")),
                ..Default::default()
            },
            path: String::new(),
        });
    }
    let mut report = commit_all(repo, incoming, Format::Xdomea, zip_path.to_path_buf(), gate).await?;
    for a in &mut report.akten {
        a.path = xml_name.clone();
    }
    Ok(report)
}
