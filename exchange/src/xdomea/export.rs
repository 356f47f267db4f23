//! Writing an Abgabe 0401: the message XML and the primary documents in one ZIP.

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
    path::{Path, PathBuf},
};

use akte_store::{
    Repository,
    catalog::{Obj, State},
    model::{Appraisal, Confidentiality, ObjKind},
};
use futures::TryStreamExt;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use zip::{ZipWriter, write::SimpleFileOptions};

use super::{
    Sender, TEILAKTE, XDOMEA_KEY,
    codes::{self, AUSSONDERUNGSART, DATEIFORMAT, MEDIUM, NACHRICHTENTYP, VERTRAULICHKEITSSTUFE},
    xml::Writer,
};
use crate::{
    AkteReport, Error, Format, Report, Result,
    files::{Algs, Hasher},
    meta::{self, History, Layout},
    names::safe_component,
    provenance::Provenance,
    select_akten,
};

/// The deepest nesting of Vorgänge and Teilakten written.
const MAX_DEPTH: usize = 200;
/// The longest chain of Anlagen (Anlage of an Anlage …) written as such.
const MAX_ANLAGEN_DEPTH: usize = 32;

/// The root element and file stem of an Abgabe.
pub const ABGABE_0401: &str = "Abgabe.Abgabe.0401";

/// A ZIP being written under a temporary name beside its target; removed unless published.
pub(crate) struct Partial {
    tmp: PathBuf,
    done: bool,
}

