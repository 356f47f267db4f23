//! xdomea 3.0.0 Aussonderung: 0501 offers exactly the Akten that are due, the archive's
//! 0502 sets their appraisal, 0503 hands over the archivwürdig ones with their documents,
//! the archive's 0506 deletes what was handed over or appraised for destruction with the
//! evidence in the tombstones; every message we write passes `xmllint --schema`; hostile
//! answers of an "archive" are refused with nothing changed; another system's 0503 imports.

mod common;

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::Command,
};

use akte_exchange::{
    Sender,
    aussonderung::{self, Outcome, state_of},
    export_0501, export_0503, import_0502, import_xdomea,
};
use akte_store::{Repository, model::ObjKind};
use common::*;
use serde_json::{Value, json};
use uuid::Uuid;

const XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/xdomea/xdomea_3.0.0/xdomea.xsd");
const PROZESS: &str = "5e1f0c3a-7b2d-4e8f-9a6b-1c2d3e4f5a6b";

fn prozess() -> Uuid {
    Uuid::parse_str(PROZESS).unwrap()
}

fn sender(prozess: Option<Uuid>) -> Sender {
    Sender {
        institution: "Landratsamt Hohe Heide".into(),
        unit: Some("Registratur".into()),
        recipient: Some("Landesarchiv".into()),
        receipt: true,
        prozess_id: prozess,
        created: Some(time::macros::datetime!(2026-03-01 10:00 UTC)),
        ..Sender::default()
    }
}

/// The entries of a ZIP: (name, bytes).
type Entries = Vec<(String, Vec<u8>)>;

fn entries(zip: &Path) -> Entries {
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
fn assert_xsd_valid(xml: &[u8], dir: &Path, what: &str) {
    let file = dir.join(format!("check-{}.xml", Uuid::new_v4()));
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", XSD])
        .arg(&file)
        .output()
        .expect("xmllint must be installed (scripts/setup.sh --test installs libxml2-utils)");
    assert!(out.status.success(), "xmllint refused {what}:\n{}", String::from_utf8_lossy(&out.stderr));
}

fn the_zip(dir: &Path) -> PathBuf {
    let list: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(list.len(), 1, "one ZIP expected in {}: {list:?}", dir.display());
    list[0].clone()
}

fn kopf(code: &str, root: &str, prozess: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xdomea:{root} xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0">
  <xdomea:Kopf>
    <xdomea:ProzessID>{prozess}</xdomea:ProzessID>
    <xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0"><code>{code}</code></xdomea:Nachrichtentyp>
    <xdomea:Erstellungszeitpunkt>2026-04-01T09:00:00+02:00</xdomea:Erstellungszeitpunkt>
    <xdomea:Absender><xdomea:Institution><xdomea:Name>Landesarchiv</xdomea:Name></xdomea:Institution></xdomea:Absender>
    <xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Landratsamt Hohe Heide</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>
    <xdomea:SendendesSystem><xdomea:Produktname>Archivsystem</xdomea:Produktname></xdomea:SendendesSystem>
"#
    )
}

/// A Bewertungsverzeichnis as the archive writes it: (id, A or V) per Akte.
fn bewertung_0502(prozess: &str, appraisals: &[(Uuid, &str)]) -> String {
    let root = "Aussonderung.Bewertungsverzeichnis.0502";
    let mut x = kopf("0502", root, prozess);
    x.push_str("    <xdomea:Empfangsbestaetigung>false</xdomea:Empfangsbestaetigung>\n  </xdomea:Kopf>\n");
    for (id, code) in appraisals {
        x.push_str(&format!(
            "  <xdomea:BewertetesObjekt><xdomea:ID>{id}</xdomea:ID><xdomea:Aussonderungsart><xdomea:Aussonderungsart \
             listURI=\"urn:xoev-de:xdomea:codeliste:aussonderungsart\" listVersionID=\"1.0\"><code>{code}</code>\
             </xdomea:Aussonderungsart></xdomea:Aussonderungsart></xdomea:BewertetesObjekt>\n"
        ));
    }
    x.push_str(&format!("</xdomea:{root}>\n"));
    x
}

