//! The demo case "Windpark Hohe Heide" as `IndexDoc`s: metadata from `case.json`, text
//! from `truth.json` (the exact text of every file, i.e. what extraction and OCR yield).

#![allow(dead_code)]

use akte_index::{Index, IndexDoc, PlanNode};
use serde_json::Value;
use std::collections::BTreeMap;

/// Reader token of an Akte in these tests.
pub fn akte_token(aktenzeichen: &str) -> String {
    format!("akte:{aktenzeichen}")
}

fn read_json(name: &str) -> Value {
    let path = akte_fixtures::committed_case_dir().join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("fixture file")).expect("valid JSON")
}

/// All documents of the demo case (main Akte and `weitere_akten`), each readable by its
/// Akte's token only.
pub fn fixture_docs() -> Vec<IndexDoc> {
    let case = read_json("case.json");
    let truth = read_json("truth.json");
    let plan: BTreeMap<&str, (&str, Option<&str>)> = case["aktenplan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["code"].as_str().unwrap(), (n["title"].as_str().unwrap(), n["parent"].as_str())))
        .collect();
    let path_of = |code: &str| {
        let mut path = Vec::new();
        let mut at = Some(code);
        while let Some(c) = at {
            let (title, parent) = plan[c];
            path.push(PlanNode { code: c.to_string(), title: title.to_string() });
            at = parent;
        }
        path.reverse();
        path
    };
    let mut bundles = vec![&case];
    bundles.extend(case["weitere_akten"].as_array().unwrap());
    let mut docs = Vec::new();
    for bundle in bundles {
        let akte = &bundle["akte"];
        let az = akte["aktenzeichen"].as_str().unwrap();
        let vorgaenge: BTreeMap<&str, &str> = bundle["vorgaenge"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["key"].as_str().unwrap(), v["title"].as_str().unwrap()))
            .collect();
        for d in bundle["dokumente"].as_array().unwrap() {
            let file = d["file"].as_str().unwrap();
            let vorgang = d["vorgang"].as_str().unwrap();
            let s = |k: &str| d[k].as_str().map(str::to_string);
            docs.push(IndexDoc {
                dokument_id: file.to_string(),
                akte_id: format!("akte-{az}"),
                aktenzeichen: az.to_string(),
                akte_title: akte["title"].as_str().unwrap().to_string(),
                aktenplan: path_of(akte["aktenplan"].as_str().unwrap()),
                vorgang_id: Some(format!("{az}/{vorgang}")),
                vorgang_title: Some(vorgaenge[vorgang].to_string()),
                title: s("title").unwrap(),
                file_name: file.rsplit('/').next().map(str::to_string),
                document_type: s("document_type"),
                media_type: s("media_type"),
                sender: s("sender"),
                recipient: s("recipient"),
                date: s("date")
                    .map(|v| time::Date::parse(&v, time::macros::format_description!("[year]-[month]-[day]")).unwrap()),
                status: Some("offen".into()),
                text: truth[file].as_str().expect("ground truth").to_string(),
                readers: vec![akte_token(az)],
                content_hash: Some(format!("hash-of-{file}")),
                ..IndexDoc::default()
            });
        }
    }
    docs
}

/// An in-memory index of the demo case.
pub fn fixture_index() -> Index {
    let index = Index::in_memory().expect("index");
    let mut w = index.writer().expect("writer");
    for d in fixture_docs() {
        w.upsert(&d).expect("upsert");
    }
    w.commit(Some("fixture")).expect("commit");
    drop(w);
    index
}