impl Partial {
    /// Renames the finished ZIP to its target.
    pub(crate) fn publish(mut self, target: &Path) -> Result<()> {
        std::fs::rename(&self.tmp, target).map_err(|e| Error::io(target, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// One primary document to put into the ZIP.
struct Primary {
    version: Uuid,
    entry: String,
}

/// What the export collects while it writes the XML, and what it writes.
#[derive(Default)]
pub(crate) struct Collect {
    primaries: Vec<Primary>,
    /// Leave out the Versionen and their primary documents (an Anbieteverzeichnis 0501).
    pub(crate) metadata_only: bool,
    /// Always write an Aussonderungsart: the Akte's appraisal, else the nearest Aktenplan
    /// node's, else B (bewerten). For the Aussonderung messages, whose Akten must carry it.
    pub(crate) aussonderung: bool,
}

impl Collect {
    /// What an Aussonderung message writes: everything but the versions (0501) or everything (0503).
    pub(crate) fn aussonderung(metadata_only: bool) -> Collect {
        Collect { primaries: Vec::new(), metadata_only, aussonderung: true }
    }
}

/// The appraisal an Akte inherits from its Aktenplan node and that node's ancestors.
fn inherited_appraisal(state: &State, akte: &Obj) -> Option<Appraisal> {
    let code = akte.text("aktenplan")?;
    let mut node = state.plan_node(code);
    let mut steps = 0;
    while let Some(n) = node {
        if let Some(a) = field::<Appraisal>(n, "appraisal") {
            return Some(a);
        }
        steps += 1;
        if steps > 200 {
            break;
        }
        node = n.parent.and_then(|p| state.objects.get(&p)).map(|p| &**p);
    }
    None
}

fn missing(id: Uuid) -> Error {
    Error::Store(akte_store::Error::integrity(id.to_string(), "is named in the catalog but missing from it"))
}

/// The Vorgänge and Dokumente directly inside an Akte or Vorgang, in creation order.
fn containees(state: &State, id: Uuid) -> Vec<&Obj> {
    state
        .children
        .get(&id)
        .into_iter()
        .flatten()
        .filter_map(|c| state.objects.get(c).map(|o| &**o))
        .filter(|o| matches!(o.kind, ObjKind::Vorgang | ObjKind::Dokument))
        .collect()
}

/// A field value as text for the history (strings as they are, others as JSON).
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Whether a text is an `xs:dateTime` we can vouch for: RFC 3339, or a local date and
/// time without zone (as other systems write them).
fn is_date_time(text: &str) -> bool {
    let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::OffsetDateTime::parse(text, &Rfc3339).is_ok() || time::PrimitiveDateTime::parse(text, &local).is_ok()
}

/// Writes one history entry (a JSON object as the repository or a package recorded it) as
/// `HistorienProtokollInformation`: one element per changed field, or one for the action.
/// Entries without a readable time are left to the extension.
fn write_history(w: &mut Writer, entries: &[Value], note: Option<&str>) {
    for e in entries {
        let Some(time) = e.get("time").and_then(Value::as_str) else { continue };
        if !is_date_time(time) {
            continue;
        }
        let actor = e.get("actor").and_then(Value::as_str).filter(|a| !a.trim().is_empty()).unwrap_or("unbekannt");
        let action = e.get("action").and_then(Value::as_str).filter(|a| !a.trim().is_empty()).unwrap_or("unbekannt");
        let changes: Vec<&Value> = e.get("changes").and_then(Value::as_array).into_iter().flatten().collect();
        let one = |w: &mut Writer, change: Option<&Value>| {
            w.open("HistorienProtokollInformation");
            if let Some(c) = change {
                w.opt("MetadatumName", c.get("field").and_then(Value::as_str));
                w.opt("MetadatumAlterWert", c.get("old").and_then(value_text).as_deref());
                w.opt("MetadatumNeuerWert", c.get("new").and_then(value_text).as_deref());
            }
            w.text("Akteur", actor);
            w.text("DatumUhrzeit", time);
            w.opt("Bemerkung", note);
            w.text("Aktion", action);
            w.close("HistorienProtokollInformation");
        };
        if changes.is_empty() {
            one(w, None);
        }
        for c in changes {
            one(w, Some(c));
        }
    }
}

/// The extension JSON of an object: its metadata document (as BagIt and OCFL write it),
/// compact, with the two non-characters XML cannot carry escaped.
fn extension_json(state: &State, history: &History, layout: &Layout, id: Uuid) -> Result<String> {
    let bytes = meta::object_json(state, state, history, layout, id)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| Error::invalid("metadata", e.to_string()))?;
    let text = serde_json::to_string(&value).expect("metadata serializes");
    Ok(text.replace('\u{FFFE}', "\\ufffe").replace('\u{FFFF}', "\\uffff"))
}

fn identifikation(w: &mut Writer, id: Uuid, position: Option<u32>) {
    w.open("Identifikation");
    w.text("ID", &id.to_string());
    if let Some(p) = position {
        w.text("NummerImUebergeordnetenContainer", &(p + 1).to_string());
    }
    w.close("Identifikation");
}

fn field<T: serde::de::DeserializeOwned>(obj: &Obj, name: &str) -> Option<T> {
    obj.fields.get(name).and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn status_zda(obj: &Obj) -> Option<&'static str> {
    match obj.text("status") {
        Some("zda") => Some("true"),
        Some(_) => Some("false"),
        None => None,
    }
}

/// What an Akte or a Teilakte writes besides its contents, history and extension.
#[derive(Default)]
struct AkteMeta<'a> {
    betreff: Option<&'a str>,
    kennzeichen: Option<&'a str>,
    confidentiality: Option<Confidentiality>,
    /// The Aktenplan unit's Kennzeichen and Inhaltsangabe.
    plan: Option<(&'a str, Option<&'a str>)>,
    /// `None`: no Aufbewahrungsdauer; `Some(None)`: Unbefristet.
    retention: Option<Option<u32>>,
    appraisal: Option<Appraisal>,
    beginn: Option<&'a str>,
    ende: Option<&'a str>,
}

/// Writes `AllgemeineMetadaten`, `ArchivspezifischeMetadaten` and `Laufzeit` of an Akte or
/// Teilakte.
fn write_akte_meta(w: &mut Writer, m: &AkteMeta) {
    w.open("AllgemeineMetadaten");
    w.opt("Betreff", m.betreff);
    w.opt("Kennzeichen", m.kennzeichen);
    if let Some(conf) = m.confidentiality {
        let (uri, v) = VERTRAULICHKEITSSTUFE;
        w.code("Vertraulichkeitsstufe", uri, v, codes::vertraulichkeit(conf));
    }
    w.code("Medium", MEDIUM.0, MEDIUM.1, codes::MEDIUM_ELEKTRONISCH);
    if let Some((code, title)) = m.plan {
        w.open("Aktenplaneinheit");
        w.text("Kennzeichen", code);
        w.opt("Inhaltsangabe", title);
        w.close("Aktenplaneinheit");
    }
    w.close("AllgemeineMetadaten");
    if m.retention.is_some() || m.appraisal.is_some() {
        w.open("ArchivspezifischeMetadaten");
        if let Some(r) = m.retention {
            w.open("Aufbewahrungsdauer");
            match r {
                Some(y) if y <= u16::MAX as u32 => w.text("AnzahlJahre", &y.to_string()),
                _ => w.text("Unbefristet", "1"),
            }
            w.close("Aufbewahrungsdauer");
        }
        if let Some(a) = m.appraisal {
            w.open("Aussonderungsart");
            w.code("Aussonderungsart", AUSSONDERUNGSART.0, AUSSONDERUNGSART.1, codes::aussonderungsart(a));
            w.close("Aussonderungsart");
        }
        w.close("ArchivspezifischeMetadaten");
    }
    if m.beginn.is_some() || m.ende.is_some() {
        w.open("Laufzeit");
        w.opt("Beginn", m.beginn);
        w.opt("Ende", m.ende);
        w.close("Laufzeit");
    }
}

/// Writes the `Akte` element of one Akte.
fn write_akte(
    w: &mut Writer,
    state: &State,
    history: &History,
    layout: &Layout,
    akte: &Obj,
    c: &mut Collect,
) -> Result<()> {
    w.open("Akte");
    identifikation(w, akte.id, None);
    let appraisal = match field::<Appraisal>(akte, "appraisal") {
        None if c.aussonderung => Some(inherited_appraisal(state, akte).unwrap_or(Appraisal::Bewerten)),
        a => a,
    };
    let plan = akte.text("aktenplan").map(|code| {
        let node = state.plan_node(code);
        (code, node.and_then(|n| n.text("title")))
    });
    let meta = AkteMeta {
        betreff: akte.text("title"),
        kennzeichen: akte.text("aktenzeichen"),
        confidentiality: field::<Confidentiality>(akte, "confidentiality"),
        plan,
        retention: Some(field::<u32>(akte, "retention_years")),
        appraisal,
        beginn: akte.text("laufzeit_beginn"),
        ende: akte.text("laufzeit_ende"),
    };
    write_akte_meta(w, &meta);
    write_history(w, &history.of(akte.id)?, None);
    write_akteninhalt(w, state, history, layout, akte.id, c, 0)?;
    w.opt("ZdA", status_zda(akte));
    w.extension(&extension_json(state, history, layout, akte.id)?);
    w.close("Akte");
    Ok(())
}

/// `custom.xdomea` of an object, if it has one.
fn xdomea_custom(obj: &Obj) -> Option<&serde_json::Map<String, Value>> {
    obj.fields.get("custom")?.get(XDOMEA_KEY)?.as_object()
}

/// Whether a Vorgang came from (and goes back as) a Teilakte.
fn is_teilakte(obj: &Obj) -> bool {
    obj.kind == ObjKind::Vorgang
        && xdomea_custom(obj).and_then(|x| x.get("typ")).and_then(Value::as_str) == Some(TEILAKTE)
}

/// Whether a text is an `xs:date` we write (`YYYY-MM-DD`).
fn is_date(text: &str) -> bool {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &fmt).is_ok()
}

/// The `Akteninhalt` of an Akte or Teilakte: its Dokumente (with their Anlagen), its
/// Vorgänge, then the Vorgänge marked as Teilakten, as the schema orders them; the
/// position among all of them is kept in `NummerImUebergeordnetenContainer`.
fn write_akteninhalt(
    w: &mut Writer,
    state: &State,
    history: &History,
    layout: &Layout,
    id: Uuid,
    c: &mut Collect,
    depth: usize,
) -> Result<()> {
    let inside = containees(state, id);
    if inside.is_empty() {
        return Ok(());
    }
    w.open("Akteninhalt");
    write_dokumente(w, state, history, layout, &inside, c)?;
    for v in inside.iter().filter(|o| o.kind == ObjKind::Vorgang && !is_teilakte(o)) {
        write_vorgang(w, state, history, layout, v, c, "Vorgang", depth + 1)?;
    }
    for t in inside.iter().filter(|o| is_teilakte(o)) {
        write_teilakte(w, state, history, layout, t, c, depth + 1)?;
    }
    w.close("Akteninhalt");
    Ok(())
}

/// Writes a Vorgang marked as Teilakte (`custom.xdomea.typ`) as a `Teilakte`: its title as
/// Betreff, the Akte's metadata from `custom.xdomea` where it is well-formed.
fn write_teilakte(
    w: &mut Writer,
    state: &State,
    history: &History,
    layout: &Layout,
    t: &Obj,
    c: &mut Collect,
    depth: usize,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Usage(format!("Vorgang {} is nested deeper than {MAX_DEPTH} levels", t.id)));
    }
    let x = xdomea_custom(t);
    let text = |k: &str| x.and_then(|x| x.get(k)).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    let raw = |k: &str| x.and_then(|x| x.get(k)).cloned();
    let meta = AkteMeta {
        betreff: t.text("title"),
        kennzeichen: text("kennzeichen"),
        confidentiality: raw("confidentiality").and_then(|v| serde_json::from_value(v).ok()),
        plan: text("aktenplan").map(|code| (code, text("aktenplan_titel"))),
        retention: raw("retention_years").and_then(|v| serde_json::from_value::<u32>(v).ok()).map(Some),
        appraisal: raw("appraisal").and_then(|v| serde_json::from_value(v).ok()),
        beginn: text("laufzeit_beginn").filter(|d| is_date(d)),
        ende: text("laufzeit_ende").filter(|d| is_date(d)),
    };
    w.open("Teilakte");
    identifikation(w, t.id, layout.position.get(&t.id).copied());
    write_akte_meta(w, &meta);
    write_history(w, &history.of(t.id)?, None);
    write_akteninhalt(w, state, history, layout, t.id, c, depth)?;
    w.opt("ZdA", status_zda(t));
    w.extension(&extension_json(state, history, layout, t.id)?);
    w.close("Teilakte");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_vorgang(
    w: &mut Writer,
    state: &State,
    history: &History,
    layout: &Layout,
    vorgang: &Obj,
    c: &mut Collect,
    element: &str,
    depth: usize,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Usage(format!("Vorgang {} is nested deeper than {MAX_DEPTH} levels", vorgang.id)));
    }
    w.open(element);
    identifikation(w, vorgang.id, layout.position.get(&vorgang.id).copied());
    w.open("AllgemeineMetadaten");
    w.opt("Betreff", vorgang.text("title"));
    w.close("AllgemeineMetadaten");
    w.opt("ZdA", status_zda(vorgang));
    write_history(w, &history.of(vorgang.id)?, None);
    let inside = containees(state, vorgang.id);
    write_dokumente(w, state, history, layout, &inside, c)?;
    // A Vorgang holds no Teilakte: one marked so is written as a Teilvorgang (the mark
    // stays in its custom field).
    for v in inside.iter().filter(|o| o.kind == ObjKind::Vorgang) {
        write_vorgang(w, state, history, layout, v, c, "Teilvorgang", depth + 1)?;
    }
    w.extension(&extension_json(state, history, layout, vorgang.id)?);
    w.close(element);
    Ok(())
}

