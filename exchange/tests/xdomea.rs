//! xdomea 3.0.0 Abgabe 0401: every message we write passes `xmllint --schema` against
//! xdomea.xsd; export → import into a fresh repository → export gives the same message
//! body and byte-identical primary documents; a message in another system's style imports;
//! hostile ZIPs and XML are refused with nothing of them visible afterwards, and so are
//! seeded mutants of a message (`AKTE_MUTANTS=N` runs N instead of 60).

mod common;

/// The seeded mutations of the extractors' robustness tests, applied to messages here.
#[path = "../../plugins/tests/common/mutate.rs"]
mod mutate;

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::Command,
};

use akte_exchange::{Error, Limits, Sender, export_xdomea_0401, import_xdomea, import_xdomea_with};
use akte_store::{Repository, model::ObjKind};
use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

const XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/xdomea/xdomea_3.0.0/xdomea.xsd");

fn sender() -> Sender {
    Sender {
        institution: "Landratsamt Hohe Heide".into(),
        unit: Some("61 Immissionsschutz".into()),
        recipient: Some("Regierungspräsidium".into()),
        note: Some("Abgabe wegen Zuständigkeitswechsel".into()),
        receipt: true,
        prozess_id: Some(Uuid::parse_str("0b7c1f7e-3c5e-4a57-9d51-5f0c3a0e2d11").unwrap()),
        created: Some(time::macros::datetime!(2026-03-01 10:00 UTC)),
    }
}

/// Every entry of a ZIP, in archive order.
fn entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().to_string(), b)
        })
        .collect()
}

