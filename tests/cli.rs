//! The command line itself: help, exit codes, shell completions and the manual page.

use std::process::{Command, Stdio};

mod support;

use support::chronus;

const SUBCOMMANDS: [&str; 11] = [
    "run",
    "render",
    "send",
    "say",
    "jam",
    "status",
    "analyze",
    "devices",
    "bench",
    "completions",
    "man",
];

#[test]
fn help_names_every_command_and_the_exit_codes() {
    let out = chronus().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for c in SUBCOMMANDS {
        assert!(
            help.contains(&format!("  {c} ")),
            "{c} missing from --help:\n{help}"
        );
    }
    assert!(
        help.contains("EXIT CODES") && help.contains("-v") && help.contains("-q"),
        "{help}"
    );
}

#[test]
fn exit_codes_are_as_documented() {
    let usage = chronus().arg("--no-such-option").output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let error = chronus()
        .args(["analyze", "/nonexistent.wav"])
        .output()
        .unwrap();
    assert_eq!(error.status.code(), Some(1));
    let err = String::from_utf8_lossy(&error.stderr);
    assert!(
        err.starts_with("chronus: error: cannot read /nonexistent.wav"),
        "{err}"
    );
    assert!(chronus()
        .arg("--version")
        .output()
        .unwrap()
        .status
        .success());
}

#[test]
fn bash_completion_loads_and_completes_subcommands() {
    let script = chronus().args(["completions", "bash"]).output().unwrap();
    assert!(script.status.success());
    // Source it in a real bash and ask it to complete "chronus ja".
    let mut bash = Command::new("bash")
        .args([
            "--norc",
            "-c",
            "source /dev/stdin; COMP_WORDS=(chronus ja); COMP_CWORD=1; \
               _chronus chronus ja chronus; printf '%s\\n' \"${COMPREPLY[@]}\"",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    bash.stdin
        .take()
        .unwrap()
        .write_all(&script.stdout)
        .unwrap();
    let out = bash.wait_with_output().unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        words.lines().any(|w| w == "jam"),
        "completions of 'ja': {words:?}"
    );
    for shell in ["zsh", "fish"] {
        let s = chronus().args(["completions", shell]).output().unwrap();
        assert!(s.status.success() && s.stdout.len() > 500, "{shell}");
    }
}

#[test]
fn the_manual_page_is_roff_with_every_command() {
    let out = chronus().arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(page.contains(".TH chronus 1"), "{page}");
    for c in SUBCOMMANDS {
        assert!(page.contains(c), "{c} missing from the manual page");
    }
    assert!(page.contains("EXIT CODES"), "{page}");
}
