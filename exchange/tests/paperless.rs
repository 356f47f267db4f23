//! Paperless-ngx `document_exporter` folders: a small export written here in the
//! documented layout (correspondents, types, tags, storage paths, custom fields, notes,
//! users, a document without correspondent, a deleted one, unknown models) imports into a
//! fresh repository with every file byte for byte and every piece of metadata kept; a
//! second import of it is refused; hostile folders and manifests are refused with one
//! sentence and nothing of them visible.

// The test export is one `json!` literal.
#![recursion_limit = "256"]

mod common;

use std::path::Path;

use akte_exchange::{
    Error, PaperlessOptions, import_paperless, import_paperless_with,
    paperless::{DEFAULT_AKTENPLAN_CODE, DEFAULT_AKTENPLAN_TITLE, NO_CORRESPONDENT},
    provenance::Provenance,
};
use akte_store::{Repository, model::ObjKind};
use common::*;
use futures::TryStreamExt;
use md5::Digest;
use serde_json::{Value, json};
use uuid::Uuid;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide").join(rel)).unwrap()
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(md5::Md5::digest(bytes))
}

/// One exported file: its path in the folder and its bytes.
struct File {
    rel: &'static str,
    bytes: Vec<u8>,
}

/// The files of the test export.
struct Files {
    rechnung: File,
    rechnung_archive: File,
    scan: File,
    notiz: File,
    ohne: File,
}

fn files() -> Files {
    Files {
        rechnung: File { rel: "2024-03-01 Stadtwerke Rechnung.pdf", bytes: fixture("antrag/01-antragsformular.pdf") },
        rechnung_archive: File {
            rel: "archive/2024-03-01 Stadtwerke Rechnung.pdf",
            bytes: fixture("gutachten/02-schattenwurfprognose.pdf"),
        },
        // Several chunks of the test repository (64 KiB each).
        scan: File { rel: "originals/Windkraft/scan.tif", bytes: noise(7, 300_000) },
        notiz: File { rel: "originals/notiz.txt", bytes: fixture("antrag/05-vermerk-vollstaendigkeitspruefung.txt") },
        ohne: File { rel: "Ohne Korrespondent – Brief.txt", bytes: "Ein Brief ohne Absender: äöüß\n".into() },
    }
}

