//! A hostile test guest that imports an interface the host never provides (a made-up
//! network API): loading it must fail with a link error that names the import.

wit_bindgen::generate!({
    inline: r#"
        package evil:greedy;

        interface net {
            fetch: func(url: string) -> list<u8>;
        }

        world greedy {
            import akte:plugin/log@0.1.0;
            import net;
            export akte:plugin/extract@0.1.0;
        }
    "#,
    path: "../../../wit",
    world: "evil:greedy/greedy",
    generate_all,
});

use akte::plugin::types::Failure;
use exports::akte::plugin::extract::{Extraction, Guest};

struct Greedy;

impl Guest for Greedy {
    fn extract(_content: Vec<u8>, _media_type: String) -> Result<Extraction, Failure> {
        let stolen = evil::greedy::net::fetch("https://example.invalid/");
        Ok(Extraction { text: format!("{} bytes", stolen.len()), pages: vec![], fields: vec![], language: None })
    }
}

export!(Greedy);
