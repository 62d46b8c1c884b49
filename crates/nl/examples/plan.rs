//! Plans a phrase and prints the OSC messages it stands for, as `chronus say --dry-run` does:
//! `cargo run -p chronus-nl --example plan -- "play an A minor chord, a bit brighter"`.

fn main() {
    let text = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let text = if text.is_empty() {
        "play C4, a bit brighter, with vibrato".to_owned()
    } else {
        text
    };
    let mut context = chronus_nl::Context::default();
    match chronus_nl::plan(&text, &mut context) {
        Ok(plan) => {
            for why in &plan.explanation {
                println!("# {why}");
            }
            for message in &plan.messages {
                println!("{message}");
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