/// The Dokumente of a container that are Anlagen of another Dokument there: Anlage id →
/// the Dokument it is written inside. A Dokument is written as an Anlage when its
/// `custom.xdomea.anlage_zu` names another Dokument of the same container whose own chain
/// of `anlage_zu` ends within [`MAX_ANLAGEN_DEPTH`] steps (so no cycles); else as a
/// Dokument of its own.
fn anlagen(inside: &[&Obj]) -> HashMap<Uuid, Uuid> {
    let here: HashMap<Uuid, &Obj> = inside.iter().filter(|o| o.kind == ObjKind::Dokument).map(|o| (o.id, *o)).collect();
    let link = |o: &Obj| -> Option<Uuid> {
        let p = xdomea_custom(o)?.get("anlage_zu")?.as_str()?;
        let p = Uuid::parse_str(p).ok()?;
        (p != o.id && here.contains_key(&p)).then_some(p)
    };
    let mut out = HashMap::new();
    for d in here.values() {
        let Some(parent) = link(d) else { continue };
        let mut cur = parent;
        let mut steps = 1;
        let ends = loop {
            match link(here[&cur]) {
                None => break true,
                Some(_) if steps >= MAX_ANLAGEN_DEPTH => break false,
                Some(p) => {
                    cur = p;
                    steps += 1;
                }
            }
        };
        if ends {
            out.insert(d.id, parent);
        }
    }
    out
}

