//! `akte export` and `akte import` through BagIt, OCFL and xdomea: each format carries an
//! Akte into a fresh repository with its documents byte for byte; bad input is one sentence.

mod common;

use common::{add, create, get, init_repo, ok, run};
use serde_json::Value;

#[test]
fn every_format_carries_an_akte_into_a_fresh_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "61.2-0815/2026", "Windpark Export");
    let files: Vec<_> = (0..3)
        .map(|i| {
            let f = tmp.path().join(format!("brief-{i}.txt"));
            std::fs::write(&f, format!("Schreiben Nummer {i} zum Windpark\n").repeat(100 * (i + 1))).unwrap();
            f
        })
        .collect();
    let added = add(&a, &akte, &files);
    for format in ["bagit", "ocfl", "xdomea"] {
        let out = tmp.path().join(format!("out-{format}"));
        let out_arg = out.to_str().unwrap();
        let args = ["export", "--format", format, "--akte", "61.2-0815/2026", "--out", out_arg, "--json"];
        let report = ok(&a, &[&args[..], &["--institution", "Landratsamt Musterkreis"]].concat()).json();
        assert_eq!(report["dokumente"], 3, "{format}: {report}");
        let source = if format == "xdomea" {
            std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|e| e == "zip"))
                .unwrap()
        } else {
            out.clone()
        };
        if format == "xdomea" {
            // The message names the agency as its sender.
            let mut zip = zip::ZipArchive::new(std::fs::File::open(&source).unwrap()).unwrap();
            let mut xml = String::new();
            std::io::Read::read_to_string(&mut zip.by_index(0).unwrap(), &mut xml).unwrap();
            let absender = xml.split("Absender>").nth(1).unwrap_or_else(|| panic!("no Absender: {xml}"));
            assert!(absender.contains("Landratsamt Musterkreis"), "{absender}");
        }
        let b = init_repo(tmp.path(), &format!("b-{format}"));
        let imported = ok(&b, &["import", source.to_str().unwrap(), "--json"]).json();
        assert_eq!(imported["dokumente"], 3, "{format}: {imported}");
        let listed: Value = ok(&b, &["ls", "61.2-0815/2026", "--json"]).json();
        assert_eq!(listed.as_array().unwrap().len(), 3, "{format}");
        for (f, a_row) in files.iter().zip(&added) {
            let id = a_row["id"].as_str().unwrap();
            assert_eq!(get(&b, id), std::fs::read(f).unwrap(), "{format}: {}", f.display());
        }
        // Importing the same package again is refused and changes nothing.
        let again = run(&b, &["import", source.to_str().unwrap()]);
        again.fails_with_sentence();
        assert_eq!(ok(&b, &["ls", "--json"]).json().as_array().unwrap().len(), 1);
        ok(&b, &["verify"]);
    }
    let r = run(&a, &["export", "--format", "pdf", "--out", tmp.path().join("x").to_str().unwrap()]);
    r.fails_with_sentence();
    let x = tmp.path().join("x");
    let r = run(&a, &["export", "--format", "xdomea", "--out", x.to_str().unwrap(), "--institution", "Amt\nZwei"]);
    let r = r.fails_with_sentence();
    assert!(r.stderr.contains("institution"), "{}", r.stderr);
    let r = run(&a, &["import", tmp.path().to_str().unwrap()]);
    r.fails_with_sentence();
}

