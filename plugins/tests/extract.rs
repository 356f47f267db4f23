//! The built-in extractors and the demo enricher and validator, through the real host:
//! round trips with umlauts and entities, pages, fields, and the world checks at load.

mod common;

use akte_plugins::{DocumentInfo, Failure, Field, LoadSource, Manifest, PluginError, Verdict, Version, World};
use common::{host, shipped, wasm};

const GERMAN: &str = "Genehmigungsbescheid nach § 4 BImSchG\nÄnderung der Windenergieanlagen in Groß Süßen: Maßnahmen für Öl und Übergänge.\n";

#[tokio::test]
async fn txt_round_trips_utf8() {
    let (_dir, host) = host();
    let txt = shipped(&host, "txt");
    assert_eq!(txt.load_source(), LoadSource::Compiled);
    let out = txt.extract(GERMAN.as_bytes(), "text/plain").await.unwrap();
    assert_eq!(out.value.text, GERMAN);
    assert_eq!(out.value.field("encoding"), Some("utf-8"));
    assert!(out.value.pages.is_empty());
    assert_eq!(out.value.page_texts(), vec![GERMAN]);
}

#[tokio::test]
async fn txt_reads_latin1_and_crlf() {
    let (_dir, host) = host();
    let txt = shipped(&host, "txt");
    let latin1: Vec<u8> = b"Gr\xF6\xDFe \x84\xDCbermorgen\x93\r\nStra\xDFe".to_vec();
    let out = txt.extract(&latin1, "text/plain").await.unwrap();
    assert_eq!(out.value.text, "Größe „Übermorgen“\nStraße");
    assert_eq!(out.value.field("encoding"), Some("windows-1252"));
    // A declared charset wins over guessing.
    let out = txt.extract(b"\xA4 5", "text/plain; charset=ISO-8859-15").await.unwrap();
    assert_eq!(out.value.text, "€ 5");
}

#[tokio::test]
async fn txt_splits_pages_on_form_feed() {
    let (_dir, host) = host();
    let txt = shipped(&host, "txt");
    let out =
        txt.extract("Seite eins\u{c}Seite zwei – Überschrift\u{c}Seite drei".as_bytes(), "text/plain").await.unwrap();
    assert_eq!(out.value.page_texts(), vec!["Seite eins", "Seite zwei – Überschrift", "Seite drei"]);
    assert!(!out.value.text.contains('\u{c}'));
}

#[tokio::test]
async fn txt_refuses_binary_content() {
    let (_dir, host) = host();
    let txt = shipped(&host, "txt");
    let e = txt.extract(b"PK\x03\x04\x00\x00binary", "text/plain").await.unwrap_err();
    assert!(matches!(e, PluginError::Failed { failure: Failure::Malformed(_), .. }), "{e:?}");
}

#[tokio::test]
async fn html_strips_markup_and_decodes_entities() {
    let (_dir, host) = host();
    let html = shipped(&host, "html");
    let page = r#"<!DOCTYPE html>
<html lang="de-DE"><head><meta charset="utf-8"><title>Bekanntmachung &ndash; Windpark</title>
<meta name="description" content="&Ouml;ffentliche Bekanntmachung">
<style>body { font-family: sans-serif }</style>
<script>document.write("<p>kein Text</p>")</script></head>
<body><h1>Gr&uuml;&szlig;e aus M&uuml;nchen</h1>
<p>Die Anlage hat eine Nabenh&ouml;he von 166&nbsp;m &amp; drei <b>Rotorbl&auml;tter</b>.<br>Zweite Zeile &#8222;zitiert&#8220;.</p>
<!-- <p>auskommentiert</p> -->
<table><tr><td>Gemarkung</td><td>Hohenfelde</td></tr><tr><td>Flurst&uuml;ck</td><td>12/3</td></tr></table>
</body></html>"#;
    let out = html.extract(page.as_bytes(), "text/html").await.unwrap().value;
    assert_eq!(
        out.text,
        "Grüße aus München\n\nDie Anlage hat eine Nabenhöhe von 166 m & drei Rotorblätter.\nZweite Zeile „zitiert“.\n\n\
         Gemarkung Hohenfelde\nFlurstück 12/3"
    );
    assert_eq!(out.language.as_deref(), Some("de-DE"));
    assert_eq!(out.field("title"), Some("Bekanntmachung – Windpark"));
    assert_eq!(out.field("description"), Some("Öffentliche Bekanntmachung"));
}

