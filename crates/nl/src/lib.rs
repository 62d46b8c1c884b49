//! chronus-nl: plain language to OSC.
//!
//! [`plan`] turns a phrase ("play A4, a bit brighter, with vibrato") and a [`Context`] (what is
//! playing now) into a [`Plan`]: the OSC messages to send, in order, each with a one-line
//! explanation. Pure: no I/O, no clock, no randomness; the context is updated as the plan
//! would leave the synth, so relative phrases ("up an octave") follow on. The mapping is
//! documented in `docs/nl.md`.
//!
//! ```
//! let mut context = chronus_nl::Context::default();
//! let plan = chronus_nl::plan("play A4, a bit brighter", &mut context)?;
//! let first = &plan.messages[0];
//! assert_eq!(first.to_string(), "/mod/sine/freq 440");
//! // The context follows the plan: "up an octave" now means A5.
//! let plan = chronus_nl::plan("up an octave", &mut context)?;
//! assert_eq!(plan.messages[0].to_string(), "/mod/sine/freq 880");
//! # Ok::<(), chronus_nl::NlError>(())
//! ```

#![warn(clippy::unwrap_used)]

mod ask;
mod chords;
mod context;
mod intent;
mod notes;
mod phrases;
mod words;

pub use ask::asks;
pub use chords::parse_chord;
pub use context::{
    oscillator_name, Context, Earlier, Field, HISTORY, MAX_CHORD_NOTES, SERVER_FIELDS,
};
pub use notes::{parse_note, NOTE_NAMES};
pub use phrases::{plan, Preset, PRESETS};

/// One argument of an OSC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A float.
    Float(f32),
    /// An int.
    Int(i32),
    /// A string.
    Str(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Float(v) => write!(f, "{}", (v * 1000.0).round() / 1000.0),
            Value::Int(v) => write!(f, "{v}"),
            Value::Str(s) => write!(f, "{s}"),
        }
    }
}

/// One OSC message of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Milliseconds after the plan starts (0: at once). Gradual changes are series of these.
    pub at_ms: u32,
    /// The OSC address.
    pub address: String,
    /// Its arguments.
    pub args: Vec<Value>,
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at_ms > 0 {
            write!(f, "+{}ms ", self.at_ms)?;
        }
        write!(f, "{}", self.address)?;
        for a in &self.args {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// What a phrase asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The messages, in order.
    pub messages: Vec<Message>,
    /// One line per understood part of the phrase.
    pub explanation: Vec<String>,
    /// The answer to a question ("what note is that?"); a question sends nothing.
    pub answer: Option<String>,
}

impl Plan {
    /// The plan as JSON (for `chronus say --json`).
    pub fn to_json(&self) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let msgs: Vec<String> = self
            .messages
            .iter()
            .map(|m| {
                let args: Vec<String> = m
                    .args
                    .iter()
                    .map(|a| match a {
                        Value::Float(v) => format!("{v}"),
                        Value::Int(v) => format!("{v}"),
                        Value::Str(s) => format!("\"{}\"", esc(s)),
                    })
                    .collect();
                format!(
                    "{{\"at_ms\":{},\"address\":\"{}\",\"args\":[{}]}}",
                    m.at_ms,
                    esc(&m.address),
                    args.join(",")
                )
            })
            .collect();
        let expl: Vec<String> = self
            .explanation
            .iter()
            .map(|e| format!("\"{}\"", esc(e)))
            .collect();
        let answer = self
            .answer
            .as_ref()
            .map(|a| format!(",\"answer\":\"{}\"", esc(a)))
            .unwrap_or_default();
        format!(
            "{{\"messages\":[{}],\"explanation\":[{}]{answer}}}",
            msgs.join(","),
            expl.join(",")
        )
    }
}

/// Why a phrase produced no plan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NlError {
    /// Nothing in the phrase was understood; nothing is sent.
    #[error("I did not understand '{text}'{}", suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    NotUnderstood {
        /// The part not understood.
        text: String,
        /// The closest known phrase.
        suggestion: Option<String>,
    },
    /// "undo" with nothing to take back.
    #[error("nothing to undo: no change since this context began (say what you want instead)")]
    NothingToUndo,
    /// The phrase reads more than one way; nothing is sent, the readings are offered.
    #[error("'{text}' could mean {}: say which", readings.join(" or "))]
    Ambiguous {
        /// The part that reads more than one way.
        text: String,
        /// What it could mean, each as a phrase that is understood.
        readings: Vec<String>,
    },
}