#[test]
fn a_paperless_export_folder_is_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("paperless-export");
    std::fs::create_dir_all(export.join("originals")).unwrap();
    // MD5s of the two originals, as Paperless-ngx states them in `checksum`.
    let files = [
        ("originals/rechnung.txt", "Rechnung der Stadtwerke\n", "b1bc5505eacbad922fc404a7acf602b6"),
        ("originals/brief.txt", "Brief ohne Korrespondent\n", "0c621ab0de8c1ad89953560edc3872a2"),
    ];
    for (rel, text, _) in files {
        std::fs::write(export.join(rel), text).unwrap();
    }
    let manifest = serde_json::json!([
        {"model": "documents.correspondent", "pk": 1, "fields": {"name": "Stadtwerke Hohe Heide"}},
        {"model": "documents.documenttype", "pk": 1, "fields": {"name": "Rechnung"}},
        {"model": "documents.document", "pk": 1, "fields": {"title": "Rechnung", "correspondent": 1,
            "document_type": 1, "tags": [], "checksum": files[0].2, "created": "2024-03-01",
            "mime_type": "text/plain", "original_filename": "rechnung.txt"},
            "__exported_file_name__": files[0].0},
        {"model": "documents.document", "pk": 2, "fields": {"title": "Brief", "correspondent": null,
            "tags": [], "checksum": files[1].2, "created": "2024-03-02", "mime_type": "text/plain"},
            "__exported_file_name__": files[1].0},
        {"model": "documents.savedview", "pk": 1, "fields": {"name": "Posteingang"}},
    ]);
    std::fs::write(export.join("manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();

    let data = init_repo(tmp.path(), "repo");
    let report = ok(&data, &["import", export.to_str().unwrap(), "--json"]).json();
    assert_eq!((report["dokumente"].as_u64(), report["versionen"].as_u64()), (Some(2), Some(2)), "{report}");
    let akten: Value = ok(&data, &["ls", "--json"]).json();
    let titles: Vec<&str> = akten.as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Stadtwerke Hohe Heide", "Paperless-Import ohne Korrespondent"], "{akten}");
    let expected = [("paperless-0001", "Rechnung", files[0].1), ("paperless-0002", "Brief", files[1].1)];
    for (az, title, text) in expected {
        let listed: Value = ok(&data, &["ls", az, "--json"]).json();
        let rows = listed.as_array().unwrap();
        assert_eq!(rows.len(), 1, "{listed}");
        assert_eq!(rows[0]["title"], title);
        assert_eq!(get(&data, rows[0]["id"].as_str().unwrap()), text.as_bytes());
    }
    // The same export again is refused, and so is one whose file does not match its
    // checksum; neither changes anything.
    run(&data, &["import", export.to_str().unwrap()]).fails_with_sentence();
    std::fs::write(export.join(files[1].0), "Brief, nachträglich geändert\n").unwrap();
    let other = data.parent().unwrap().join("repo-2");
    ok(&other, &["init"]);
    let r = run(&other, &["import", export.to_str().unwrap()]).fails_with_sentence();
    assert!(r.stderr.contains("MD5"), "{r}");
    assert_eq!(ok(&other, &["ls", "--json"]).json().as_array().unwrap().len(), 0);
    assert_eq!(ok(&data, &["ls", "--json"]).json().as_array().unwrap().len(), 2);
    ok(&data, &["verify"]);
}

#[test]
fn the_api_shows_what_an_import_kept_of_an_aktes_past() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "61.2-0815/2026", "Windpark Abgabe");
    let file = tmp.path().join("antrag.txt");
    std::fs::write(&file, "Antrag auf Genehmigung").unwrap();
    let added = add(&a, &akte, &[file]);
    let bag = tmp.path().join("bag");
    ok(&a, &["export", "--format", "bagit", "--akte", "61.2-0815/2026", "--out", bag.to_str().unwrap()]);

    let b = init_repo(tmp.path(), "b");
    ok(&b, &["import", bag.to_str().unwrap()]);
    let own = create(&b, "61.2-0999/2026", "Hier angelegt");
    let admin = common::token(&b, "admin", "test-admin", &[]);
    let s = common::Server::start(&b, false, &[]);
    let c = common::client();
    let r = c.get(s.url(&format!("/akten/{akte}/provenance"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().unwrap();
    assert_eq!(p["format"], "bagit", "{p}");
    // The history the Akte had where it was made: its creation there, by the first node's actor.
    let akte_past = p["history"][&akte].as_array().unwrap_or_else(|| panic!("{p}"));
    assert!(akte_past.iter().any(|e| e["action"] == "create"), "{p}");
    let dok = added[0]["id"].as_str().unwrap();
    assert!(p["history"][dok].as_array().is_some_and(|h| !h.is_empty()), "the Dokument's past too: {p}");
    // An Akte made here has none.
    common::assert_problem(
        c.get(s.url(&format!("/akten/{own}/provenance"))).bearer_auth(&admin).send().unwrap(),
        404,
        "not-found",
    );
    s.stop();
}