/// Writes the Dokumente of a container, each with its Anlagen inside.
fn write_dokumente(
    w: &mut Writer,
    state: &State,
    history: &History,
    layout: &Layout,
    inside: &[&Obj],
    c: &mut Collect,
) -> Result<()> {
    let of = anlagen(inside);
    let mut children: HashMap<Uuid, Vec<&Obj>> = HashMap::new();
    for d in inside.iter().filter(|o| o.kind == ObjKind::Dokument) {
        if let Some(p) = of.get(&d.id) {
            children.entry(*p).or_default().push(d);
        }
    }
    for d in inside.iter().filter(|o| o.kind == ObjKind::Dokument && !of.contains_key(&o.id)) {
        write_dokument(w, state, history, layout, d, c, &children, "Dokument")?;
    }
    Ok(())
}

fn kontakt(w: &mut Writer, element: &str, name: &str) {
    w.open(element);
    w.open("Institution");
    w.text("Name", name);
    w.close("Institution");
    w.close(element);
}

/// The name of a version's primary document in the ZIP: `<version id>_<file name>`, the
/// pattern the schema suggests ("UUID_Dokumentname.Dateiformat").
pub fn primary_name(version: Uuid, file_name: &str) -> String {
    format!("{version}_{}", safe_component(file_name))
}

