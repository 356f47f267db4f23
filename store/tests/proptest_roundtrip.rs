//! Property: any sequence of create/add/version/update operations round-trips byte for
//! byte, on the writing node and on a fresh node that rebuilds its catalog from the store.

mod common;

use std::collections::BTreeMap;

use akte_store::Change;
use common::*;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

#[derive(Clone, Debug)]
enum Step {
    CreateAkte,
    Add { akte: usize, len: usize, seed: u64 },
    Version { doc: usize, len: usize, seed: u64 },
    Retitle { akte: usize, title: String },
}

fn step() -> impl Strategy<Value = Step> {
    let len = prop_oneof![0usize..4, 60usize..70, 120usize..140, 1000usize..3000];
    prop_oneof![
        1 => Just(Step::CreateAkte),
        4 => (any::<usize>(), len.clone(), any::<u64>()).prop_map(|(akte, len, seed)| Step::Add { akte, len, seed }),
        2 => (any::<usize>(), len, any::<u64>()).prop_map(|(doc, len, seed)| Step::Version { doc, len, seed }),
        1 => (any::<usize>(), "[A-Za-zÄÖÜäöüß ]{1,20}").prop_map(|(akte, title)| Step::Retitle { akte, title }),
    ]
}

async fn run(steps: Vec<Step>, chunk: usize) {
    let env = Env::memory();
    let mut repo = env.init().await;
    repo.chunk_size = chunk;
    let mut akten = vec![create_akte(&mut repo, "A-0", "Akte 0").await];
    let mut docs: Vec<Uuid> = Vec::new();
    let mut expect: BTreeMap<Uuid, Vec<u8>> = BTreeMap::new();
    for s in steps {
        match s {
            Step::CreateAkte => {
                let n = akten.len();
                akten.push(create_akte(&mut repo, &format!("A-{n}"), &format!("Akte {n}")).await);
            }
            Step::Add { akte, len, seed } => {
                let data = bytes(seed, len);
                let (dok, ver) = add_doc(&mut repo, akten[akte % akten.len()], "f.bin", &data).await;
                docs.push(dok);
                expect.insert(dok, data.clone());
                expect.insert(ver, data);
            }
            Step::Version { doc, len, seed } => {
                if docs.is_empty() {
                    continue;
                }
                let dok = docs[doc % docs.len()];
                let data = bytes(seed, len);
                let ver = add_version(&mut repo, dok, "v.bin", &data).await;
                expect.insert(dok, data.clone());
                expect.insert(ver, data);
            }
            Step::Retitle { akte, title } => {
                let id = akten[akte % akten.len()];
                if title.trim().is_empty() {
                    continue;
                }
                repo.commit(vec![Change::Update { id, fields: fields(json!({"title": title})) }]).await.unwrap();
            }
        }
    }
    for (id, data) in &expect {
        assert_eq!(&read_all(&repo, *id).await.unwrap(), data);
    }
    let digest = repo.catalog().digest();
    let fresh = env.open("fresh").await;
    assert_eq!(fresh.catalog().digest(), digest);
    for (id, data) in &expect {
        assert_eq!(&read_all(&fresh, *id).await.unwrap(), data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn any_sequence_round_trips(steps in proptest::collection::vec(step(), 1..24), chunk in prop_oneof![Just(64usize), Just(1000usize), Just(4 << 20)]) {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(run(steps, chunk));
    }
}