#[tokio::test]
async fn html_honours_a_latin1_meta_charset() {
    let (_dir, host) = host();
    let html = shipped(&host, "html");
    let page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head>\
                 <body><p>Sch\xF6ne Gr\xFC\xDFe</p></body></html>";
    let out = html.extract(page, "text/html").await.unwrap().value;
    assert_eq!(out.text, "Schöne Grüße");
    assert_eq!(out.field("encoding"), Some("windows-1252"));
}

#[tokio::test]
async fn keywords_enricher_suggests_type_tags_and_fields() {
    let (_dir, host) = host();
    let keywords = shipped(&host, "keywords");
    let doc =
        DocumentInfo { media_type: "text/plain".into(), file_name: Some("bescheid.txt".into()), ..Default::default() };
    let out = keywords.enrich(&doc, GERMAN).await.unwrap();
    assert_eq!(out.value.document_type.as_deref(), Some("Bescheid"));
    assert_eq!(out.value.tags, vec!["windkraft", "bimschg"]);
    assert_eq!(out.value.fields, vec![Field::new("wortanzahl", "16")]);
    assert_eq!(out.value.confidence, 60);
    assert!(out.logs.iter().any(|r| r.message.contains("bescheid.txt")), "{:?}", out.logs);
    let e = keywords.enrich(&doc, "  ").await.unwrap_err();
    assert!(matches!(e, PluginError::Failed { failure: Failure::Unsupported(_), .. }));
}

#[tokio::test]
async fn basic_validator_accepts_and_rejects_with_reasons() {
    let (_dir, host) = host();
    let validator = shipped(&host, "basic-validator");
    let pdf = DocumentInfo { media_type: "application/pdf".into(), ..Default::default() };
    let verdict = |v: Verdict| match v {
        Verdict::Accept => "accept".to_string(),
        Verdict::Reject { code, reason } => {
            assert!(reason.starts_with("Die "), "a German sentence: {reason}");
            code
        }
    };
    assert_eq!(verdict(validator.validate(&pdf, b"%PDF-1.7\n...").await.unwrap().value), "accept");
    assert_eq!(verdict(validator.validate(&pdf, b"").await.unwrap().value), "empty-file");
    assert_eq!(verdict(validator.validate(&pdf, b"<html>").await.unwrap().value), "not-a-pdf");
    let encrypted = b"%PDF-1.7\ntrailer << /Encrypt 5 0 R >>";
    assert_eq!(verdict(validator.validate(&pdf, encrypted).await.unwrap().value), "encrypted-pdf");
}

#[tokio::test]
async fn a_plugin_is_called_only_through_its_world() {
    let (_dir, host) = host();
    let txt = shipped(&host, "txt");
    let e = txt.validate(&DocumentInfo::default(), b"x").await.unwrap_err();
    assert!(matches!(e, PluginError::WrongWorld { .. }), "{e:?}");
    assert!(e.to_string().contains("implements the `extractor` world and cannot be called as `validator`"), "{e}");
}

#[tokio::test]
async fn a_component_must_implement_its_manifests_world() {
    let (_dir, host) = host();
    let manifest = Manifest::new("html-as-validator", Version::new(1, 0, 0), World::Validator, &["*/*"]);
    let e = host.load(manifest, &wasm("html")).unwrap_err();
    assert!(matches!(e, PluginError::WorldMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("akte:plugin/validate"), "{e}");
}

#[tokio::test]
async fn an_import_the_host_does_not_provide_fails_to_link() {
    let (_dir, host) = host();
    let manifest = Manifest::new("greedy", Version::new(1, 0, 0), World::Extractor, &["*/*"]);
    let e = host.load(manifest, &wasm("greedy")).unwrap_err();
    assert!(matches!(e, PluginError::Link { .. }), "{e:?}");
    assert!(e.to_string().contains("evil:greedy/net"), "the missing import is named: {e}");
}

#[tokio::test]
async fn garbage_is_not_a_component() {
    let (_dir, host) = host();
    let manifest = Manifest::new("garbage", Version::new(1, 0, 0), World::Extractor, &["*/*"]);
    let e = host.load(manifest.clone(), b"\0asm but not really").unwrap_err();
    assert!(matches!(e, PluginError::InvalidComponent { .. }), "{e:?}");
    // An empty core module (built for the wrong target): the message says which target.
    let e = host.load(manifest, b"\0asm\x01\0\0\0").unwrap_err();
    assert!(e.to_string().contains("wasm32-wasip2"), "{e}");
}
