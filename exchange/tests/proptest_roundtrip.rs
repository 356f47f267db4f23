//! Property: any tree of Vorgänge, Dokumente and versions, with titles and file names
//! full of separators, dots, percent signs, line breaks and case-only differences, comes
//! back byte for byte through BagIt and through OCFL, and every document's content is
//! where the report says it is.

mod common;

use akte_exchange::{export_bagit, export_ocfl, import_bagit, import_ocfl};
use akte_store::{Repository, model::ObjKind};
use common::*;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

#[derive(Clone, Debug)]
enum Node {
    Vorgang(String, Vec<Node>),
    Dokument(String, Vec<(String, Vec<u8>)>),
}

/// Titles that collide, need replacing, or are reserved names.
fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        "[aAäÄ./%\\\\: \n]{0,4}[aAä]",
        Just("akte.json".to_string()),
        Just("CON".to_string()),
        Just("..a".to_string()),
    ]
}

/// Plain file names (no separators or control characters), often alike.
fn file_name() -> impl Strategy<Value = String> {
    "[aA.ä %]{0,4}[a]"
}

fn node() -> impl Strategy<Value = Node> {
    let content = prop::collection::vec(any::<u8>(), 0..300);
    let leaf = (title(), prop::collection::vec((file_name(), content), 0..3)).prop_map(|(t, v)| Node::Dokument(t, v));
    leaf.prop_recursive(3, 16, 4, |inner| {
        (title(), prop::collection::vec(inner, 0..4)).prop_map(|(t, c)| Node::Vorgang(t, c))
    })
}

/// Builds the tree, one commit per object; returns version id → content.
async fn build(repo: &mut Repository, parent: Uuid, nodes: &[Node], out: &mut Vec<(Uuid, Vec<u8>)>) {
    for n in nodes {
        match n {
            Node::Vorgang(t, children) => {
                let id = create(repo, ObjKind::Vorgang, Some(parent), json!({ "title": t })).await;
                Box::pin(build(repo, id, children, out)).await;
            }
            Node::Dokument(t, versions) => {
                let dok = create(repo, ObjKind::Dokument, Some(parent), json!({ "title": t })).await;
                for (name, bytes) in versions {
                    out.push((add_version(repo, dok, name, bytes).await, bytes.clone()));
                }
            }
        }
    }
}

async fn run(az: String, nodes: Vec<Node>) {
    let src = Env::new();
    let mut repo = src.init().await;
    let akte = create(&mut repo, ObjKind::Akte, None, json!({"aktenzeichen": az, "title": "Akte"})).await;
    let mut contents = Vec::new();
    build(&mut repo, akte, &nodes, &mut contents).await;

    let bag1 = src.path("bag1");
    let report = export_bagit(&repo, &[], &bag1).await.unwrap();
    let akte_dir = bag1.join(&report.akten[0].path);
    for (version, bytes) in &contents {
        let file = akte_dir.join(&report.akten[0].files[version]);
        assert_eq!(&std::fs::read(&file).unwrap(), bytes, "{}", file.display());
    }
    let root1 = src.path("ocfl1");
    export_ocfl(&repo, &[], &root1).await.unwrap();

    let e2 = Env::new();
    let mut r2 = e2.init().await;
    import_bagit(&mut r2, &bag1).await.unwrap();
    let bag2 = e2.path("bag2");
    export_bagit(&r2, &[], &bag2).await.unwrap();
    let data = |b: &std::path::Path| tree(b).into_iter().filter(|(p, _)| p.starts_with("data/")).collect();
    assert_same_tree(&data(&bag1), &data(&bag2), "BagIt round trip");

    let e3 = Env::new();
    let mut r3 = e3.init().await;
    import_ocfl(&mut r3, &root1).await.unwrap();
    let root2 = e3.path("ocfl2");
    export_ocfl(&r3, &[], &root2).await.unwrap();
    assert_same_tree(&tree(&root1), &tree(&root2), "OCFL round trip");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    // (An Aktenzeichen has no space at either end: store::model::check_aktenzeichen.)
    fn any_tree_round_trips(az in "([0-9./a-z-][0-9./ a-z-]{0,7})?[0-9]", nodes in prop::collection::vec(node(), 0..5)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(run(az, nodes));
    }
}