/// The records of the test export, in the order the exporter writes them (roughly).
fn manifest(f: &Files) -> Value {
    json!([
        {"model": "auth.user", "pk": 3, "fields": {"username": "amt.mueller", "password": "pbkdf2_sha256$…",
            "is_superuser": false, "first_name": "Anna", "last_name": "Müller"}},
        {"model": "auth.group", "pk": 1, "fields": {"name": "Bauamt", "permissions": [1, 2, 3]}},
        {"model": "documents.correspondent", "pk": 1, "fields": {"name": "Stadtwerke Hohe Heide", "match": "",
            "matching_algorithm": 1, "is_insensitive": true, "owner": null}},
        {"model": "documents.correspondent", "pk": 2, "fields": {"name": "Windkraft Nord GmbH", "match": "wind",
            "matching_algorithm": 6, "is_insensitive": true, "owner": 3}},
        {"model": "documents.correspondent", "pk": 5, "fields": {"name": "Ohne Dokumente"}},
        {"model": "documents.documenttype", "pk": 1, "fields": {"name": "Rechnung", "match": ""}},
        {"model": "documents.documenttype", "pk": 2, "fields": {"name": "Antrag"}},
        {"model": "documents.tag", "pk": 1, "fields": {"name": "Eingang", "color": "#a6cee3", "is_inbox_tag": true}},
        {"model": "documents.tag", "pk": 2, "fields": {"name": "Windpark", "color": "#1f78b4"}},
        {"model": "documents.tag", "pk": 3, "fields": {"name": "Erledigt", "color": "#33a02c"}},
        {"model": "documents.storagepath", "pk": 1, "fields": {"name": "Bauamt", "path": "{correspondent}/{title}"}},
        {"model": "documents.customfield", "pk": 1, "fields": {"name": "Betrag", "data_type": "monetary",
            "extra_data": {"default_currency": null}}},
        {"model": "documents.customfield", "pk": 2, "fields": {"name": "Fällig am", "data_type": "date"}},
        {"model": "documents.customfield", "pk": 3, "fields": {"name": "Priorität", "data_type": "select",
            "extra_data": {"select_options": [{"id": "k1", "label": "hoch"}, {"id": "k2", "label": "niedrig"}]}}},
        {"model": "documents.customfield", "pk": 4, "fields": {"name": "Geprüft", "data_type": "boolean"}},
        {"model": "documents.customfield", "pk": 5, "fields": {"name": "Stufe", "data_type": "select",
            "extra_data": {"select_options": ["A", "B", "C"]}}},
        {"model": "documents.document", "pk": 1, "fields": {
            "correspondent": 1, "storage_path": null, "title": "Rechnung März", "document_type": 1,
            "content": "Stadtwerke Hohe Heide Rechnung Nr. 4711 … (OCR-Text)", "mime_type": "application/pdf",
            "checksum": md5_hex(&f.rechnung.bytes), "archive_checksum": md5_hex(&f.rechnung_archive.bytes),
            "created": "2024-03-01", "modified": "2024-03-05T08:00:00.123Z", "storage_type": "unencrypted",
            "added": "2024-03-02T09:30:00Z", "filename": "0000001.pdf", "archive_filename": "0000001.pdf",
            "original_filename": "Rechnung_2024-03.pdf", "archive_serial_number": null, "owner": null,
            "tags": [1, 2]},
            "__exported_file_name__": f.rechnung.rel,
            "__exported_archive_name__": f.rechnung_archive.rel,
            "__exported_thumbnail_name__": "thumbnails/0000001.webp"},
        {"model": "documents.document", "pk": 2, "fields": {
            "correspondent": 2, "storage_path": 1, "title": "Antrag Windpark (Scan)", "document_type": 2,
            "content": "", "mime_type": "image/tiff", "checksum": md5_hex(&f.scan.bytes).to_uppercase(),
            "archive_checksum": null, "created": "2023-11-05T00:00:00+01:00", "modified": "2023-11-06T10:00:00Z",
            "added": "2023-11-06T09:00:00Z", "original_filename": "C:\\Scans\\scan.tif",
            "archive_serial_number": 17, "owner": 3, "tags": [2]},
            "__exported_file_name__": f.scan.rel},
        {"model": "documents.document", "pk": 4, "fields": {
            "correspondent": 1, "title": "Notiz", "document_type": null, "mime_type": "text/plain",
            "checksum": md5_hex(&f.notiz.bytes), "created": "2024-01-10", "original_filename": "notiz.txt",
            "tags": [], "owner": 99},
            "__exported_file_name__": f.notiz.rel},
        {"model": "documents.document", "pk": 7, "fields": {
            "correspondent": null, "title": "Brief", "document_type": null, "mime_type": "text/plain",
            "checksum": md5_hex(&f.ohne.bytes), "created": "2022-12-24", "tags": [3]},
            "__exported_file_name__": f.ohne.rel},
        // In the trash: skipped, its file need not be there.
        {"model": "documents.document", "pk": 9, "fields": {
            "correspondent": 1, "title": "Gelöscht", "checksum": "00000000000000000000000000000000",
            "deleted_at": "2024-05-01T00:00:00Z", "tags": []},
            "__exported_file_name__": "weg.pdf"},
        {"model": "documents.customfieldinstance", "pk": 1, "fields": {"document": 1, "field": 1,
            "value_text": null, "value_monetary": "EUR123.45", "value_date": null}},
        {"model": "documents.customfieldinstance", "pk": 2, "fields": {"document": 1, "field": 2,
            "value_date": "2024-04-01"}},
        {"model": "documents.customfieldinstance", "pk": 3, "fields": {"document": 1, "field": 3,
            "value_select": "k1"}},
        {"model": "documents.customfieldinstance", "pk": 4, "fields": {"document": 2, "field": 4,
            "value_bool": true, "value_text": null}},
        {"model": "documents.customfieldinstance", "pk": 5, "fields": {"document": 2, "field": 5,
            "value_select": 2}},
        {"model": "documents.note", "pk": 2, "fields": {"note": "Rückfrage beim Betreiber erledigt.",
            "created": "2024-01-02T10:00:00Z", "document": 2, "user": 3}},
        {"model": "documents.note", "pk": 1, "fields": {"note": "Bitte Standort prüfen.",
            "created": "2024-01-01T09:00:00Z", "document": 2, "user": null}},
        {"model": "documents.note", "pk": 3, "fields": {"note": "zurückgezogen", "created": "2024-01-03T10:00:00Z",
            "document": 2, "user": 3, "deleted_at": "2024-01-04T00:00:00Z"}},
        {"model": "documents.savedview", "pk": 1, "fields": {"name": "Posteingang", "show_on_dashboard": true}},
        {"model": "paperless_mail.mailaccount", "pk": 1, "fields": {"name": "Postfach", "password": "geheim"}},
        {"model": "auditlog.logentry", "pk": 1, "fields": {"object_pk": "1", "changes": {"title": ["a", "b"]}}},
    ])
}

