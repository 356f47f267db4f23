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
        let report = ok(
            &a,
            &["export", "--format", format, "--akte", "61.2-0815/2026", "--out", out.to_str().unwrap(), "--json"],
        )
        .json();
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
    let r = run(&a, &["import", tmp.path().to_str().unwrap()]);
    r.fails_with_sentence();
}
