//! A bare worker executable for the engine's own tests (the `chronus` binary re-executes
//! itself instead).

fn main() {
    chronus_engine::run_if_worker();
    eprintln!("chronus-worker: run by the engine only");
    std::process::exit(2);
}
