//! `akte aussonderung offer|appraisal|handover|confirm`: the xdomea Aussonderung in short —
//! the two due Akten are offered, the archive's 0502 appraises them, the archivwürdig one is
//! handed over with its document, the archive's 0506 deletes both; the other two stay, the
//! store verifies, and bad input is one sentence.

mod common;

use std::path::{Path, PathBuf};

use common::{add, create, init_repo, ok, run, write_file};
use serde_json::Value;

fn head(root: &str, code: &str, prozess: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<x:{root} xmlns:x="urn:xoev-de:xdomea:schema:3.0.0">
  <x:Kopf>
    <x:ProzessID>{prozess}</x:ProzessID>
    <x:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0"><code>{code}</code></x:Nachrichtentyp>
    <x:Erstellungszeitpunkt>2026-04-01T09:00:00Z</x:Erstellungszeitpunkt>
    <x:Absender><x:Institution><x:Name>Landesarchiv</x:Name></x:Institution></x:Absender>
    <x:Empfaenger><x:Institution><x:Name>Landratsamt</x:Name></x:Institution></x:Empfaenger>
"#
    )
}

fn only_zip(dir: &Path) -> PathBuf {
    let list: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(list.len(), 1, "{list:?}");
    list[0].clone()
}

#[test]
fn the_aussonderung_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let mut ids = Vec::new();
    for (az, fields) in [
        ("61.2-1/1999", vec!["laufzeit_ende=2000-06-30", "retention_years:=5", "appraisal=vernichten"]),
        ("61.2-2/2001", vec!["laufzeit_ende=2002-03-31", "retention_years:=10"]),
        ("61.2-3/2020", vec!["laufzeit_ende=2020-05-01", "retention_years:=30"]),
        ("61.2-4/1998", vec!["laufzeit_ende=1998-12-31", "retention_years:=5", "legal_hold:=true"]),
    ] {
        let id = create(&data, az, &format!("Akte {az}"));
        let f = write_file(tmp.path(), &format!("{}.txt", az.replace('/', "-")), format!("Inhalt {az}\n").as_bytes());
        add(&data, &id, &[f]);
        let mut args = vec!["set", id.as_str(), "status=zda"];
        args.extend(fields.iter().copied());
        ok(&data, &args);
        ids.push(id);
    }

    // Offer: exactly the two due Akten.
    let out1 = tmp.path().join("0501");
    let r =
        ok(&data, &["aussonderung", "offer", "--out", out1.to_str().unwrap(), "--archive", "Landesarchiv", "--json"])
            .json();
    let offered: Vec<&str> =
        r["akten"].as_array().unwrap().iter().map(|a| a["aktenzeichen"].as_str().unwrap()).collect();
    assert_eq!(offered, ["61.2-1/1999", "61.2-2/2001"]);
    let zip = only_zip(&out1);
    let name = zip.file_name().unwrap().to_str().unwrap().to_string();
    let prozess = name.strip_suffix("_Aussonderung.Anbieteverzeichnis.0501.zip").expect(&name).to_string();
    // Nothing more is due.
    run(&data, &["aussonderung", "offer", "--out", tmp.path().join("again").to_str().unwrap()]).fails_with_sentence();

    // Appraisal: a 0502 naming an Akte that was not offered is one sentence; the good one sets both.
    let root = "Aussonderung.Bewertungsverzeichnis.0502";
    let bewertet = |pairs: &[(&str, &str)]| {
        let mut x = head(root, "0502", &prozess);
        x.push_str("    <x:Empfangsbestaetigung>false</x:Empfangsbestaetigung>\n  </x:Kopf>\n");
        for (id, code) in pairs {
            x.push_str(&format!(
                "  <x:BewertetesObjekt><x:ID>{id}</x:ID><x:Aussonderungsart><x:Aussonderungsart \
                 listURI=\"urn:xoev-de:xdomea:codeliste:aussonderungsart\" listVersionID=\"1.0\"><code>{code}</code>\
                 </x:Aussonderungsart></x:Aussonderungsart></x:BewertetesObjekt>\n"
            ));
        }
        x.push_str(&format!("</x:{root}>\n"));
        x
    };
    let bad = write_file(tmp.path(), "bad-0502.xml", bewertet(&[(&ids[2], "V")]).as_bytes());
    run(&data, &["aussonderung", "appraisal", bad.to_str().unwrap()]).fails_with_sentence();
    let good = write_file(tmp.path(), "0502.xml", bewertet(&[(&ids[0], "V"), (&ids[1], "A")]).as_bytes());
    let r = ok(&data, &["aussonderung", "appraisal", good.to_str().unwrap(), "--json"]).json();
    let outcomes: Vec<&str> = r["akten"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["vernichten", "archivwuerdig"]);

    // Handover: the archivwürdig Akte with its document.
    let out3 = tmp.path().join("0503");
    let r = ok(&data, &["aussonderung", "handover", "--out", out3.to_str().unwrap(), "--json"]).json();
    assert_eq!(r["akten"].as_array().unwrap().len(), 1);
    assert_eq!((r["akten"][0]["aktenzeichen"].as_str(), r["files"].as_u64()), (Some("61.2-2/2001"), Some(1)));
    let zip3 = only_zip(&out3);
    assert!(zip3.to_str().unwrap().ends_with(&format!("{prozess}_Aussonderung.Aussonderung.0503.zip")));

    // Confirmation: both offered Akten are deleted, the other two stay.
    let root = "Aussonderung.AussonderungImportBestaetigen.0506";
    let mut x = head(root, "0506", &prozess);
    x.push_str(&format!(
        "  </x:Kopf>\n  <x:AusgesondertesSGO><x:IDSGO>{}</x:IDSGO><x:Erfolgreich>true</x:Erfolgreich>\
         <x:Archivkennung>LA 7/2026</x:Archivkennung></x:AusgesondertesSGO>\n</x:{root}>\n",
        ids[1]
    ));
    let confirm = write_file(tmp.path(), "0506.xml", x.as_bytes());
    let printed = ok(&data, &["aussonderung", "confirm", confirm.to_str().unwrap()]).out();
    assert!(printed.contains("deleted 61.2-1/1999") && printed.contains("deleted 61.2-2/2001"), "{printed}");
    assert!(printed.contains("deleted 2 Akte(n)"), "{printed}");
    let listed: Value = ok(&data, &["ls", "--json"]).json();
    let left: Vec<&str> = listed.as_array().unwrap().iter().map(|a| a["aktenzeichen"].as_str().unwrap()).collect();
    assert_eq!(left, ["61.2-3/2020", "61.2-4/1998"]);
    // Again: nothing fails, nothing is deleted twice.
    let r = ok(&data, &["aussonderung", "confirm", confirm.to_str().unwrap(), "--json"]).json();
    assert!(r["akten"].as_array().unwrap().iter().all(|a| a["outcome"] == "already_deleted"), "{r}");
    ok(&data, &["verify"]);
    // Nothing is left to hand over; a file that is no message is one sentence.
    run(&data, &["aussonderung", "handover", "--out", tmp.path().join("none").to_str().unwrap()]).fails_with_sentence();
    run(&data, &["aussonderung", "confirm", zip3.to_str().unwrap()]).fails_with_sentence();
}