/// Writes the test export into `dir`.
fn write_export(dir: &Path) -> Files {
    let f = files();
    for file in [&f.rechnung, &f.rechnung_archive, &f.scan, &f.notiz, &f.ohne] {
        let p = dir.join(file.rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &file.bytes).unwrap();
    }
    std::fs::create_dir_all(dir.join("thumbnails")).unwrap();
    std::fs::write(dir.join("thumbnails/0000001.webp"), b"RIFF\0\0\0\0WEBP").unwrap();
    std::fs::write(dir.join("metadata.json"), br#"{"version": "2.15.3"}"#).unwrap();
    write_manifest(dir, &manifest(&f));
    f
}

fn write_manifest(dir: &Path, manifest: &Value) {
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(manifest).unwrap()).unwrap();
}

fn read_manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The document record with this pk.
fn doc_mut(m: &mut Value, pk: u64) -> &mut Value {
    m.as_array_mut().unwrap().iter_mut().find(|r| r["model"] == "documents.document" && r["pk"] == pk).unwrap()
}

async fn read_all(repo: &Repository, version: &Uuid) -> Vec<u8> {
    let (_, stream) = repo.content(version).await.unwrap();
    let chunks: Vec<_> = stream.try_collect().await.unwrap();
    chunks.concat()
}

fn akte_by_title<'a>(repo: &'a Repository, title: &str) -> &'a akte_store::catalog::Obj {
    let mut found = repo.catalog().all(ObjKind::Akte).filter(|a| a.text("title") == Some(title));
    let a = found.next().unwrap_or_else(|| panic!("no Akte {title:?}"));
    assert!(found.next().is_none(), "two Akten {title:?}");
    a
}

/// The Dokumente of an Akte in order, each with its versions.
fn dokumente(repo: &Repository, akte: Uuid) -> Vec<(&akte_store::catalog::Obj, Vec<&akte_store::catalog::Obj>)> {
    let c = repo.catalog();
    c.state.children[&akte]
        .iter()
        .map(|d| {
            let dok = c.get(d).unwrap();
            assert_eq!(dok.kind, ObjKind::Dokument);
            (dok, dok.versions.iter().map(|v| c.get(v).unwrap()).collect())
        })
        .collect()
}

fn check_version(v: &akte_store::catalog::Obj, bytes: &[u8], file_name: &str, media_type: &str) {
    let d = akte_exchange::files::digest_bytes(bytes, akte_exchange::files::Algs::BOTH);
    assert_eq!(v.text("file_name"), Some(file_name));
    assert_eq!(v.text("media_type"), Some(media_type));
    assert_eq!(v.fields["size"], json!(bytes.len()));
    assert_eq!(v.text("sha256"), d.sha256.as_deref());
    assert_eq!(v.text("blake3"), Some(blake3::hash(bytes).to_hex().as_str()));
}