/// One xdomea `Version` as written: its `Nummer` and its Formate (our versions, each with
/// the Dateiformat code and format version recorded at import, if any).
struct XVersion {
    nummer: String,
    formats: Vec<(Uuid, Option<String>, Option<String>)>,
}

/// Where `custom.xdomea.versionen` lists a version.
struct Listed<'a> {
    /// Which Version (group) of the list.
    group: usize,
    /// Its place among that Version's Formate.
    index: usize,
    /// The Version's `Nummer`.
    nummer: Option<&'a str>,
    /// The Format's Dateiformat code.
    name: Option<&'a str>,
    /// The Format's version.
    version: Option<&'a str>,
}

/// Groups a Dokument's versions into xdomea Versionen. `custom.xdomea.versionen` (written
/// by the import of a Version with several Formate: `[{"nummer", "formate": [{"id",
/// "name", "version"}]}]`) puts a version into the Version of the one before it when both
/// are listed there in that order; every other version is a Version of its own, numbered
/// as here. So the order of the versions is always kept.
fn xversions(state: &State, dok: &Obj) -> Result<Vec<XVersion>> {
    let mut listed: HashMap<Uuid, Listed> = HashMap::new();
    let groups = xdomea_custom(dok).and_then(|x| x.get("versionen")).and_then(Value::as_array);
    for (g, group) in groups.into_iter().flatten().enumerate() {
        let nummer = group.get("nummer").and_then(Value::as_str);
        let formate = group.get("formate").and_then(Value::as_array);
        for (k, f) in formate.into_iter().flatten().enumerate() {
            let Some(id) = f.get("id").and_then(Value::as_str).and_then(|i| Uuid::parse_str(i).ok()) else {
                continue;
            };
            let name = f.get("name").and_then(Value::as_str);
            let version = f.get("version").and_then(Value::as_str);
            listed.entry(id).or_insert(Listed { group: g, index: k, nummer, name, version });
        }
    }
    let mut out: Vec<XVersion> = Vec::new();
    let mut previous: Option<(usize, usize)> = None;
    for (j, v) in dok.versions.iter().enumerate() {
        let version = state.objects.get(v).ok_or_else(|| missing(*v))?;
        let number = version.number.unwrap_or(j as u32 + 1);
        let here = listed.get(v);
        // Only Dateiformat codes we can vouch for (three digits, not 100 Sonstiges, which
        // needs a SonstigerName) are taken over.
        let code = here
            .and_then(|h| h.name)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()) && *c != "100")
            .map(str::to_string);
        let fversion = here.and_then(|h| h.version).filter(|t| !t.trim().is_empty()).map(str::to_string);
        let format = (*v, code, fversion);
        let joins = match (here, previous, out.last_mut()) {
            (Some(h), Some((g, k)), Some(last)) if h.group == g && h.index == k + 1 => {
                last.formats.push(format.clone());
                true
            }
            _ => false,
        };
        if !joins {
            let nummer = match here {
                Some(Listed { index: 0, nummer: Some(n), .. }) if !n.trim().is_empty() => n.to_string(),
                _ => number.to_string(),
            };
            out.push(XVersion { nummer, formats: vec![format] });
        }
        previous = here.map(|h| (h.group, h.index));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn write_dokument(
    w: &mut Writer,
    state: &State,
    history: &History,
    layout: &Layout,
    dok: &Obj,
    c: &mut Collect,
    anlagen: &HashMap<Uuid, Vec<&Obj>>,
    element: &str,
) -> Result<()> {
    w.open(element);
    identifikation(w, dok.id, layout.position.get(&dok.id).copied());
    w.open("AllgemeineMetadaten");
    w.opt("Betreff", dok.text("title"));
    w.close("AllgemeineMetadaten");
    w.opt("Posteingangsdatum", dok.text("received"));
    w.opt("Postausgangsdatum", dok.text("sent"));
    w.opt("DatumDesSchreibens", dok.text("date"));
    w.opt("Typ", dok.text("document_type"));
    write_history(w, &history.of(dok.id)?, None);
    for (j, v) in dok.versions.iter().enumerate() {
        let version = state.objects.get(v).ok_or_else(|| missing(*v))?;
        let number = version.number.unwrap_or(j as u32 + 1);
        write_history(w, &history.of(*v)?, Some(&format!("Version {number}")));
    }
    if !c.metadata_only {
        for xv in xversions(state, dok)? {
            w.open("Version");
            w.text("Nummer", &xv.nummer);
            for (v, stored_code, fversion) in xv.formats {
                let version = state.objects.get(&v).ok_or_else(|| missing(v))?;
                let file_name = version.text("file_name").unwrap_or("content");
                let entry = primary_name(v, file_name);
                w.open("Format");
                let code = stored_code.unwrap_or_else(|| codes::dateiformat(file_name).to_string());
                w.code("Name", DATEIFORMAT.0, DATEIFORMAT.1, &code);
                if code == "100" {
                    let other = version.text("media_type").unwrap_or("application/octet-stream");
                    w.text("SonstigerName", other);
                }
                w.text("Version", fversion.as_deref().unwrap_or("unbekannt"));
                w.open("Primaerdokument");
                w.text("Dateiname", &entry);
                w.text("DateinameOriginal", file_name);
                w.close("Primaerdokument");
                w.close("Format");
                c.primaries.push(Primary { version: v, entry });
            }
            w.close("Version");
        }
    }
    for a in anlagen.get(&dok.id).into_iter().flatten() {
        write_dokument(w, state, history, layout, a, c, anlagen, "Anlage")?;
    }
    if let Some(s) = dok.text("sender") {
        kontakt(w, "Absender", s);
    }
    if let Some(r) = dok.text("recipient") {
        kontakt(w, "Empfaenger", r);
    }
    w.extension(&extension_json(state, history, layout, dok.id)?);
    if element == "Anlage" {
        let nummer = xdomea_custom(dok).and_then(|x| x.get("nummer")).and_then(Value::as_str);
        w.opt("Nummer", nummer);
    }
    w.close(element);
    Ok(())
}

