//! Prints the tokens the German analyzer makes of each argument (a debugging aid).
//!
//! `cargo run -p akte-index --example analyse -- "Die Windkraftanlagengenehmigung"`

use akte_index::analysis::{Mode, analyse};

fn main() {
    for text in std::env::args().skip(1) {
        println!("{text}");
        for (position, token) in analyse(&text, Mode::Index) {
            println!("  {position:>3} {token}");
        }
    }
}