#[tokio::test]
async fn an_export_becomes_akten_with_every_file_and_field() {
    let env = Env::new();
    let mut repo = env.init().await;
    let dir = env.path("export");
    let f = write_export(&dir);

    let report = import_paperless(&mut repo, &dir).await.unwrap();
    assert_eq!(
        (report.akten.len(), report.vorgaenge, report.dokumente, report.versionen, report.files),
        (3, 0, 4, 5, 5),
        "{report:?}"
    );
    let all = [&f.rechnung, &f.rechnung_archive, &f.scan, &f.notiz, &f.ohne];
    assert_eq!(report.bytes, all.iter().map(|f| f.bytes.len() as u64).sum::<u64>());
    assert_eq!(report.path, dir);

    // The default Aktenplan node, created once.
    let c = repo.catalog();
    let nodes: Vec<_> = c.all(ObjKind::Aktenplan).collect();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].fields, fields(json!({"code": DEFAULT_AKTENPLAN_CODE, "title": DEFAULT_AKTENPLAN_TITLE})));

    // One Akte per correspondent with documents (in pk order), then the one without.
    let stadtwerke = akte_by_title(&repo, "Stadtwerke Hohe Heide");
    let wind = akte_by_title(&repo, "Windkraft Nord GmbH");
    let ohne = akte_by_title(&repo, NO_CORRESPONDENT);
    assert_eq!(c.all(ObjKind::Akte).count(), 3, "no Akte for a correspondent without documents");
    assert_eq!(
        stadtwerke.fields,
        fields(json!({"aktenzeichen": "paperless-0001", "title": "Stadtwerke Hohe Heide", "aktenplan": "paperless",
            "custom": {"paperless_correspondent_id": 1}}))
    );
    assert_eq!(
        wind.fields,
        fields(json!({"aktenzeichen": "paperless-0002", "title": "Windkraft Nord GmbH", "aktenplan": "paperless",
            "custom": {"paperless_correspondent_id": 2}}))
    );
    assert_eq!(
        ohne.fields,
        fields(json!({"aktenzeichen": "paperless-0003", "title": NO_CORRESPONDENT, "aktenplan": "paperless"}))
    );
    let azs: Vec<&str> = report.akten.iter().map(|a| a.aktenzeichen.as_str()).collect();
    assert_eq!(azs, ["paperless-0001", "paperless-0002", "paperless-0003"]);

    // Stadtwerke: the invoice (original + PDF/A) and the note, in Paperless order.
    let docs = dokumente(&repo, stadtwerke.id);
    assert_eq!(docs.len(), 2);
    let (rechnung, versions) = &docs[0];
    assert_eq!(
        rechnung.fields,
        fields(json!({"title": "Rechnung März", "document_type": "Rechnung", "date": "2024-03-01", "custom": {
            "paperless_id": 1,
            "paperless_created": "2024-03-01",
            "paperless_added": "2024-03-02T09:30:00Z",
            "paperless_modified": "2024-03-05T08:00:00.123Z",
            "paperless_correspondent": "Stadtwerke Hohe Heide",
            "paperless_document_type": "Rechnung",
            "paperless_tags": ["Eingang", "Windpark"],
            "paperless_custom_fields": {"Betrag": "EUR123.45", "Fällig am": "2024-04-01", "Priorität": "hoch"},
            "paperless_original_filename": "Rechnung_2024-03.pdf",
            "paperless_checksum": md5_hex(&f.rechnung.bytes),
            "paperless_archive_checksum": md5_hex(&f.rechnung_archive.bytes),
        }}))
    );
    assert_eq!(versions.len(), 2);
    check_version(versions[0], &f.rechnung.bytes, "Rechnung_2024-03.pdf", "application/pdf");
    assert_eq!(versions[0].text("comment"), Some("Original aus Paperless-ngx"));
    check_version(versions[1], &f.rechnung_archive.bytes, "Rechnung_2024-03.pdf", "application/pdf");
    assert_eq!(versions[1].text("comment"), Some("PDF/A-Archivfassung aus Paperless-ngx"));
    assert_eq!(read_all(&repo, &versions[0].id).await, f.rechnung.bytes);
    assert_eq!(read_all(&repo, &versions[1].id).await, f.rechnung_archive.bytes);
    assert_eq!(read_all(&repo, &rechnung.id).await, f.rechnung_archive.bytes, "the PDF/A is the latest version");

    let (notiz, versions) = &docs[1];
    assert_eq!(
        notiz.fields,
        fields(json!({"title": "Notiz", "date": "2024-01-10", "custom": {
            "paperless_id": 4,
            "paperless_created": "2024-01-10",
            "paperless_correspondent": "Stadtwerke Hohe Heide",
            "paperless_original_filename": "notiz.txt",
            "paperless_checksum": md5_hex(&f.notiz.bytes),
            "paperless_owner": 99,
        }}))
    );
    assert_eq!(versions.len(), 1);
    check_version(versions[0], &f.notiz.bytes, "notiz.txt", "text/plain");
    assert_eq!(read_all(&repo, &versions[0].id).await, f.notiz.bytes);

    // Windkraft: the scan with notes (by time, the deleted one left out), custom fields,
    // ASN, owner and storage path; its checksum was upper case.
    let docs = dokumente(&repo, wind.id);
    assert_eq!(docs.len(), 1);
    let (scan, versions) = &docs[0];
    assert_eq!(
        scan.fields,
        fields(json!({"title": "Antrag Windpark (Scan)", "document_type": "Antrag", "date": "2023-11-05", "custom": {
            "paperless_id": 2,
            "paperless_created": "2023-11-05T00:00:00+01:00",
            "paperless_added": "2023-11-06T09:00:00Z",
            "paperless_modified": "2023-11-06T10:00:00Z",
            "paperless_correspondent": "Windkraft Nord GmbH",
            "paperless_document_type": "Antrag",
            "paperless_tags": ["Windpark"],
            "paperless_custom_fields": {"Geprüft": true, "Stufe": "C"},
            "paperless_notes": [
                {"note": "Bitte Standort prüfen.", "created": "2024-01-01T09:00:00Z", "user": null},
                {"note": "Rückfrage beim Betreiber erledigt.", "created": "2024-01-02T10:00:00Z",
                    "user": "amt.mueller"},
            ],
            "paperless_archive_serial_number": 17,
            "paperless_original_filename": "C:\\Scans\\scan.tif",
            "paperless_checksum": md5_hex(&f.scan.bytes),
            "paperless_storage_path": "Bauamt",
            "paperless_owner": "amt.mueller",
        }}))
    );
    assert_eq!(versions.len(), 1);
    check_version(versions[0], &f.scan.bytes, "scan.tif", "image/tiff");
    assert_eq!(read_all(&repo, &versions[0].id).await, f.scan.bytes);

    // Without correspondent: its own Akte; the file name comes from the exported name.
    let docs = dokumente(&repo, ohne.id);
    assert_eq!(docs.len(), 1);
    let (brief, versions) = &docs[0];
    assert_eq!(
        brief.fields,
        fields(json!({"title": "Brief", "date": "2022-12-24", "custom": {
            "paperless_id": 7,
            "paperless_created": "2022-12-24",
            "paperless_tags": ["Erledigt"],
            "paperless_checksum": md5_hex(&f.ohne.bytes),
        }}))
    );
    check_version(versions[0], &f.ohne.bytes, "Ohne Korrespondent – Brief.txt", "text/plain");
    assert_eq!(read_all(&repo, &versions[0].id).await, f.ohne.bytes);

    // Provenance names the export (Paperless version and the manifest's digest).
    let p = Provenance::load(&repo, repo.catalog(), wind.id).await.unwrap().expect("provenance recorded");
    assert_eq!(p.format, "paperless-ngx");
    let manifest_sha256 = digest_of(&std::fs::read(dir.join("manifest.json")).unwrap(), "sha256");
    assert_eq!(
        p.source.as_deref(),
        Some(format!("Paperless-ngx 2.15.3, manifest.json sha256:{manifest_sha256}").as_str())
    );

    // The import was one journal entry; the repository verifies.
    assert_eq!(repo.catalog().history(&wind.id).len(), 1);
    let r = akte_store::verify::verify(&repo, |_, _| {}).await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);

    // The same export again: refused, nothing changes.
    let before = snapshot(&repo);
    let e = import_paperless(&mut repo, &dir).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("Paperless-ngx document 1 was already imported") && msg.contains("paperless-0001"), "{msg}");
    assert_eq!(snapshot(&repo), before);

    // A later export with one new document: new Akten numbered on, under the same node.
    let later = env.path("later");
    let f2 = write_export(&later);
    let mut m = read_manifest(&later);
    m.as_array_mut().unwrap().retain(|r| r["model"] != "documents.document" || r["pk"] == 4);
    m.as_array_mut()
        .unwrap()
        .retain(|r| r["model"] != "documents.customfieldinstance" && r["model"] != "documents.note");
    let d = doc_mut(&mut m, 4);
    d["pk"] = json!(40);
    write_manifest(&later, &m);
    let report = import_paperless(&mut repo, &later).await.unwrap();
    assert_eq!(report.akten.len(), 1);
    assert_eq!(report.akten[0].aktenzeichen, "paperless-0004");
    assert_eq!(repo.catalog().all(ObjKind::Aktenplan).count(), 1);
    let new_akte = repo.catalog().get(&report.akten[0].id).unwrap();
    assert_eq!(new_akte.text("title"), Some("Stadtwerke Hohe Heide"));
    let docs = dokumente(&repo, new_akte.id);
    assert_eq!(read_all(&repo, &docs[0].1[0].id).await, f2.notiz.bytes);
}

