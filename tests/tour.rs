//! The README's first tour, run verbatim: the block is read out of README.md (so the two cannot
//! drift apart) and run by bash, with this build's chronus on the PATH, on the null backend.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

mod support;

/// The first ```sh block after the "A first tour" heading.
fn tour_block(readme: &str) -> String {
    let after = readme
        .split("## A first tour")
        .nth(1)
        .expect("README.md has a 'A first tour' section");
    let block = after
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the tour section has a sh block");
    block.to_owned()
}

#[test]
fn the_readme_tour_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let tour = tour_block(&readme);
    assert!(tour.lines().count() >= 10, "{tour}");
    // A scratch copy of what the tour reads (examples/), so what it writes lands there too.
    let dir = support::scratch("tour", "repo");
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::copy(
        root.join("examples/phrase.score"),
        dir.join("examples/phrase.score"),
    )
    .unwrap();
    std::fs::write(dir.join("tour.sh"), &tour).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_chronus")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Output to files, not pipes: a tour that fails half-way leaves its background `chronus
    // run` holding them, and waiting for their end would wait for that. The tour is waited
    // for, then whatever it left running (its process group) is ended.
    let (out_path, err_path) = (dir.join("tour.out"), dir.join("tour.err"));
    let status = Command::new("bash")
        .args(["-e", "tour.sh"])
        .current_dir(&dir)
        .env("PATH", path)
        // Its own port, so a chronus already on 5005 is neither disturbed nor mistaken for it.
        .env("CHRONUS_OSC_PORT", support::free_port().to_string())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .and_then(|mut tour| {
            let status = tour.wait();
            // SAFETY: kill(2) on the tour's own process group (its pid), no memory involved.
            unsafe { libc::kill(-(tour.id() as i32), libc::SIGKILL) };
            status
        })
        .unwrap();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    println!("{stdout}");
    assert!(status.success(), "the tour failed:\n{stdout}\n{stderr}");
    // What each step promises, from what it printed.
    assert!(stdout.contains("playing on null"), "{stdout}");
    assert!(stdout.contains("2 alive"), "status: {stdout}");
    assert!(
        stdout.contains("/value sine freq 261.6"),
        "say played C4: {stdout}"
    );
    assert!(
        stdout.contains("1 respawns"),
        "the killed worker came back: {stdout}"
    );
    assert!(
        stdout.contains("onsets     2"),
        "the phrase's two notes: {stdout}"
    );
    // The files it made are real: a recording with sound in it, a render, a picture.
    let take = support::read_f32(&dir.join("take.wav"));
    assert!(
        chronus_dsp::analysis::peak(&take) > 0.05,
        "take.wav holds the notes"
    );
    assert!(support::read_f32(&dir.join("phrase.wav")).len() >= 4 * 48_000);
    let png = std::fs::read(dir.join("phrase.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}
