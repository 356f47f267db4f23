//! A basic validator: refuses empty files, files posing as PDF that are none, and
//! encrypted PDFs (which can be neither indexed nor archived), with reasons in German.

wit_bindgen::generate!({
    world: "validator",
    path: "../../../wit",
});

use akte::plugin::types::{DocumentInfo, Failure};
use exports::akte::plugin::validate::{Guest, Rejection, Verdict};

struct Basic;

fn reject(reason: &str, code: &str) -> Result<Verdict, Failure> {
    Ok(Verdict::Reject(Rejection { reason: reason.into(), code: code.into() }))
}

impl Guest for Basic {
    fn validate(document: DocumentInfo, content: Vec<u8>) -> Result<Verdict, Failure> {
        if content.is_empty() {
            return reject("Die Datei ist leer und wurde deshalb nicht gespeichert.", "empty-file");
        }
        let essence = document.media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence == "application/pdf" {
            if !content.starts_with(b"%PDF-") {
                return reject("Die Datei wurde als PDF hochgeladen, ist aber kein PDF-Dokument.", "not-a-pdf");
            }
            if content.windows(8).any(|w| w == b"/Encrypt") {
                return reject(
                    "Die PDF-Datei ist verschlüsselt oder kennwortgeschützt. Bitte laden Sie eine \
                     unverschlüsselte Fassung hoch, damit sie durchsucht und archiviert werden kann.",
                    "encrypted-pdf",
                );
            }
        }
        Ok(Verdict::Accept)
    }
}

export!(Basic);