#[tokio::test]
async fn akten_go_under_the_callers_aktenplan_node() {
    let env = Env::new();
    let mut repo = env.init().await;
    populate(&mut repo).await;
    let dir = env.path("export");
    write_export(&dir);

    let before = snapshot(&repo);
    let opts = PaperlessOptions { aktenplan: Some("99.9".into()), ..Default::default() };
    let e = import_paperless_with(&mut repo, &dir, &opts).await.unwrap_err();
    assert!(matches!(e, Error::Usage(_)) && e.to_string().contains("99.9"), "{e}");
    assert_eq!(snapshot(&repo), before);

    let nodes = repo.catalog().all(ObjKind::Aktenplan).count();
    let opts = PaperlessOptions { aktenplan: Some("61.2".into()), ..Default::default() };
    let report = import_paperless_with(&mut repo, &dir, &opts).await.unwrap();
    assert_eq!(repo.catalog().all(ObjKind::Aktenplan).count(), nodes, "no node created");
    let azs: Vec<&str> = report.akten.iter().map(|a| a.aktenzeichen.as_str()).collect();
    assert_eq!(azs, ["61.2-0001", "61.2-0002", "61.2-0003"]);
    for a in &report.akten {
        assert_eq!(repo.catalog().get(&a.id).unwrap().text("aktenplan"), Some("61.2"));
    }
}