/// An import confirmation (0506) as the archive writes it: (id, success, Archivkennung).
fn import_0506(prozess: &str, results: &[(Uuid, bool, Option<&str>)]) -> String {
    let root = "Aussonderung.AussonderungImportBestaetigen.0506";
    let mut x = kopf("0506", root, prozess);
    x.push_str("  </xdomea:Kopf>\n");
    for (id, ok, kennung) in results {
        x.push_str(&format!(
            "  <xdomea:AusgesondertesSGO><xdomea:IDSGO>{id}</xdomea:IDSGO><xdomea:Erfolgreich>{}</xdomea:Erfolgreich>",
            if *ok { "1" } else { "0" }
        ));
        if !ok {
            x.push_str("<xdomea:Fehlermeldung>Primärdokument nicht lesbar</xdomea:Fehlermeldung>");
        }
        if let Some(k) = kennung {
            x.push_str(&format!("<xdomea:Archivkennung>{k}</xdomea:Archivkennung>"));
        }
        x.push_str("</xdomea:AusgesondertesSGO>\n");
    }
    x.push_str(&format!("</xdomea:{root}>\n"));
    x
}

fn receipt_0507(prozess: &str) -> String {
    let root = "Aussonderung.AussonderungEmpfangBestaetigen.0507";
    format!("{}  </xdomea:Kopf>\n</xdomea:{root}>\n", kopf("0507", root, prozess))
}

struct Case {
    vernichten: Uuid,
    archiv: Uuid,
    running: Uuid,
    hold: Uuid,
    /// The archivwürdig Akte's versions and their bytes.
    archiv_docs: Vec<(Uuid, Vec<u8>)>,
}

async fn akte(repo: &mut Repository, f: Value) -> Uuid {
    create(repo, ObjKind::Akte, None, f).await
}