/// Writes the message head (`Kopf`) of a message of type `code`.
pub(crate) fn write_kopf(w: &mut Writer, repo: &Repository, sender: &Sender, prozess: Uuid, code: &str) -> Result<()> {
    let created = sender.created.unwrap_or_else(time::OffsetDateTime::now_utc);
    let created = created.format(&Rfc3339).map_err(|e| Error::Usage(format!("Bad creation time: {e}")))?;
    w.open("Kopf");
    w.text("ProzessID", &prozess.to_string());
    w.code("Nachrichtentyp", NACHRICHTENTYP.0, NACHRICHTENTYP.1, code);
    w.text("Erstellungszeitpunkt", &created);
    w.open("Absender");
    w.open("Institution");
    w.text("Name", &sender.institution);
    w.close("Institution");
    if let Some(u) = &sender.unit {
        w.open("Organisationseinheit");
        w.text("Name", u);
        w.close("Organisationseinheit");
    }
    w.close("Absender");
    w.open("Empfaenger");
    if let Some(r) = &sender.recipient {
        w.open("Institution");
        w.text("Name", r);
        w.close("Institution");
    }
    w.close("Empfaenger");
    w.open("SendendesSystem");
    w.text("InstanzID", &format!("urn:uuid:{}", repo.repository_id()));
    w.text("Produktname", "Akte");
    w.text("Version", env!("CARGO_PKG_VERSION"));
    w.close("SendendesSystem");
    w.opt("Hinweis", sender.note.as_deref());
    Ok(())
}