/// Spoils the export in its first directory (the second is a directory outside it).
type Spoil = Box<dyn Fn(&Path, &Path)>;

/// A hostile variant of the test export: what to do to it, and what the error must say.
struct Case {
    name: &'static str,
    spoil: Spoil,
    says: &'static str,
    options: PaperlessOptions,
}

fn case(name: &'static str, says: &'static str, spoil: impl Fn(&Path, &Path) + 'static) -> Case {
    Case { name, spoil: Box::new(spoil), says, options: PaperlessOptions::default() }
}

/// Changes the manifest with `f`.
fn edit(dir: &Path, f: impl FnOnce(&mut Value)) {
    let mut m = read_manifest(dir);
    f(&mut m);
    write_manifest(dir, &m);
}

/// Leaves out the documents and what hangs on them.
fn without_documents(m: &mut Value) {
    let on_documents = ["documents.document", "documents.note", "documents.customfieldinstance"];
    m.as_array_mut().unwrap().retain(|r| !on_documents.iter().any(|d| r["model"] == *d));
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

fn cases() -> Vec<Case> {
    let mut out = vec![
        case("path traversal", "`..`", |dir, outside| {
            std::fs::write(outside.join("outside.pdf"), b"outside").unwrap();
            edit(dir, |m| {
                let d = doc_mut(m, 7);
                d["__exported_file_name__"] = json!("../outside/outside.pdf");
                d["fields"]["checksum"] = json!(md5_hex(b"outside"));
            });
        }),
        case("traversal in the archive name", "`..`", |dir, _| {
            edit(dir, |m| doc_mut(m, 1)["__exported_archive_name__"] = json!("archive/../../x.pdf"));
        }),
        case("absolute path", "is absolute", |dir, _| {
            edit(dir, |m| doc_mut(m, 7)["__exported_file_name__"] = json!("/etc/passwd"));
        }),
        case("backslash", "backslash", |dir, _| {
            edit(dir, |m| doc_mut(m, 7)["__exported_file_name__"] = json!("..\\..\\etc\\passwd"));
        }),
        case("symbolic link to a file outside", "symbolic link", |dir, outside| {
            let target = outside.join("secret.txt");
            std::fs::write(&target, b"secret").unwrap();
            std::os::unix::fs::symlink(&target, dir.join("link.txt")).unwrap();
            edit(dir, |m| {
                let d = doc_mut(m, 7);
                d["__exported_file_name__"] = json!("link.txt");
                d["fields"]["checksum"] = json!(md5_hex(b"secret"));
            });
        }),
        case("symbolic link to a directory outside", "symbolic link", |dir, outside| {
            std::fs::create_dir_all(outside.join("etc")).unwrap();
            std::fs::write(outside.join("etc/notiz.txt"), b"secret").unwrap();
            std::fs::remove_dir_all(dir.join("originals")).unwrap();
            std::os::unix::fs::symlink(outside.join("etc"), dir.join("originals")).unwrap();
        }),
        case("checksum that does not match", "MD5", |dir, _| {
            let p = dir.join("originals/notiz.txt");
            let mut bytes = std::fs::read(&p).unwrap();
            bytes[0] ^= 1;
            std::fs::write(p, bytes).unwrap();
        }),
        case("archive checksum that does not match", "MD5", |dir, _| {
            edit(dir, |m| doc_mut(m, 1)["fields"]["archive_checksum"] = json!(md5_hex(b"other")));
        }),
        case("checksum missing", "has no checksum", |dir, _| {
            edit(dir, |m| doc_mut(m, 4)["fields"]["checksum"] = Value::Null);
        }),
        case("checksum not an MD5", "is not an MD5", |dir, _| {
            edit(dir, |m| doc_mut(m, 4)["fields"]["checksum"] = json!("sha256:abc"));
        }),
        case("missing file", "missing", |dir, _| {
            std::fs::remove_file(dir.join("originals/notiz.txt")).unwrap();
        }),
        case("missing archive file", "missing", |dir, _| {
            std::fs::remove_dir_all(dir.join("archive")).unwrap();
        }),
        case("a directory named as a file", "is a directory", |dir, _| {
            edit(dir, |m| doc_mut(m, 4)["__exported_file_name__"] = json!("originals"));
        }),
        case("no file name", "has no __exported_file_name__", |dir, _| {
            edit(dir, |m| {
                doc_mut(m, 4).as_object_mut().unwrap().remove("__exported_file_name__");
            });
        }),
        case("two documents, one file", "another document", |dir, _| {
            edit(dir, |m| {
                let sum = doc_mut(m, 4)["fields"]["checksum"].clone();
                let d = doc_mut(m, 7);
                d["__exported_file_name__"] = json!("originals/notiz.txt");
                d["fields"]["checksum"] = sum;
            });
        }),
        case("unknown correspondent", "which the manifest does not hold", |dir, _| {
            edit(dir, |m| doc_mut(m, 4)["fields"]["correspondent"] = json!(42));
        }),
        case("unknown tag", "its tags name 42", |dir, _| {
            edit(dir, |m| doc_mut(m, 4)["fields"]["tags"] = json!([1, 42]));
        }),
        case("note on an unknown document", "which the manifest does not hold", |dir, _| {
            edit(dir, |m| {
                m.as_array_mut().unwrap().push(json!({"model": "documents.note", "pk": 9,
                    "fields": {"note": "x", "document": 1234, "user": null}}));
            });
        }),
        case("custom field instance of an unknown field", "which the manifest does not hold", |dir, _| {
            edit(dir, |m| {
                m.as_array_mut().unwrap().push(json!({"model": "documents.customfieldinstance", "pk": 9,
                    "fields": {"document": 1, "field": 77, "value_text": "x"}}));
            });
        }),
        case("a document twice", "twice", |dir, _| {
            edit(dir, |m| {
                let d = doc_mut(m, 4).clone();
                m.as_array_mut().unwrap().push(d);
            });
        }),
        case("a title that is not text", "is not text", |dir, _| {
            edit(dir, |m| doc_mut(m, 4)["fields"]["title"] = json!({"a": 1}));
        }),
        case("a pk that is not a number", "no numeric pk", |dir, _| {
            edit(dir, |m| doc_mut(m, 4)["pk"] = json!("4"));
        }),
        case("not JSON", "not a Paperless-ngx export manifest", |dir, _| {
            std::fs::write(dir.join("manifest.json"), b"[{\"model\": \"documents.tag\", \"pk\": 1,").unwrap();
        }),
        case("not an array", "not a Paperless-ngx export manifest", |dir, _| {
            std::fs::write(dir.join("manifest.json"), br#"{"model": "documents.document"}"#).unwrap();
        }),
        case("trailing data", "not a Paperless-ngx export manifest", |dir, _| {
            let mut bytes = std::fs::read(dir.join("manifest.json")).unwrap();
            bytes.extend_from_slice(b"\n[]");
            std::fs::write(dir.join("manifest.json"), bytes).unwrap();
        }),
        case("a key twice in a record", "twice", |dir, _| {
            let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
            let text = text.replacen(
                "\"model\": \"documents.document\",",
                "\"model\": \"documents.document\", \"__exported_file_name__\": \"../x\",",
                1,
            );
            std::fs::write(dir.join("manifest.json"), text).unwrap();
        }),
        case("deeply nested JSON in a field read", "deeper than 128 levels", |dir, _| {
            let text = format!(r#"[{{"model": "documents.tag", "pk": 1, "fields": {{"name": {}}}}}]"#, nested(100_000));
            std::fs::write(dir.join("manifest.json"), text).unwrap();
        }),
        case("deeply nested JSON in a field skipped", "deeper than 128 levels", |dir, _| {
            let text = format!(
                r#"[{{"model": "documents.document", "pk": 1, "fields": {{"content": {}}}}}]"#,
                nested(100_000)
            );
            std::fs::write(dir.join("manifest.json"), text).unwrap();
        }),
        case("deeply nested JSON in an unknown model", "deeper than 128 levels", |dir, _| {
            let text = format!(r#"[{{"model": "x.y", "pk": 1, "fields": {{"changes": {}}}}}]"#, nested(100_000));
            std::fs::write(dir.join("manifest.json"), text).unwrap();
        }),
        case("huge manifest", "larger than", |dir, _| {
            // Sparse: 3 GiB on paper, refused before a byte is parsed.
            let f = std::fs::OpenOptions::new().write(true).open(dir.join("manifest.json")).unwrap();
            f.set_len(3 << 30).unwrap();
        }),
        case("no documents", "holds no documents", |dir, _| {
            edit(dir, without_documents);
        }),
        case("split manifest", "--split-manifest", |dir, _| {
            edit(dir, without_documents);
            std::fs::write(dir.join("originals/notiz.txt-manifest.json"), b"[]").unwrap();
        }),
        case("manifest is a symbolic link", "symbolic link", |dir, outside| {
            std::fs::rename(dir.join("manifest.json"), outside.join("manifest.json")).unwrap();
            std::os::unix::fs::symlink(outside.join("manifest.json"), dir.join("manifest.json")).unwrap();
        }),
    ];
    let mut small = case("manifest over the caller's limit", "larger than 4096 bytes", |_, _| {});
    small.options.max_manifest = 4096;
    out.push(small);
    let mut few = case("more records than allowed", "holds more than 5 records of the models read", |_, _| {});
    few.options.max_records = 5;
    out.push(few);
    out
}

#[tokio::test]
async fn hostile_exports_are_refused_and_leave_nothing() {
    let env = Env::new();
    let mut repo = env.init().await;
    populate(&mut repo).await;
    for (i, c) in cases().into_iter().enumerate() {
        let root = env.path(&format!("case-{i}"));
        let (dir, outside) = (root.join("export"), root.join("outside"));
        std::fs::create_dir_all(&outside).unwrap();
        write_export(&dir);
        (c.spoil)(&dir, &outside);
        let before = snapshot(&repo);
        let e = import_paperless_with(&mut repo, &dir, &c.options)
            .await
            .expect_err(&format!("{}: the import must be refused", c.name));
        let msg = e.to_string();
        assert!(e.is_bad_package(), "{}: not a package error: {msg}", c.name);
        assert!(msg.contains(c.says), "{}: expected {:?} in: {msg}", c.name, c.says);
        assert!(!msg.contains('\n') && msg.len() < 600, "{}: not one short sentence: {msg}", c.name);
        assert_eq!(snapshot(&repo), before, "{}: the catalog changed", c.name);
        assert_eq!(repo.catalog().all(ObjKind::Akte).count(), 2, "{}", c.name);
    }
    // The repository still takes a good export.
    let dir = env.path("good");
    write_export(&dir);
    import_paperless(&mut repo, &dir).await.unwrap();
    assert_eq!(repo.catalog().all(ObjKind::Akte).count(), 5);
}

#[tokio::test]
async fn a_folder_without_manifest_or_a_file_is_refused() {
    let env = Env::new();
    let mut repo = env.init().await;
    let before = snapshot(&repo);
    let empty = env.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = import_paperless(&mut repo, &empty).await.unwrap_err();
    assert!(e.to_string().contains("manifest.json") && e.to_string().contains("is missing"), "{e}");
    let file = env.path("file.json");
    std::fs::write(&file, b"[]").unwrap();
    let e = import_paperless(&mut repo, &file).await.unwrap_err();
    assert!(e.to_string().contains("is not a directory"), "{e}");
    assert_eq!(snapshot(&repo), before);
}
