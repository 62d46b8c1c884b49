//! End-to-end: `chronus jam` opens its tmux session; a phrase typed into the `say` pane (tmux
//! send-keys, as a person types) reaches the synth, and the `status` pane shows the new pitch
//! (tmux capture-pane, as a person reads it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

/// tmux against the test's own server (its socket under `dir`), never the user's.
fn tmux(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .env("TMUX_TMPDIR", dir)
        .env_remove("TMUX")
        .args(args)
        .output()
        .expect("tmux is installed by scripts/test.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The pane of the jam session with this title.
fn pane(dir: &Path, session: &str, title: &str) -> String {
    let list = tmux(
        dir,
        &[
            "list-panes",
            "-t",
            session,
            "-F",
            "#{pane_id} #{pane_title}",
        ],
    );
    list.lines()
        .find_map(|l| {
            let (id, t) = l.split_once(' ')?;
            (t == title).then(|| id.to_owned())
        })
        .unwrap_or_else(|| panic!("no '{title}' pane in:\n{list}"))
}

/// Captures `pane` until `wanted` shows, for at most 20 s; returns the last capture.
fn wait_for_screen(dir: &Path, pane: &str, wanted: &str) -> String {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = tmux(dir, &["capture-pane", "-p", "-J", "-t", pane]);
        if screen.contains(wanted) || Instant::now() > end {
            return screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_phrase_typed_in_the_jam_session_changes_what_the_status_pane_shows() {
    let dir = support::scratch("jam", "tmux");
    std::fs::create_dir_all(&dir).unwrap();
    let session = format!("jam{}", std::process::id());
    let port = support::free_port().to_string();
    let out = support::chronus()
        .env("TMUX_TMPDIR", &dir)
        .env_remove("TMUX")
        .args([
            "jam",
            "--session",
            &session,
            "--backend",
            "null",
            "--port",
            &port,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("tmux attach -t {session}")),
        "{said}"
    );
    let (say, status) = (pane(&dir, &session, "say"), pane(&dir, &session, "status"));
    let screen = wait_for_screen(&dir, &status, "sine 440.0 Hz");
    assert!(screen.contains("2 alive"), "status pane:\n{screen}");
    let prompt = wait_for_screen(&dir, &say, "chronus> ");
    assert!(prompt.contains("chronus> "), "say pane:\n{prompt}");
    tmux(
        &dir,
        &["send-keys", "-t", &say, "play C4, much brighter", "Enter"],
    );
    let screen = wait_for_screen(&dir, &status, "sine 261.6 Hz");
    tmux(&dir, &["kill-server"]);
    assert!(
        screen.contains("sine 261.6 Hz") && screen.contains("filter 2000.0 Hz"),
        "status pane after 'play C4, much brighter':\n{screen}"
    );
    assert!(screen.contains("underruns"), "{screen}");
}

#[test]
fn a_second_jam_with_the_same_name_is_refused_clearly() {
    let dir = support::scratch("jam", "tmux-twice");
    std::fs::create_dir_all(&dir).unwrap();
    let session = format!("twice{}", std::process::id());
    tmux(&dir, &["new-session", "-d", "-s", &session, "sleep 60"]);
    let out = support::chronus()
        .env("TMUX_TMPDIR", &dir)
        .env_remove("TMUX")
        .args(["jam", "--session", &session, "--backend", "null"])
        .output()
        .unwrap();
    tmux(&dir, &["kill-server"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("already exists") && err.contains("tmux attach -t"),
        "{err}"
    );
}

#[test]
fn without_tmux_jam_says_what_to_do_instead() {
    let out = support::chronus()
        .env("PATH", "/nonexistent")
        .args(["jam", "--backend", "null"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("tmux is not installed") && err.contains("chronus say --port"),
        "{err}"
    );
}