/// The file names of a message: `<ProzessID>_<Nachricht>.zip` and `….xml`.
pub fn message_names(prozess: Uuid, message: &str) -> (String, String) {
    (format!("{prozess}_{message}.zip"), format!("{prozess}_{message}.xml"))
}

/// The target of a message ZIP in `out_dir`: refused when it exists or `out_dir` is no
/// directory.
pub(crate) fn target(out_dir: &Path, zip_name: &str) -> Result<PathBuf> {
    let target = out_dir.join(zip_name);
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(Error::Usage(format!("{} exists already", target.display())));
    }
    if !out_dir.is_dir() {
        return Err(Error::Usage(format!("{} is not a directory", out_dir.display())));
    }
    Ok(target)
}

/// Writes one `Schriftgutobjekt` per Akte (full content, or metadata only as `collect`
/// says) and adds each Akte to the report.
pub(crate) async fn write_schriftgut(
    repo: &Repository,
    w: &mut Writer,
    ids: &[Uuid],
    xml_name: &str,
    report: &mut Report,
    collect: &mut Collect,
) -> Result<()> {
    let catalog = repo.catalog();
    let state = &catalog.state;
    for id in ids {
        let akte = catalog.get(id).ok_or_else(|| missing(*id))?;
        let provenance = Provenance::load(repo, catalog, *id).await?;
        let history = History::new(catalog, provenance.as_ref().map(|p| &p.history), *id);
        let layout = meta::layout(state, *id)?;
        let first = collect.primaries.len();
        w.open("Schriftgutobjekt");
        write_akte(w, state, &history, &layout, akte, collect)?;
        w.close("Schriftgutobjekt");
        report.vorgaenge += layout.vorgaenge;
        report.dokumente += layout.dokumente;
        if !collect.metadata_only {
            report.versionen += layout.versionen;
        }
        let files: BTreeMap<Uuid, String> =
            collect.primaries[first..].iter().map(|p| (p.version, p.entry.clone())).collect();
        report.akten.push(AkteReport {
            id: *id,
            aktenzeichen: akte.text("aktenzeichen").unwrap_or_default().to_string(),
            path: xml_name.to_string(),
            ocfl_versions: None,
            files,
        });
    }
    Ok(())
}