/// Four closed Akten: two due (one to destroy, one archivwürdig with content), one whose
/// retention runs, one under a legal hold; and one open Akte.
async fn populate_case(repo: &mut Repository) -> Case {
    let plan = create(repo, ObjKind::Aktenplan, None, json!({"code": "61.2", "title": "Genehmigungen"})).await;
    let _ = plan;
    let vernichten = akte(
        repo,
        json!({"aktenzeichen": "61.2-0001/1999", "title": "Kleinfeuerungsanlage Meier", "aktenplan": "61.2",
            "status": "zda", "laufzeit_beginn": "1999-01-04", "laufzeit_ende": "2000-06-30", "retention_years": 5,
            "appraisal": "vernichten"}),
    )
    .await;
    add_doc(repo, vernichten, "Anzeige", "anzeige.txt", b"Anzeige einer Feuerungsanlage\n").await;
    let archiv = akte(
        repo,
        json!({"aktenzeichen": "61.2-0002/2001", "title": "Windpark Altenwalde", "aktenplan": "61.2",
            "status": "zda", "laufzeit_ende": "2003-03-31", "retention_years": 10,
            "custom": {"anlagen": 3}}),
    )
    .await;
    let v = create(repo, ObjKind::Vorgang, Some(archiv), json!({"title": "Genehmigungsverfahren"})).await;
    let big = noise(7, 200_000);
    let (d1, v1) = add_doc(repo, v, "Antrag", "Antrag.pdf", b"%PDF-1.4 Antrag\n").await;
    let v2 = add_version(repo, d1, "Antrag (ergaenzt).pdf", b"%PDF-1.4 Antrag, ergaenzt\n").await;
    let (_, v3) = add_doc(repo, archiv, "Lageplan", "lageplan.tif", &big).await;
    let running = akte(
        repo,
        json!({"aktenzeichen": "61.2-0003/2020", "title": "Biogas Moordorf", "status": "zda",
            "laufzeit_ende": "2020-05-01", "retention_years": 30, "appraisal": "vernichten"}),
    )
    .await;
    add_doc(repo, running, "Bescheid", "bescheid.txt", b"Bescheid\n").await;
    let hold = akte(
        repo,
        json!({"aktenzeichen": "61.2-0004/1998", "title": "Streitsache", "status": "zda",
            "laufzeit_ende": "1998-12-31", "retention_years": 5, "legal_hold": true}),
    )
    .await;
    add_doc(repo, hold, "Klage", "klage.txt", b"Klageschrift\n").await;
    akte(repo, json!({"aktenzeichen": "61.2-0005/2026", "title": "Offen", "status": "offen"})).await;
    Case {
        vernichten,
        archiv,
        running,
        hold,
        archiv_docs: vec![
            (v1, b"%PDF-1.4 Antrag\n".to_vec()),
            (v2, b"%PDF-1.4 Antrag, ergaenzt\n".to_vec()),
            (v3, big),
        ],
    }
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// What a refused message must leave alone: the catalog and the deletions.
fn state(repo: &Repository) -> (String, usize, usize, usize) {
    let (d, e, o) = snapshot(repo);
    (d, e, o, repo.catalog().state.deleted.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_aussonderung() {
    let env = Env::new();
    let mut repo = env.init().await;
    let case = populate_case(&mut repo).await;
    let rid = repo.repository_id();

    // 0501: exactly the two due Akten, metadata only, valid.
    let out1 = env.path("0501");
    std::fs::create_dir(&out1).unwrap();
    let before = repo.catalog().entries.len();
    let r = export_0501(&mut repo, &out1, &sender(Some(prozess())), today()).await.unwrap();
    let offered: Vec<Uuid> = r.akten.iter().map(|a| a.id).collect();
    assert_eq!(offered, vec![case.vernichten, case.archiv]);
    assert_eq!((r.files, r.versionen), (0, 0));
    assert_eq!(repo.catalog().entries.len(), before + 1, "the offer is one journal entry");
    let zip1 = the_zip(&out1);
    assert_eq!(
        zip1.file_name().unwrap().to_str().unwrap(),
        format!("{PROZESS}_Aussonderung.Anbieteverzeichnis.0501.zip")
    );
    let e1 = entries(&zip1);
    assert_eq!(e1.len(), 1, "an Anbieteverzeichnis holds no primary documents");
    assert_eq!(e1[0].0, format!("{PROZESS}_Aussonderung.Anbieteverzeichnis.0501.xml"));
    assert_xsd_valid(&e1[0].1, env.dir.path(), "the 0501");
    let x = String::from_utf8(e1[0].1.clone()).unwrap();
    assert!(!x.contains("Primaerdokument") && !x.contains("<xdomea:Nummer>"), "{x}");
    assert!(x.contains("<code>V</code>") && x.contains("<code>B</code>"), "each Akte carries its Aussonderungsart");
    assert!(!x.contains("61.2-0003/2020") && !x.contains("61.2-0004/1998") && !x.contains("61.2-0005/2026"));
    for id in [case.vernichten, case.archiv] {
        let s = state_of(repo.catalog().get(&id).unwrap(), rid).unwrap();
        assert_eq!((s.prozess_id, s.offered.as_str()), (prozess(), "2026-03-01T10:00:00Z"));
    }
    assert_eq!(repo.catalog().get(&case.archiv).unwrap().fields["custom"]["anlagen"], 3, "custom fields stay");
    // Offered Akten are not offered again.
    let again = env.path("0501-again");
    std::fs::create_dir(&again).unwrap();
    assert!(matches!(
        export_0501(&mut repo, &again, &sender(None), today()).await,
        Err(akte_exchange::Error::Usage(_))
    ));

    // Hostile 0502s are refused and change nothing.
    let good = bewertung_0502(PROZESS, &[(case.vernichten, "V"), (case.archiv, "A")]);
    assert_xsd_valid(good.as_bytes(), env.dir.path(), "the test's 0502");
    let name_0502 = format!("{PROZESS}_Aussonderung.Bewertungsverzeichnis.0502.xml");
    let other = Uuid::new_v4().to_string();
    let dtd = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>";
    let cases: Vec<(&str, Entries)> = vec![
        ("unknown Akte", vec![(name_0502.clone(), bewertung_0502(PROZESS, &[(Uuid::new_v4(), "A")]).into_bytes())]),
        ("Akte not offered", vec![(name_0502.clone(), bewertung_0502(PROZESS, &[(case.running, "V")]).into_bytes())]),
        (
            "other ProzessID",
            vec![(
                format!("{other}_Aussonderung.Bewertungsverzeichnis.0502.xml"),
                bewertung_0502(&other, &[(case.archiv, "A")]).into_bytes(),
            )],
        ),
        ("B is no result", vec![(name_0502.clone(), bewertung_0502(PROZESS, &[(case.archiv, "B")]).into_bytes())]),
        (
            "twice",
            vec![(name_0502.clone(), bewertung_0502(PROZESS, &[(case.archiv, "A"), (case.archiv, "V")]).into_bytes())],
        ),
        ("DTD", vec![(name_0502.clone(), good.replacen("?>", &format!("?>{dtd}"), 1).into_bytes())]),
        ("zip slip", vec![(name_0502.clone(), good.clone().into_bytes()), ("../../evil.txt".into(), b"x".to_vec())]),
        (
            "wrong message",
            vec![(name_0502.clone(), good.replace("<code>0502</code>", "<code>0501</code>").into_bytes())],
        ),
    ];
    for (what, e) in cases {
        let zip = env.path(&format!("0502-{}.zip", what.replace(' ', "-")));
        write_zip(&zip, &e);
        let before = state(&repo);
        let err = import_0502(&mut repo, &zip).await.expect_err(what);
        eprintln!("0502 {what}: {err}");
        assert!(err.is_bad_package(), "{what}: {err}");
        assert_eq!(state(&repo), before, "{what}: the repository changed");
    }

    // The archive's 0502 sets the appraisals in one entry; reading it again changes nothing.
    let zip2 = env.path(&format!("{PROZESS}_Aussonderung.Bewertungsverzeichnis.0502.zip"));
    write_zip(&zip2, &[(name_0502.clone(), good.clone().into_bytes())]);
    let before = repo.catalog().entries.len();
    let r = import_0502(&mut repo, &zip2).await.unwrap();
    let outcomes: Vec<(Uuid, Outcome)> = r.akten.iter().map(|a| (a.id, a.outcome)).collect();
    assert_eq!(outcomes, vec![(case.vernichten, Outcome::Vernichten), (case.archiv, Outcome::Archivwuerdig)]);
    assert_eq!(repo.catalog().entries.len(), before + 1);
    let c = repo.catalog();
    assert_eq!(c.get(&case.archiv).unwrap().text("appraisal"), Some("archivwuerdig"));
    assert_eq!(c.get(&case.vernichten).unwrap().text("appraisal"), Some("vernichten"));
    let snap = snapshot(&repo);
    let xml_file = env.path(&name_0502);
    std::fs::write(&xml_file, &good).unwrap();
    import_0502(&mut repo, &xml_file).await.unwrap();
    assert_eq!(snapshot(&repo), snap, "the same 0502 (as bare XML) again changes nothing");

    // 0503: the archivwürdig Akte with its documents, byte for byte, valid.
    let out3 = env.path("0503");
    std::fs::create_dir(&out3).unwrap();
    let r = export_0503(&mut repo, &out3, &sender(None)).await.unwrap();
    assert_eq!(r.akten.iter().map(|a| a.id).collect::<Vec<_>>(), vec![case.archiv]);
    assert_eq!((r.dokumente, r.versionen, r.files), (2, 3, 3));
    let zip3 = the_zip(&out3);
    assert_eq!(zip3.file_name().unwrap().to_str().unwrap(), format!("{PROZESS}_Aussonderung.Aussonderung.0503.zip"));
    let e3 = entries(&zip3);
    assert_eq!(e3[0].0, format!("{PROZESS}_Aussonderung.Aussonderung.0503.xml"));
    assert_xsd_valid(&e3[0].1, env.dir.path(), "the 0503");
    let x3 = String::from_utf8(e3[0].1.clone()).unwrap();
    assert!(x3.contains("<xdomea:RueckmeldungArchivkennung>") && !x3.contains("61.2-0001/1999"));
    assert_eq!(e3.len(), 1 + case.archiv_docs.len());
    for (version, bytes) in &case.archiv_docs {
        let (_, b) = e3.iter().find(|(n, _)| n.starts_with(&version.to_string())).expect("each version is in the ZIP");
        assert_eq!(b, bytes, "version {version}");
    }
    assert!(state_of(repo.catalog().get(&case.archiv).unwrap(), rid).unwrap().handed_over.is_some());
    // An archive running Akte reads our 0503.
    let archive = Env::new();
    let mut arepo = archive.init().await;
    let ar = import_xdomea(&mut arepo, &zip3).await.unwrap();
    assert_eq!((ar.akten.len(), ar.dokumente, ar.versionen), (1, 2, 3));
    // Its archivwürdig Akten are in no Aussonderung of the archive's repository.
    assert!(state_of(arepo.catalog().get(&case.archiv).unwrap(), arepo.repository_id()).is_none());

    // Hostile confirmations are refused and change nothing.
    let name_0506 = format!("{PROZESS}_Aussonderung.AussonderungImportBestaetigen.0506.xml");
    let good6 = import_0506(PROZESS, &[(case.archiv, true, Some("LA 123/2026"))]);
    assert_xsd_valid(good6.as_bytes(), env.dir.path(), "the test's 0506");
    let cases: Vec<(&str, Entries)> = vec![
        ("unknown Akte", vec![(name_0506.clone(), import_0506(PROZESS, &[(Uuid::new_v4(), true, None)]).into_bytes())]),
        (
            "Akte not handed over",
            vec![(name_0506.clone(), import_0506(PROZESS, &[(case.vernichten, true, None)]).into_bytes())],
        ),
        (
            "Akte never offered",
            vec![(name_0506.clone(), import_0506(PROZESS, &[(case.hold, true, None)]).into_bytes())],
        ),
        (
            "other ProzessID",
            vec![(
                format!("{other}_Aussonderung.AussonderungImportBestaetigen.0506.xml"),
                import_0506(&other, &[(case.archiv, true, None)]).into_bytes(),
            )],
        ),
        ("DTD", vec![(name_0506.clone(), good6.replacen("?>", &format!("?>{dtd}"), 1).into_bytes())]),
        ("entity", vec![(name_0506.clone(), good6.replacen("LA 123/2026", "&xxe;", 1).into_bytes())]),
        ("zip slip", vec![(name_0506.clone(), good6.clone().into_bytes()), ("../evil".into(), b"x".to_vec())]),
        (
            "not a confirmation",
            vec![(format!("{PROZESS}_Aussonderung.Bewertungsverzeichnis.0502.xml"), good.clone().into_bytes())],
        ),
    ];
    for (what, e) in cases {
        let zip = env.path(&format!("0506-{}.zip", what.replace(' ', "-")));
        write_zip(&zip, &e);
        let before = state(&repo);
        let err = aussonderung::confirm(&mut repo, &zip).await.expect_err(what);
        eprintln!("0506 {what}: {err}");
        assert!(err.is_bad_package(), "{what}: {err}");
        assert_eq!(state(&repo), before, "{what}: the repository changed");
    }

    // A 0507 (receipt) is recorded and deletes nothing.
    let f7 = env.path("receipt.xml");
    let r7 = receipt_0507(PROZESS);
    assert_xsd_valid(r7.as_bytes(), env.dir.path(), "the test's 0507");
    std::fs::write(&f7, r7).unwrap();
    let r = aussonderung::confirm(&mut repo, &f7).await.unwrap();
    assert_eq!(r.akten.iter().map(|a| a.outcome).collect::<Vec<_>>(), vec![Outcome::Received]);
    assert!(r.erased.is_none() && repo.catalog().state.deleted.is_empty());

    // The 0506 deletes the handed-over Akte and the one appraised V; the others stay.
    let f6 = env.path(&name_0506);
    std::fs::write(&f6, &good6).unwrap();
    let r = aussonderung::confirm(&mut repo, &f6).await.unwrap();
    let outcomes: Vec<(Uuid, Outcome)> = r.akten.iter().map(|a| (a.id, a.outcome)).collect();
    assert_eq!(outcomes, vec![(case.vernichten, Outcome::Deleted), (case.archiv, Outcome::Deleted)]);
    let erased = r.erased.expect("erased");
    assert_eq!(erased.akten.len(), 2);
    let c = repo.catalog();
    assert!(c.get(&case.vernichten).is_none() && c.get(&case.archiv).is_none());
    assert!(c.get(&case.running).is_some() && c.get(&case.hold).is_some());
    assert_eq!(c.all(ObjKind::Version).filter(|v| v.akte == Some(case.archiv)).count(), 0);
    let t = &c.state.deleted[&case.archiv].evidence;
    assert_eq!((t["basis"].as_str(), t["prozess_id"].as_str()), (Some("aussonderung"), Some(PROZESS)));
    assert_eq!(t["archive_id"], "LA 123/2026");
    assert_eq!(t["appraisal"], "archivwuerdig");
    assert_eq!(t["aktenzeichen"], "61.2-0002/2001");
    let messages: Vec<&str> = t["messages"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert_eq!(
        messages,
        [
            "Anbieteverzeichnis.0501",
            "Bewertungsverzeichnis.0502",
            "Aussonderung.0503",
            "AussonderungImportBestaetigen.0506"
        ]
        .map(|m| format!("{PROZESS}_Aussonderung.{m}"))
    );
    let t = &c.state.deleted[&case.vernichten].evidence;
    assert_eq!((t["basis"].as_str(), t["prozess_id"].as_str()), (Some("aussonderung"), Some(PROZESS)));
    assert_eq!(t["appraisal"], "vernichten");
    assert_eq!(t["messages"].as_array().unwrap().len(), 3, "no 0503 for an Akte destroyed");
    let v = akte_store::verify::verify(&repo, |_, _| {}).await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);

    // The same confirmation again: no failure, nothing deleted twice.
    let deletions = repo.catalog().state.deleted.clone();
    let r = aussonderung::confirm(&mut repo, &f6).await.unwrap();
    assert!(r.akten.iter().all(|a| a.outcome == Outcome::AlreadyDeleted), "{:?}", r.akten);
    assert_eq!(repo.catalog().state.deleted, deletions);
    let v = akte_store::verify::verify(&repo, |_, _| {}).await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    // Nothing is left to hand over.
    let out4 = env.path("0503-again");
    std::fs::create_dir(&out4).unwrap();
    assert!(export_0503(&mut repo, &out4, &sender(None)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_holds_keep_akten() {
    let env = Env::new();
    let mut repo = env.init().await;
    let case = populate_case(&mut repo).await;
    let out = env.path("out");
    std::fs::create_dir(&out).unwrap();
    export_0501(&mut repo, &out, &sender(Some(prozess())), today()).await.unwrap();
    let f = env.path("0502.xml");
    std::fs::write(&f, bewertung_0502(PROZESS, &[(case.vernichten, "V"), (case.archiv, "V")])).unwrap();
    import_0502(&mut repo, &f).await.unwrap();
    // A changed appraisal is fine before the handover, refused after it.
    std::fs::write(&f, bewertung_0502(PROZESS, &[(case.archiv, "A")])).unwrap();
    import_0502(&mut repo, &f).await.unwrap();
    assert_eq!(repo.catalog().get(&case.archiv).unwrap().text("appraisal"), Some("archivwuerdig"));
    let out3 = env.path("out3");
    std::fs::create_dir(&out3).unwrap();
    export_0503(&mut repo, &out3, &sender(None)).await.unwrap();
    std::fs::write(&f, bewertung_0502(PROZESS, &[(case.archiv, "V")])).unwrap();
    assert!(import_0502(&mut repo, &f).await.unwrap_err().is_bad_package());
    // A legal hold set since the offer keeps the Akte to destroy; a failed import keeps the other.
    update(&mut repo, case.vernichten, json!({"legal_hold": true})).await;
    let f6 = env.path("0506.xml");
    std::fs::write(&f6, import_0506(PROZESS, &[(case.archiv, false, None)])).unwrap();
    let r = aussonderung::confirm(&mut repo, &f6).await.unwrap();
    let outcomes: Vec<(Uuid, Outcome)> = r.akten.iter().map(|a| (a.id, a.outcome)).collect();
    assert_eq!(outcomes, vec![(case.vernichten, Outcome::Kept), (case.archiv, Outcome::Failed)]);
    assert!(r.erased.is_none() && repo.catalog().state.deleted.is_empty());
    let s = state_of(repo.catalog().get(&case.archiv).unwrap(), repo.repository_id()).unwrap();
    assert_eq!(s.failed.as_deref(), Some("Primärdokument nicht lesbar"));
}

/// The hand-written 0503 of another system (tests/fixtures/xdomea-0503-foreign) imports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_systems_0503_imports() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xdomea-0503-foreign");
    let mut files: Vec<(String, Vec<u8>)> = tree(&dir).into_iter().collect();
    // The message first, as senders write it.
    files.sort_by_key(|(n, _)| !n.ends_with(".xml"));
    let env = Env::new();
    assert_xsd_valid(&files[0].1, env.dir.path(), "the fixture");
    let zip = env.path(&format!("{}.zip", files[0].0.trim_end_matches(".xml")));
    write_zip(&zip, &files);
    let mut repo = env.init().await;
    let r = import_xdomea(&mut repo, &zip).await.unwrap();
    assert_eq!((r.akten.len(), r.vorgaenge, r.dokumente, r.versionen), (2, 1, 2, 3));
    let c = repo.catalog();
    let a = c.get(&Uuid::parse_str("a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c3d").unwrap()).unwrap();
    assert_eq!(
        Value::Object(a.fields.to_map()),
        json!({"aktenzeichen": "66.1-12/1998", "title": "Kreisstraße K 12, Planfeststellung", "aktenplan": "66.1",
            "retention_years": 20, "appraisal": "archivwuerdig", "laufzeit_beginn": "1998-02-01",
            "laufzeit_ende": "2001-09-30", "status": "zda"})
    );
    // NummerImUebergeordnetenContainer orders the contents: the Vorgang first.
    let inside: Vec<ObjKind> = c.children(&a.id).map(|o| o.kind).collect();
    assert_eq!(inside.len(), 2);
    let beschluss = c.all(ObjKind::Dokument).find(|d| d.text("title") == Some("Planfeststellungsbeschluss")).unwrap();
    assert_eq!((beschluss.text("recipient"), beschluss.text("sent")), (Some("Straßenbauamt"), Some("2001-06-15")));
    assert_eq!(c.get(&beschluss.versions[0]).unwrap().text("file_name"), Some("Beschluss K12 final.pdf"));
    let einw = c.all(ObjKind::Dokument).find(|d| d.text("title") == Some("Einwendungen")).unwrap();
    assert_eq!(einw.versions.len(), 2);
    let names: Vec<&str> = einw.versions.iter().map(|v| c.get(v).unwrap().text("file_name").unwrap()).collect();
    assert_eq!(names, ["einwendungen.txt", "D3E4F5A6-B7C8-4D9E-8F1A-2B3C4D5E6F71.txt"]);
    let (_, stream) = repo.content(&einw.versions[1]).await.unwrap();
    let bytes: Vec<bytes::Bytes> = futures::TryStreamExt::try_collect(stream).await.unwrap();
    assert_eq!(bytes.concat(), b"Einwendungen, zweite Fassung mit Nachtrag\n");
    let empty = c.get(&Uuid::parse_str("e4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6071").unwrap()).unwrap();
    assert_eq!(empty.text("aktenzeichen"), Some("66.1-13/1998"));
    // The Anschreiben's document is not imported.
    assert!(c.all(ObjKind::Dokument).all(|d| !d.text("title").unwrap_or_default().contains("Ablieferung")));
}