/// Writes a ZIP from entries (deflated).
fn write_zip(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        z.start_file(name.as_str(), opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

/// `xmllint --noout --schema xdomea.xsd`; panics (never skips) when xmllint is missing.
fn xmllint(xml: &[u8], dir: &Path) -> (bool, String) {
    let file = dir.join(format!("check-{}.xml", Uuid::new_v4()));
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", XSD])
        .arg(&file)
        .output()
        .expect("xmllint must be installed (scripts/setup.sh --test installs libxml2-utils)");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn assert_valid(zip: &Path, dir: &Path) {
    let xml = entries(zip).into_iter().find(|(n, _)| n.ends_with(".xml")).expect("the ZIP holds the message");
    let (ok, out) = xmllint(&xml.1, dir);
    assert!(ok, "xmllint refused {}:\n{out}", xml.0);
}

fn the_zip(dir: &Path) -> PathBuf {
    let list: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(list.len(), 1, "one ZIP expected in {}: {list:?}", dir.display());
    list[0].clone()
}

/// The message without its head (ProzessID, time, sending system), and the documents.
fn body(zip: &Path) -> (String, Vec<(String, Vec<u8>)>) {
    let all = entries(zip);
    let xml = String::from_utf8(all[0].1.clone()).unwrap();
    let after = xml.split_once("</xdomea:Kopf>").unwrap().1.to_string();
    (after, all[1..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_is_identical_and_valid() {
    let src = Env::new();
    let mut repo = src.init().await;
    let akten = populate(&mut repo).await;
    let out1 = src.path("out1");
    std::fs::create_dir(&out1).unwrap();
    let r = export_xdomea_0401(&repo, &[], &out1, &sender()).await.unwrap();
    assert_eq!((r.akten.len(), r.vorgaenge, r.dokumente, r.versionen, r.files), (2, 3, 10, 11, 11));
    let zip1 = the_zip(&out1);
    assert_eq!(
        zip1.file_name().unwrap().to_str().unwrap(),
        "0b7c1f7e-3c5e-4a57-9d51-5f0c3a0e2d11_Abgabe.Abgabe.0401.zip"
    );
    assert_eq!(r.path, zip1);
    assert_valid(&zip1, src.dir.path());
    let all = entries(&zip1);
    assert_eq!(all[0].0, "0b7c1f7e-3c5e-4a57-9d51-5f0c3a0e2d11_Abgabe.Abgabe.0401.xml");
    let xml = String::from_utf8(all[0].1.clone()).unwrap();
    for needle in [
        "<xdomea:Kennzeichen>61.2-0815/2026</xdomea:Kennzeichen>",
        "<xdomea:Betreff>Windpark Hohe Heide (7 Anlagen)</xdomea:Betreff>",
        "<xdomea:AnzahlJahre>30</xdomea:AnzahlJahre>",
        "<xdomea:Unbefristet>1</xdomea:Unbefristet>",
        "listURI=\"urn:xoev-de:xdomea:codeliste:aussonderungsart\" listVersionID=\"1.0\"><code>A</code>",
        "listURI=\"urn:xoev-de:xdomea:codeliste:vertraulichkeitsstufe\" listVersionID=\"1.0\"><code>002</code>",
        "<code>0401</code>",
        "<code>018</code>",
        "<xdomea:Teilvorgang>",
        "<xdomea:HistorienProtokollInformation>",
        "<xdomea:MetadatumName>title</xdomea:MetadatumName>",
        "<xdomea:Ende>2026-11-30</xdomea:Ende>",
        "<xdomea:ZdA>true</xdomea:ZdA>",
        "<xdomea:DateinameOriginal>Antrag (korrigiert).pdf</xdomea:DateinameOriginal>",
    ] {
        assert!(xml.contains(needle), "{needle} missing from the message");
    }
    // The documents: one per version, named <version id>_<file name>, content as stored.
    assert_eq!(all.len(), 12);
    let lageplan = all.iter().find(|(n, _)| n.ends_with("_lageplan.tif")).unwrap();
    assert_eq!(lageplan.1, noise(1, 300_000));
    assert!(all.iter().any(|(n, b)| n.ends_with("_leer.txt") && b.is_empty()));

    // Into a fresh repository …
    let dst = Env::new();
    let mut other = dst.init().await;
    let imported = import_xdomea(&mut other, &zip1).await.unwrap();
    assert_eq!((imported.akten.len(), imported.dokumente, imported.versionen, imported.files), (2, 10, 11, 11));
    let c = other.catalog();
    for id in &akten {
        assert_eq!(c.get(id).unwrap().fields, repo.catalog().get(id).unwrap().fields, "the Akte's fields");
    }
    let vermerk = c.all(ObjKind::Dokument).find(|o| o.text("title") == Some("Vermerk\nmit Zeilenumbruch")).unwrap();
    assert_eq!(vermerk.fields["sender"], "Bürgeramt");
    assert_eq!(c.all(ObjKind::Aktenplan).count(), 3, "the Aktenplan path came along");

    // … and out again: the same message body, the same documents.
    let out2 = dst.path("out2");
    std::fs::create_dir(&out2).unwrap();
    export_xdomea_0401(&other, &[], &out2, &sender()).await.unwrap();
    let zip2 = the_zip(&out2);
    assert_valid(&zip2, dst.dir.path());
    let (b1, d1) = body(&zip1);
    let (b2, d2) = body(&zip2);
    assert_eq!(d1, d2, "the primary documents differ");
    assert!(b1 == b2, "the message bodies differ:\n{b1}\n---\n{b2}");

    // Importing the same message again is a conflict.
    let before = snapshot(&other);
    let err = import_xdomea(&mut other, &zip1).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert_eq!(snapshot(&other), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_titles_validate_and_survive() {
    let src = Env::new();
    let mut repo = src.init().await;
    let long = "Sehr langer Betreff mit Überlänge äöüß ".repeat(3000);
    let nasty = "A & B <c> \"d\" 'e' ]]> &amp; \u{1}\u{7}\r\n\t Ünïcödé \u{FFFE} 𝔘 <!DOCTYPE x>";
    let a = create(
        &mut repo,
        ObjKind::Akte,
        None,
        json!({"aktenzeichen": "1 & 2 <3> \"4\"", "title": nasty, "custom": {"k<>": "v&\u{0}"}, "retention_years": 70000}),
    )
    .await;
    let v = create(&mut repo, ObjKind::Vorgang, Some(a), json!({"title": long})).await;
    add_doc(&mut repo, v, nasty, "x&y <z>.pdf", b"%PDF hostile\n").await;
    add_doc(&mut repo, a, "]]>", "ohne Endung", b"plain").await;
    let out = src.path("out");
    std::fs::create_dir(&out).unwrap();
    export_xdomea_0401(&repo, &[], &out, &Sender::default()).await.unwrap();
    let zip1 = the_zip(&out);
    assert_valid(&zip1, src.dir.path());

    let dst = Env::new();
    let mut other = dst.init().await;
    import_xdomea(&mut other, &zip1).await.unwrap();
    assert_eq!(other.catalog().get(&a).unwrap().fields, repo.catalog().get(&a).unwrap().fields);
    let out2 = dst.path("out");
    std::fs::create_dir(&out2).unwrap();
    export_xdomea_0401(&other, &[], &out2, &Sender::default()).await.unwrap();
    let zip2 = the_zip(&out2);
    assert_valid(&zip2, dst.dir.path());
    assert_eq!(body(&zip1), body(&zip2));
}

/// A message as another vendor's DMS might write it: default namespace, no extension of
/// ours, a person as sender, a Teilvorgang, history, no DateinameOriginal on one document,
/// a Dokument without versions, and elements we do not map.
fn foreign_xml(prozess: &str, doc1: &str, doc2: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xdo:Abgabe.Abgabe.0401 xmlns:xdo="urn:xoev-de:xdomea:schema:3.0.0">
  <xdo:Kopf>
    <xdo:ProzessID>{prozess}</xdo:ProzessID>
    <xdo:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0"><code>0401</code></xdo:Nachrichtentyp>
    <xdo:Erstellungszeitpunkt>2025-12-01T08:15:00+01:00</xdo:Erstellungszeitpunkt>
    <xdo:Absender><xdo:Behoerdenkennung/><xdo:Institution><xdo:Name>Stadt Musterhausen</xdo:Name></xdo:Institution></xdo:Absender>
    <xdo:Empfaenger><xdo:Organisationseinheit><xdo:Name>Bauamt</xdo:Name></xdo:Organisationseinheit></xdo:Empfaenger>
    <xdo:SendendesSystem><xdo:Produktname>FremdDMS</xdo:Produktname><xdo:Version>9.1</xdo:Version></xdo:SendendesSystem>
    <xdo:Importbestaetigung>1</xdo:Importbestaetigung>
    <xdo:Empfangsbestaetigung>0</xdo:Empfangsbestaetigung>
  </xdo:Kopf>
  <xdo:Schriftgutobjekt>
    <xdo:Akte>
      <xdo:Identifikation><xdo:ID>5D2C8A4E-1B3F-4C6D-8E9F-0A1B2C3D4E5F</xdo:ID></xdo:Identifikation>
      <xdo:AllgemeineMetadaten>
        <xdo:Betreff>Bauantrag Lindenstraße 5 &amp; Nebengebäude</xdo:Betreff>
        <xdo:Kennzeichen>63-BA-2025/117</xdo:Kennzeichen>
        <xdo:Federfuehrung>Bauaufsicht</xdo:Federfuehrung>
        <xdo:Vertraulichkeitsstufe listURI="urn:xoev-de:xdomea:codeliste:vertraulichkeitsstufe" listVersionID="1.0"><code>003</code></xdo:Vertraulichkeitsstufe>
        <xdo:Aktenplaneinheit><xdo:Kennzeichen>63.1</xdo:Kennzeichen><xdo:BetreffKurz>Baugenehmigungen</xdo:BetreffKurz></xdo:Aktenplaneinheit>
      </xdo:AllgemeineMetadaten>
      <xdo:ArchivspezifischeMetadaten>
        <xdo:Aufbewahrungsdauer><xdo:AnzahlJahre>10</xdo:AnzahlJahre></xdo:Aufbewahrungsdauer>
        <xdo:Aussonderungsart><xdo:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" listVersionID="1.0"><code>B</code></xdo:Aussonderungsart></xdo:Aussonderungsart>
      </xdo:ArchivspezifischeMetadaten>
      <xdo:Laufzeit><xdo:Beginn>2025-03-04</xdo:Beginn></xdo:Laufzeit>
      <xdo:HistorienProtokollInformation>
        <xdo:Akteur>Frau Beispiel</xdo:Akteur><xdo:DatumUhrzeit>2025-03-04T09:00:00</xdo:DatumUhrzeit><xdo:Aktion>Akte angelegt</xdo:Aktion>
      </xdo:HistorienProtokollInformation>
      <xdo:Akteninhalt>
        <xdo:Dokument>
          <xdo:Identifikation><xdo:ID>6e3d9b5f-2c40-4d7e-9fa0-1b2c3d4e5f60</xdo:ID></xdo:Identifikation>
          <xdo:AllgemeineMetadaten><xdo:Betreff>Bauantrag</xdo:Betreff></xdo:AllgemeineMetadaten>
          <xdo:Posteingangsdatum>2025-03-04</xdo:Posteingangsdatum>
          <xdo:DatumDesSchreibens>2025-02-28</xdo:DatumDesSchreibens>
          <xdo:Typ>Antrag</xdo:Typ>
          <xdo:Version>
            <xdo:Nummer>1</xdo:Nummer>
            <xdo:Format>
              <xdo:Name listURI="urn:xoev-de:xdomea:codeliste:dateiformat" listVersionID="1.0"><code>018</code></xdo:Name>
              <xdo:Version>1.7</xdo:Version>
              <xdo:Primaerdokument><xdo:Dateiname>{doc1}</xdo:Dateiname><xdo:DateinameOriginal>C:\Scans\Bauantrag.pdf</xdo:DateinameOriginal></xdo:Primaerdokument>
            </xdo:Format>
          </xdo:Version>
          <xdo:Absender><xdo:Name><xdo:Familienname><xdo:Name>Mustermann</xdo:Name></xdo:Familienname><xdo:Vorname><xdo:Name>Erika</xdo:Name></xdo:Vorname></xdo:Name></xdo:Absender>
        </xdo:Dokument>
        <xdo:Vorgang>
          <xdo:Identifikation><xdo:ID>7f4e0c60-3d51-4e8f-a0b1-2c3d4e5f6071</xdo:ID></xdo:Identifikation>
          <xdo:AllgemeineMetadaten><xdo:Betreff>Beteiligung</xdo:Betreff></xdo:AllgemeineMetadaten>
          <xdo:ZdA>true</xdo:ZdA>
          <xdo:Teilvorgang>
            <xdo:Identifikation><xdo:ID>80a1b2c3-4e62-4f90-b1c2-3d4e5f607182</xdo:ID></xdo:Identifikation>
            <xdo:AllgemeineMetadaten><xdo:Betreff>Stellungnahmen</xdo:Betreff></xdo:AllgemeineMetadaten>
            <xdo:Dokument>
              <xdo:Identifikation><xdo:ID>91b2c3d4-5f73-4a01-c2d3-4e5f60718293</xdo:ID></xdo:Identifikation>
              <xdo:AllgemeineMetadaten><xdo:Betreff>Stellungnahme Brandschutz</xdo:Betreff></xdo:AllgemeineMetadaten>
              <xdo:Version>
                <xdo:Nummer>1</xdo:Nummer>
                <xdo:Format>
                  <xdo:Name listURI="urn:xoev-de:xdomea:codeliste:dateiformat" listVersionID="1.0"><code>045</code></xdo:Name>
                  <xdo:Version/>
                  <xdo:Primaerdokument><xdo:Dateiname>{doc2}</xdo:Dateiname></xdo:Primaerdokument>
                </xdo:Format>
              </xdo:Version>
            </xdo:Dokument>
            <xdo:Dokument>
              <xdo:Identifikation><xdo:ID>a2c3d4e5-6084-4b12-93e4-5f6071829304</xdo:ID></xdo:Identifikation>
              <xdo:AllgemeineMetadaten><xdo:Betreff>Papiervermerk</xdo:Betreff><xdo:Medium listURI="urn:xoev-de:xdomea:codeliste:medium" listVersionID="1.0"><code>003</code></xdo:Medium></xdo:AllgemeineMetadaten>
            </xdo:Dokument>
          </xdo:Teilvorgang>
        </xdo:Vorgang>
      </xdo:Akteninhalt>
      <xdo:ZdA>false</xdo:ZdA>
    </xdo:Akte>
  </xdo:Schriftgutobjekt>
</xdo:Abgabe.Abgabe.0401>
"#
    )
}

const FOREIGN_PROZESS: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const DOC1: &str = "1a2b3c4d-0000-4000-8000-000000000001.pdf";
const DOC2: &str = "1a2b3c4d-0000-4000-8000-000000000002_Stellungnahme.txt";

fn foreign_entries() -> Vec<(String, Vec<u8>)> {
    vec![
        (format!("{FOREIGN_PROZESS}_Abgabe.Abgabe.0401.xml"), foreign_xml(FOREIGN_PROZESS, DOC1, DOC2).into_bytes()),
        (DOC1.into(), b"%PDF-1.7 Bauantrag\n".to_vec()),
        (DOC2.into(), "Keine Bedenken aus Sicht des Brandschutzes.\n".as_bytes().to_vec()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_systems_message_imports() {
    let env = Env::new();
    let mut repo = env.init().await;
    let entries = foreign_entries();
    let (ok, out) = xmllint(&entries[0].1, env.dir.path());
    assert!(ok, "the hand-written message must itself be valid:\n{out}");
    let zip = env.path(format!("{FOREIGN_PROZESS}_Abgabe.Abgabe.0401.zip").as_str());
    write_zip(&zip, &entries);
    let r = import_xdomea(&mut repo, &zip).await.unwrap();
    assert_eq!((r.akten.len(), r.vorgaenge, r.dokumente, r.versionen), (1, 2, 3, 2));
    let c = repo.catalog();
    let akte = c.get(&Uuid::parse_str("5d2c8a4e-1b3f-4c6d-8e9f-0a1b2c3d4e5f").unwrap()).unwrap();
    let f = Value::Object(akte.fields.to_map());
    assert_eq!(
        f,
        json!({"aktenzeichen": "63-BA-2025/117", "title": "Bauantrag Lindenstraße 5 & Nebengebäude", "aktenplan": "63.1",
            "confidentiality": "offen", "retention_years": 10, "appraisal": "bewerten", "laufzeit_beginn": "2025-03-04",
            "status": "offen"})
    );
    let plan = c.all(ObjKind::Aktenplan).next().unwrap();
    assert_eq!((plan.text("code"), plan.text("title")), (Some("63.1"), Some("Baugenehmigungen")));
    let antrag = c.all(ObjKind::Dokument).find(|d| d.text("title") == Some("Bauantrag")).unwrap();
    assert_eq!(antrag.text("sender"), Some("Erika Mustermann"));
    assert_eq!(antrag.text("received"), Some("2025-03-04"));
    assert_eq!(antrag.text("date"), Some("2025-02-28"), "DatumDesSchreibens");
    assert_eq!(antrag.text("document_type"), Some("Antrag"));
    let v = c.get(&antrag.versions[0]).unwrap();
    assert_eq!(v.text("file_name"), Some("Bauantrag.pdf"));
    assert_eq!(v.text("media_type"), Some("application/pdf"));
    let (_, stream) = repo.content(&antrag.versions[0]).await.unwrap();
    let bytes: Vec<bytes::Bytes> = futures::TryStreamExt::try_collect(stream).await.unwrap();
    assert_eq!(bytes.concat(), b"%PDF-1.7 Bauantrag\n");
    let stellung = c.all(ObjKind::Dokument).find(|d| d.text("title") == Some("Stellungnahme Brandschutz")).unwrap();
    assert_eq!(c.get(&stellung.versions[0]).unwrap().text("file_name"), Some("Stellungnahme.txt"));
    let beteiligung = c.all(ObjKind::Vorgang).find(|d| d.text("title") == Some("Beteiligung")).unwrap();
    assert_eq!(beteiligung.text("status"), Some("zda"));

    // Exported again, it is valid and carries the imported history.
    let out = env.path("out");
    std::fs::create_dir(&out).unwrap();
    export_xdomea_0401(&repo, &[], &out, &Sender::default()).await.unwrap();
    let zip2 = the_zip(&out);
    assert_valid(&zip2, env.dir.path());
    let (b, _) = body(&zip2);
    assert!(b.contains("<xdomea:Aktion>Akte angelegt</xdomea:Aktion>"), "{b}");
}

/// A valid message of ours, as entries, to spoil.
async fn our_entries(env: &Env) -> Vec<(String, Vec<u8>)> {
    let mut repo = env.init().await;
    populate(&mut repo).await;
    let out = env.path("ours");
    std::fs::create_dir(&out).unwrap();
    export_xdomea_0401(&repo, &[], &out, &sender()).await.unwrap();
    entries(&the_zip(&out))
}

fn replace_xml(e: &mut [(String, Vec<u8>)], f: impl FnOnce(String) -> String) {
    let xml = String::from_utf8(e[0].1.clone()).unwrap();
    e[0].1 = f(xml).into_bytes();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_are_refused_and_leave_nothing() {
    let env = Env::new();
    let ours = our_entries(&env).await;
    let foreign = foreign_entries();
    type Spoil = Box<dyn Fn(&mut Vec<(String, Vec<u8>)>)>;
    let cases: Vec<(&str, bool, Spoil)> = vec![
        ("zip slip", true, Box::new(|e| e.push(("../../evil.txt".into(), b"x".to_vec())))),
        ("absolute name", true, Box::new(|e| e.push(("/etc/evil".into(), b"x".to_vec())))),
        ("backslash name", true, Box::new(|e| e.push(("..\\evil".into(), b"x".to_vec())))),
        ("zip bomb", false, Box::new(|e| e.push(("bomb.bin".into(), vec![0u8; 64 << 20])))),
        ("unnamed entry", true, Box::new(|e| e.push(("extra.txt".into(), b"x".to_vec())))),
        (
            "missing document",
            true,
            Box::new(|e| {
                let i = e.iter().position(|(n, _)| n.ends_with("_lageplan.tif")).unwrap();
                e.remove(i);
            }),
        ),
        (
            "document that lies",
            true,
            Box::new(|e| {
                let d = e.iter_mut().find(|(n, _)| n.ends_with("_Antrag.pdf")).unwrap();
                d.1[0] ^= 1;
            }),
        ),
        (
            "document of another size",
            true,
            Box::new(|e| {
                let d = e.iter_mut().find(|(n, _)| n.ends_with("_Antrag.pdf")).unwrap();
                d.1.push(b'!');
            }),
        ),
        (
            "billion laughs",
            true,
            Box::new(|e| {
                replace_xml(e, |x| {
                    let dtd = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>";
                    x.replacen("?>", &format!("?>{dtd}"), 1).replacen("Windpark Hohe Heide (7 Anlagen)", "&lol2;", 1)
                })
            }),
        ),
        (
            "external entity",
            true,
            Box::new(|e| {
                replace_xml(e, |x| {
                    let dtd = "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>";
                    x.replacen("?>", &format!("?>{dtd}"), 1).replacen("Windpark Hohe Heide (7 Anlagen)", "&xxe;", 1)
                })
            }),
        ),
        (
            "undeclared entity",
            true,
            Box::new(|e| replace_xml(e, |x| x.replacen("Windpark Hohe Heide (7 Anlagen)", "&xxe;", 1))),
        ),
        (
            "extension contradicts",
            true,
            Box::new(|e| {
                replace_xml(e, |x| {
                    x.replacen(
                        "<xdomea:Kennzeichen>61.2-0815/2026</xdomea:Kennzeichen>",
                        "<xdomea:Kennzeichen>61.2-9999/2026</xdomea:Kennzeichen>",
                        1,
                    )
                })
            }),
        ),
        ("not well-formed", true, Box::new(|e| replace_xml(e, |x| x.replacen("</xdomea:Kopf>", "", 1)))),
        (
            "wrong message type",
            true,
            Box::new(|e| replace_xml(e, |x| x.replacen("<code>0401</code>", "<code>0503</code>", 1))),
        ),
    ];
    let dst = Env::new();
    let mut repo = dst.init().await;
    populate_other(&mut repo).await;
    let limits = Limits { max_ratio: 100, ..Limits::default() };
    for (name, on_ours, spoil) in cases {
        let mut e = if on_ours { ours.clone() } else { foreign.clone() };
        spoil(&mut e);
        let zip = dst.path(&format!("{}.zip", name.replace(' ', "-")));
        write_zip(&zip, &e);
        let before = snapshot(&repo);
        let err = import_xdomea_with(&mut repo, &zip, &limits).await.expect_err(name);
        eprintln!("{name}: {err}");
        assert!(err.is_bad_package(), "{name}: {err}");
        assert_eq!(snapshot(&repo), before, "{name}: the catalog changed");
    }

    // A truncated archive, and one whose entries are cut short.
    let zip = dst.path("good.zip");
    write_zip(&zip, &ours);
    let bytes = std::fs::read(&zip).unwrap();
    let before = snapshot(&repo);
    for (name, cut) in
        [("truncated", bytes[..bytes.len() / 2].to_vec()), ("tail cut", bytes[..bytes.len() - 10].to_vec())]
    {
        let p = dst.path(&format!("{name}.zip"));
        std::fs::write(&p, cut).unwrap();
        let err = import_xdomea(&mut repo, &p).await.expect_err(name);
        assert!(err.is_bad_package(), "{name}: {err}");
        assert_eq!(snapshot(&repo), before, "{name}: the catalog changed");
    }
    // A flipped byte inside a compressed entry: the CRC catches it.
    let mut flipped = bytes.clone();
    let at = flipped.len() / 3;
    flipped[at] ^= 0x55;
    let p = dst.path("flipped.zip");
    std::fs::write(&p, flipped).unwrap();
    assert!(import_xdomea(&mut repo, &p).await.is_err());
    assert_eq!(snapshot(&repo), before);

    // After all that, the good message still imports.
    import_xdomea(&mut repo, &zip).await.unwrap();
}

/// Something in the target repository, so that "unchanged" means more than "empty".
async fn populate_other(repo: &mut Repository) {
    let a = create(repo, ObjKind::Akte, None, json!({"aktenzeichen": "00-1/2026", "title": "Vorhanden"})).await;
    add_doc(repo, a, "Brief", "brief.txt", b"Hallo\n").await;
}

const TEILAKTE_AKTE: &str = "8e2f4a61-0c3b-4d5e-9f7a-1b2c3d4e5f60";

/// The hand-written 0401 of another system (tests/fixtures/xdomea-0401-teilakte), the
/// message first, as senders write it.
fn teilakte_fixture() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdomea-0401-teilakte");
    let mut files: Vec<(String, Vec<u8>)> = tree(&dir).into_iter().collect();
    files.sort_by_key(|(n, _)| !n.ends_with(".xml"));
    files
}

fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

async fn content_of(repo: &Repository, version: Uuid) -> Vec<u8> {
    let (_, stream) = repo.content(&version).await.unwrap();
    let bytes: Vec<bytes::Bytes> = futures::TryStreamExt::try_collect(stream).await.unwrap();
    bytes.concat()
}

/// One object below an Akte: depth, kind, id, parent, fields, and for a Dokument its
/// versions (id, fields, content).
type Shaped = (usize, ObjKind, Uuid, Option<Uuid>, Value, Vec<(Uuid, Value, Vec<u8>)>);

/// Everything below an Akte, depth first in creation order.
async fn shape(repo: &Repository, akte: Uuid) -> Vec<Shaped> {
    let c = repo.catalog();
    let mut out = Vec::new();
    let mut todo = vec![(akte, 0usize)];
    while let Some((id, depth)) = todo.pop() {
        let o = c.get(&id).unwrap();
        let mut versions = Vec::new();
        for v in &o.versions {
            versions.push((*v, Value::Object(c.get(v).unwrap().fields.to_map()), content_of(repo, *v).await));
        }
        out.push((depth, o.kind, id, o.parent, Value::Object(o.fields.to_map()), versions));
        let kids: Vec<Uuid> =
            c.children(&id).filter(|k| matches!(k.kind, ObjKind::Vorgang | ObjKind::Dokument)).map(|k| k.id).collect();
        todo.extend(kids.into_iter().rev().map(|k| (k, depth + 1)));
    }
    out
}

/// Another system's 0401 with a Teilakte, Anlagen and a Version with two Formate imports
/// losslessly; our export writes them back as Teilakte, Anlage and Formate of one Version
/// (valid against the schema), and that message imports into a third repository as the same
/// structure, bytes and metadata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teilakte_anlagen_and_formate_import_and_round_trip() {
    let files = teilakte_fixture();
    let env = Env::new();
    let (ok, out) = xmllint(&files[0].1, env.dir.path());
    assert!(ok, "the fixture must itself be valid:\n{out}");
    let zip = env.path(&format!("{}.zip", files[0].0.trim_end_matches(".xml")));
    write_zip(&zip, &files);
    let fixture = |suffix: &str| files.iter().find(|(n, _)| n.ends_with(suffix)).unwrap().1.clone();

    let mut repo = env.init().await;
    let r = import_xdomea(&mut repo, &zip).await.unwrap();
    assert_eq!((r.akten.len(), r.vorgaenge, r.dokumente, r.versionen, r.files), (1, 4, 6, 8, 8));
    let c = repo.catalog();
    let akte = c.get(&id(TEILAKTE_AKTE)).unwrap();
    assert_eq!(
        Value::Object(akte.fields.to_map()),
        json!({"aktenzeichen": "32.10-2024/0457", "title": "Gaststättenerlaubnis Marktplatz 3", "aktenplan": "32.10",
            "confidentiality": "offen", "retention_years": 10, "laufzeit_beginn": "2024-05-02", "status": "offen"})
    );
    // NummerImUebergeordnetenContainer orders the Akte: the Dokument with its Anlagen right
    // after it, then the Teilakte (number 2), then the Vorgang (number 3).
    let antrag = id("a1000000-0000-4000-8000-000000000001");
    let (lageplan, grundriss) =
        (id("a1000000-0000-4000-8000-000000000002"), id("a1000000-0000-4000-8000-000000000003"));
    let teilakte = id("d1000000-0000-4000-8000-000000000001");
    let anhoerung = id("c1000000-0000-4000-8000-000000000001");
    let inside: Vec<Uuid> = c.children(&akte.id).map(|o| o.id).collect();
    assert_eq!(inside, [antrag, lageplan, grundriss, teilakte, anhoerung]);

    // The Teilakte: a Vorgang that keeps the Akte's metadata in custom.xdomea.
    let t = c.get(&teilakte).unwrap();
    assert_eq!(t.kind, ObjKind::Vorgang);
    assert_eq!(
        Value::Object(t.fields.to_map()),
        json!({"title": "Bauordnungsrechtliche Prüfung", "status": "zda", "custom": {"xdomea": {
            "typ": "Teilakte", "kennzeichen": "32.10-2024/0457-TA1", "aktenplan": "32.10.1",
            "aktenplan_titel": "Bauprüfung Gaststätten", "laufzeit_beginn": "2024-05-10", "laufzeit_ende": "2024-07-31",
            "retention_years": 5, "appraisal": "vernichten", "confidentiality": "vs-nfd"}}})
    );
    let in_t: Vec<(ObjKind, Option<&str>)> = c.children(&teilakte).map(|o| (o.kind, o.text("title"))).collect();
    assert_eq!(in_t, [(ObjKind::Dokument, Some("Prüfvermerk")), (ObjKind::Vorgang, Some("Brandschutz"))]);
    let brandschutz = c.get(&id("c1000000-0000-4000-8000-000000000002")).unwrap();
    assert_eq!((brandschutz.parent, brandschutz.text("status")), (Some(teilakte), Some("zda")));
    let feuerwehr = c.get(&id("c1000000-0000-4000-8000-000000000003")).unwrap();
    assert_eq!(feuerwehr.parent, Some(brandschutz.id));
    let stellung = c.get(&id("a1000000-0000-4000-8000-000000000006")).unwrap();
    assert_eq!((stellung.parent, stellung.text("sender")), (Some(feuerwehr.id), Some("Feuerwehr Beispielburg")));
    assert_eq!(c.get(&stellung.versions[0]).unwrap().text("file_name"), Some("Stellungnahme FW.pdf"));

    // The Anlagen: Dokumente beside their Dokument, which custom.xdomea.anlage_zu names.
    let l = c.get(&lageplan).unwrap();
    assert_eq!(
        Value::Object(l.fields.to_map()),
        json!({"title": "Lageplan", "custom": {"xdomea": {"anlage_zu": antrag.to_string(), "nummer": "1"}}})
    );
    let g = c.get(&grundriss).unwrap();
    assert_eq!(g.text("sender"), Some("Architekturbüro Plan & Bau"));
    assert_eq!(g.fields["custom"], json!({"xdomea": {"anlage_zu": antrag.to_string(), "nummer": "2"}}));
    assert_eq!(c.get(&g.versions[0]).unwrap().text("media_type"), Some("image/png"));

    // Two Formate of Version 1: the DOCX is version 1, the PDF/A version 2 (a rendition),
    // Version 2 of the message is version 3.
    let a = c.get(&antrag).unwrap();
    assert_eq!(
        (a.text("sender"), a.text("received"), a.text("document_type")),
        (Some("Gerda Wirtin"), Some("2024-05-02"), Some("Antrag"))
    );
    assert_eq!(a.versions.len(), 3);
    let vs: Vec<&akte_store::catalog::Obj> = a.versions.iter().map(|v| c.get(v).unwrap()).collect();
    let names: Vec<Option<&str>> = vs.iter().map(|v| v.text("file_name")).collect();
    assert_eq!(
        names,
        [
            Some("Antrag Gaststättenerlaubnis.docx"),
            Some("Antrag Gaststättenerlaubnis.pdf"),
            Some("Antrag_ergaenzt.docx")
        ]
    );
    assert_eq!(vs[1].text("media_type"), Some("application/pdf"));
    let comments: Vec<Option<&str>> = vs.iter().map(|v| v.text("comment")).collect();
    assert_eq!(comments, [None, Some("Rendition of version 1 (xdomea Version 1, Format 2)"), None]);
    let (v1, v2, v3) = (a.versions[0].to_string(), a.versions[1].to_string(), a.versions[2].to_string());
    assert_eq!(
        a.fields["custom"],
        json!({"xdomea": {"versionen": [
            {"nummer": "1", "formate": [{"id": v1, "name": "035", "version": "Office Open XML"},
                                        {"id": v2, "name": "018", "version": "PDF/A-2b"}]},
            {"nummer": "2", "formate": [{"id": v3, "name": "035", "version": "Office Open XML"}]}]}})
    );
    // The bytes, every one.
    let expect = [
        (a.versions[0], "_Antrag.docx"),
        (a.versions[1], "_Antrag.pdf"),
        (a.versions[2], "_Antrag_ergaenzt.docx"),
        (l.versions[0], "_Lageplan.pdf"),
        (g.versions[0], "_Grundriss.png"),
        (stellung.versions[0], "_Stellungnahme.pdf"),
    ];
    for (v, suffix) in expect {
        assert_eq!(content_of(&repo, v).await, fixture(suffix), "{suffix}");
        assert_eq!(c.get(&v).unwrap().fields["size"], json!(fixture(suffix).len()));
    }
    for (dok, suffix) in [
        ("a1000000-0000-4000-8000-000000000004", "_Anhoerung.txt"),
        ("a1000000-0000-4000-8000-000000000005", "_Pruefvermerk.txt"),
    ] {
        let d = c.get(&id(dok)).unwrap();
        assert_eq!(content_of(&repo, d.versions[0]).await, fixture(suffix), "{suffix}");
    }

    // Out again: Teilakte, Anlagen and both Formate in one Version, valid.
    let out1 = env.path("out1");
    std::fs::create_dir(&out1).unwrap();
    let r = export_xdomea_0401(&repo, &[], &out1, &sender()).await.unwrap();
    assert_eq!((r.vorgaenge, r.dokumente, r.versionen, r.files), (4, 6, 8, 8));
    let zip1 = the_zip(&out1);
    assert_valid(&zip1, env.dir.path());
    let (b1, d1) = body(&zip1);
    for needle in [
        "<xdomea:Teilakte>",
        "<xdomea:Kennzeichen>32.10-2024/0457-TA1</xdomea:Kennzeichen>",
        "<xdomea:Aktion>Teilakte zdA verfügt</xdomea:Aktion>",
        "<xdomea:Beginn>2024-05-10</xdomea:Beginn>",
        "<xdomea:Inhaltsangabe>Bauprüfung Gaststätten</xdomea:Inhaltsangabe>",
        "<code>V</code>",
        "<xdomea:Anlage>",
        "<xdomea:Version>PDF/A-2b</xdomea:Version>",
    ] {
        assert!(b1.contains(needle), "{needle} missing from the message:\n{b1}");
    }
    assert_eq!(b1.matches("<xdomea:Anlage>").count(), 2);
    // An Anlage's own Nummer closes it.
    let anlagen: Vec<&str> = b1.split("</xdomea:Anlage>").map(str::trim_end).take(2).collect();
    assert!(anlagen[0].ends_with("<xdomea:Nummer>1</xdomea:Nummer>"), "{}", anlagen[0]);
    assert!(anlagen[1].ends_with("<xdomea:Nummer>2</xdomea:Nummer>"), "{}", anlagen[1]);
    assert_eq!(b1.matches("<xdomea:Teilakte>").count(), 1);
    assert_eq!(b1.matches("<xdomea:Format>").count(), 8);
    assert_eq!(b1.matches("<xdomea:Version>\n").count(), 7, "the two Formate share one Version");
    let mut sent: Vec<Vec<u8>> = d1.iter().map(|(_, b)| b.clone()).collect();
    let mut given: Vec<Vec<u8>> = files[1..].iter().map(|(_, b)| b.clone()).collect();
    sent.sort();
    given.sort();
    assert_eq!(sent, given, "the primary documents");

    // … into a third repository: the same structure, bytes and metadata.
    let third = Env::new();
    let mut other = third.init().await;
    import_xdomea(&mut other, &zip1).await.unwrap();
    let before = shape(&repo, akte.id).await;
    assert_eq!(before.len(), 11);
    assert_eq!(shape(&other, akte.id).await, before);
    let out2 = third.path("out2");
    std::fs::create_dir(&out2).unwrap();
    export_xdomea_0401(&other, &[], &out2, &sender()).await.unwrap();
    let zip2 = the_zip(&out2);
    assert_valid(&zip2, third.dir.path());
    let (b2, d2) = body(&zip2);
    assert_eq!(d1, d2, "the primary documents differ");
    assert!(b1 == b2, "the message bodies differ:\n{b1}\n---\n{b2}");
}

/// Our own Teilakten, Anlagen and grouped Formate survive export and import, and what
/// cannot be written as such (an Anlage of a Dokument elsewhere, a cycle, a Teilakte inside
/// a Vorgang) is written plainly and still comes back unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marked_objects_round_trip_even_when_not_nestable() {
    let env = Env::new();
    let mut repo = env.init().await;
    let a = create(&mut repo, ObjKind::Akte, None, json!({"aktenzeichen": "1-2/2026", "title": "Akte"})).await;
    let t = create(
        &mut repo,
        ObjKind::Vorgang,
        Some(a),
        json!({"title": "Teil", "custom": {"xdomea": {"typ": "Teilakte", "kennzeichen": "1-2/2026-T",
            "laufzeit_beginn": "kein Datum", "retention_years": "viele", "confidentiality": "<x>"}}}),
    )
    .await;
    let v = create(&mut repo, ObjKind::Vorgang, Some(t), json!({"title": "Vorgang in Teilakte"})).await;
    let inner = create(
        &mut repo,
        ObjKind::Vorgang,
        Some(v),
        json!({"title": "Als Teilvorgang", "custom": {"xdomea": {"typ": "Teilakte"}}}),
    )
    .await;
    let (d1, _) = add_doc(&mut repo, t, "Hauptdokument", "haupt.txt", b"haupt").await;
    let (other_place, _) = add_doc(&mut repo, inner, "Woanders", "w.txt", b"w").await;
    let (x, _) = add_doc(&mut repo, t, "Zyklus A", "x.txt", b"x").await;
    let (y, _) = add_doc(&mut repo, t, "Zyklus B", "y.txt", b"y").await;
    let (anl, _) = add_doc(&mut repo, t, "Anlage", "anl.txt", b"anl").await;
    let (stray, _) = add_doc(&mut repo, t, "Anlage von woanders", "s.txt", b"s").await;
    update(&mut repo, anl, json!({"custom": {"xdomea": {"anlage_zu": d1.to_string(), "nummer": "A<1>"}}})).await;
    update(&mut repo, stray, json!({"custom": {"xdomea": {"anlage_zu": other_place.to_string()}}})).await;
    update(&mut repo, x, json!({"custom": {"xdomea": {"anlage_zu": y.to_string()}}})).await;
    update(&mut repo, y, json!({"custom": {"xdomea": {"anlage_zu": x.to_string()}}})).await;
    // Grouped Formate as the import records them, with a stray id and a version added later.
    let v2 = add_version(&mut repo, d1, "haupt.pdf", b"%PDF haupt").await;
    add_version(&mut repo, d1, "haupt2.txt", b"haupt 2").await;
    let v1 = repo.catalog().get(&d1).unwrap().versions[0];
    update(
        &mut repo,
        d1,
        json!({"custom": {"xdomea": {"versionen": [{"nummer": "1.0", "formate": [
            {"id": v1.to_string(), "name": "<bad>", "version": "x&y"}, {"id": v2.to_string(), "name": "018"},
            {"id": Uuid::new_v4().to_string()}]}]}}}),
    )
    .await;

    let out = env.path("out");
    std::fs::create_dir(&out).unwrap();
    export_xdomea_0401(&repo, &[], &out, &Sender::default()).await.unwrap();
    let zip = the_zip(&out);
    assert_valid(&zip, env.dir.path());
    let (b, _) = body(&zip);
    assert_eq!(b.matches("<xdomea:Teilakte>").count(), 1, "the marked Vorgang inside a Vorgang is a Teilvorgang");
    assert_eq!(b.matches("<xdomea:Anlage>").count(), 1, "only the Anlage whose Dokument is beside it");
    assert!(b.contains("<xdomea:Nummer>A&lt;1&gt;</xdomea:Nummer>"));
    assert!(b.contains("<xdomea:Nummer>1.0</xdomea:Nummer>") && b.contains("<xdomea:Version>x&amp;y</xdomea:Version>"));
    // What custom holds but the schema would refuse is left to the extension.
    assert!(!b.contains("<xdomea:Beginn>") && !b.contains("<xdomea:Vertraulichkeitsstufe"), "{b}");
    assert!(!b.contains("<code>&lt;bad&gt;") && b.contains("<code>045</code>"), "{b}");

    let dst = Env::new();
    let mut copy = dst.init().await;
    import_xdomea(&mut copy, &zip).await.unwrap();
    assert_eq!(shape(&copy, a).await, shape(&repo, a).await);
}

/// What the repository cannot hold is still refused, with nothing imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_held_is_still_refused() {
    let files = teilakte_fixture();
    let env = Env::new();
    let mut repo = env.init().await;
    populate_other(&mut repo).await;
    type Spoil = fn(String) -> String;
    let cases: [(&str, &str, Spoil); 5] = [
        ("streng geheim Teilakte", "Vertraulichkeitsstufe 004", |x| {
            x.replacen("<code>002</code>", "<code>004</code>", 1)
        }),
        ("Dokument at the top", "is no Akte", |x| {
            let (head, rest) = x.split_once("<xd:Schriftgutobjekt>").unwrap();
            let dok = "<xd:Schriftgutobjekt><xd:Dokument><xd:Identifikation><xd:ID>f1000000-0000-4000-8000-000000000001</xd:ID></xd:Identifikation></xd:Dokument></xd:Schriftgutobjekt>";
            format!("{head}{dok}<xd:Schriftgutobjekt>{rest}")
        }),
        ("Teilakte without Betreff and Kennzeichen", "neither", |x| {
            x.replacen("<xd:Betreff>Bauordnungsrechtliche Prüfung</xd:Betreff>", "", 1).replacen(
                "<xd:Kennzeichen>32.10-2024/0457-TA1</xd:Kennzeichen>",
                "",
                1,
            )
        }),
        ("Format without Dateiname", "Dateiname", |x| {
            x.replacen("<xd:Dateiname>B1000000-0000-4000-8000-000000000002_Antrag.pdf</xd:Dateiname>", "", 1)
        }),
        ("Version without Format", "has no Format", |x| {
            let start = x.find("<xd:Format>\n                <xd:Name listURI=\"urn:xoev-de:xdomea:codeliste:dateiformat\" listVersionID=\"1.0\"><code>018</code></xd:Name>\n                <xd:Version>1.7").unwrap();
            let end = start + x[start..].find("</xd:Format>").unwrap() + "</xd:Format>".len();
            format!("{}{}", &x[..start], &x[end..])
        }),
    ];
    for (name, says, spoil) in cases {
        let mut e = files.clone();
        e[0].1 = spoil(String::from_utf8(e[0].1.clone()).unwrap()).into_bytes();
        if name == "Version without Format" {
            e.retain(|(n, _)| !n.ends_with("_Lageplan.pdf"));
        }
        if name == "Format without Dateiname" {
            e.retain(|(n, _)| !n.ends_with("_Antrag.pdf"));
        }
        let zip = env.path(&format!("{}.zip", name.replace(' ', "-")));
        write_zip(&zip, &e);
        let before = snapshot(&repo);
        let err = import_xdomea(&mut repo, &zip).await.expect_err(name);
        assert!(err.is_bad_package(), "{name}: {err}");
        assert!(err.to_string().contains(says), "{name}: {err}");
        assert_eq!(snapshot(&repo), before, "{name}: the catalog changed");
    }

    // Our own message: an Anlage whose akte:Objekt names another Dokument is refused.
    let good = env.path("good.zip");
    write_zip(&good, &files);
    let src_env = Env::new();
    let mut src = src_env.init().await;
    import_xdomea(&mut src, &good).await.unwrap();
    let out = env.path("ours");
    std::fs::create_dir(&out).unwrap();
    export_xdomea_0401(&src, &[], &out, &Sender::default()).await.unwrap();
    let mut ours = entries(&the_zip(&out));
    replace_xml(&mut ours, |x| {
        x.replacen(
            "&quot;anlage_zu&quot;:&quot;a1000000-0000-4000-8000-000000000001&quot;",
            "&quot;anlage_zu&quot;:&quot;a1000000-0000-4000-8000-000000000004&quot;",
            1,
        )
    });
    let zip = env.path("ours-spoiled.zip");
    write_zip(&zip, &ours);
    let before = snapshot(&repo);
    let err = import_xdomea(&mut repo, &zip).await.unwrap_err();
    assert!(err.to_string().contains("Anlage"), "{err}");
    assert_eq!(snapshot(&repo), before);
}

/// Seeded mutants of our message's XML (flipped bits, cut and doubled ranges, deep
/// nesting, extreme numbers, spliced tags and entities), each imported into the same
/// repository: every one imports, or is refused as a bad package with the catalog
/// unchanged. None may panic, hang or fail otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_messages_import_or_are_refused_and_leave_nothing() {
    let n: u64 = std::env::var("AKTE_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(60);
    let env = Env::new();
    let ours = our_entries(&env).await;
    let mut dst = Env::new();
    let mut repo = dst.init().await;
    populate_other(&mut repo).await;
    let mut tally = Mutants::default();
    for k in 0..n {
        let seed = 0x0401_0000 + k;
        let mut rng = mutate::Rng::new(seed);
        let mut e = ours.clone();
        let what = mutate::mutate(&mut e[0].1, &mut rng);
        let zip = dst.path("mutant.zip");
        write_zip(&zip, &e);
        let label = format!("mutant {seed} ({what})");
        let before = snapshot(&repo);
        let outcome = within_a_minute(&label, import_xdomea(&mut repo, &zip)).await;
        if tally.judge(&label, outcome, &before, &repo) {
            let fresh = Env::new();
            repo = fresh.init().await;
            dst = fresh;
            populate_other(&mut repo).await;
        }
    }
    eprintln!("{n} mutated messages: {} imported, {} refused", tally.imported, tally.refused);
    assert!(tally.refused > 0, "no mutant was refused: the mutations reach nothing");
}