/// Writes the message ZIP under a temporary name beside `target`: the XML first, then
/// every collected primary document, each checked against the size and SHA-256 its
/// version records. The caller publishes it ([`Partial::publish`]).
pub(crate) async fn write_zip(
    repo: &Repository,
    target: &Path,
    xml_name: &str,
    xml: &str,
    collect: &Collect,
    report: &mut Report,
) -> Result<Partial> {
    let out_dir = target.parent().unwrap_or(Path::new("."));
    let zip_name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let partial =
        Partial { tmp: out_dir.join(format!(".{zip_name}.partial-{}", Uuid::new_v4().simple())), done: false };
    let file = std::fs::File::create_new(&partial.tmp).map_err(|e| Error::io(&partial.tmp, e))?;
    let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false)
        .last_modified_time(zip::DateTime::default());
    let zerr = |e: zip::result::ZipError| Error::io(target, std::io::Error::other(e));
    zip.start_file(xml_name, opts).map_err(zerr)?;
    zip.write_all(xml.as_bytes()).map_err(|e| Error::io(target, e))?;
    for p in &collect.primaries {
        let (version, stream) = repo.content(&p.version).await?;
        let size = version.fields.get("size").and_then(Value::as_u64).unwrap_or(0);
        zip.start_file(p.entry.as_str(), opts.large_file(size >= u32::MAX as u64)).map_err(zerr)?;
        let mut h = Hasher::new(Algs { sha256: true, sha512: false });
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream.try_next().await? {
            h.update(&chunk);
            zip.write_all(&chunk).map_err(|e| Error::io(target, e))?;
        }
        let d = h.finish();
        let recorded = version.text("sha256");
        if recorded.is_some_and(|s| Some(s) != d.sha256.as_deref())
            || d.size != size && version.fields.contains_key("size")
        {
            return Err(Error::Store(akte_store::Error::integrity(
                p.version.to_string(),
                "the content read differs from the size or SHA-256 the version records",
            )));
        }
        report.files += 1;
        report.bytes += d.size;
    }
    let buf = zip.finish().map_err(zerr)?;
    let file = buf.into_inner().map_err(|e| Error::io(target, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(target, e))?;
    Ok(partial)
}

/// Exports Akten as an Abgabe 0401 into `out_dir` (an existing directory): one ZIP named
/// `<ProzessID>_Abgabe.Abgabe.0401.zip` holding `<ProzessID>_Abgabe.Abgabe.0401.xml` and
/// every version's content as a primary document. With no Akten given, all of them. The
/// ZIP is written under a temporary name and renamed when complete; the report's `path`
/// is the ZIP.
pub async fn export_xdomea_0401(repo: &Repository, akten: &[Uuid], out_dir: &Path, sender: &Sender) -> Result<Report> {
    let ids = select_akten(repo.catalog(), akten)?;
    if ids.is_empty() {
        return Err(Error::Usage("There is no Akte to export".into()));
    }
    let prozess = sender.prozess_id.unwrap_or_else(Uuid::new_v4);
    let (zip_name, xml_name) = message_names(prozess, ABGABE_0401);
    let target = target(out_dir, &zip_name)?;
    let mut w = Writer::new(ABGABE_0401);
    write_kopf(&mut w, repo, sender, prozess, "0401")?;
    w.text("Importbestaetigung", "1");
    w.text("Empfangsbestaetigung", if sender.receipt { "true" } else { "false" });
    w.close("Kopf");
    let mut report = Report { format: Format::Xdomea, path: target.clone(), ..Default::default() };
    let mut collect = Collect::default();
    write_schriftgut(repo, &mut w, &ids, &xml_name, &mut report, &mut collect).await?;
    let xml = w.finish(ABGABE_0401);
    write_zip(repo, &target, &xml_name, &xml, &collect, &mut report).await?.publish(&target)?;
    Ok(report)
}
