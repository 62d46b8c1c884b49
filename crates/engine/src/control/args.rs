//! The arguments of a control message, and how they read as numbers, note values and gates.

/// One argument of a control message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// A 32-bit float.
    Float(f32),
    /// A 32-bit integer.
    Int(i32),
    /// A 64-bit float.
    Double(f64),
    /// A string.
    Str(&'a str),
    /// A boolean.
    Bool(bool),
}

impl Arg<'_> {
    /// The argument as a number, if it is one.
    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            Arg::Float(v) => Some(v),
            Arg::Int(v) => Some(v as f32),
            Arg::Double(v) => Some(v as f32),
            Arg::Str(_) | Arg::Bool(_) => None,
        }
    }

    /// The argument as a parameter value: a number, or a note value as text for tempo-synced
    /// parameters: `1/4`, `1/8`, `3/16`, with `.` for dotted (`1/8.` = 3/16) and `t` for a
    /// triplet (`1/8t` = 1/12); `off` is 0.
    pub fn as_value(&self) -> Option<f32> {
        match *self {
            Arg::Str(s) => note_value(s),
            other => other.as_f32(),
        }
    }

    /// The argument as a gate state, if it reads as one.
    pub fn as_gate(&self) -> Option<bool> {
        match *self {
            Arg::Bool(b) => Some(b),
            Arg::Str(s) => match s.to_ascii_lowercase().as_str() {
                "on" | "1" | "true" | "yes" => Some(true),
                "off" | "0" | "false" | "no" => Some(false),
                _ => None,
            },
            other => other.as_f32().filter(|v| v.is_finite()).map(|v| v > 0.0),
        }
    }
}

/// A note value in whole notes: `1/4` = 0.25, `1/8.` = 0.1875, `1/8t` = 1/12, `off` = 0.
pub fn note_value(text: &str) -> Option<f32> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("off") {
        return Some(0.0);
    }
    let (t, factor) = match (t.strip_suffix('.'), t.strip_suffix('t')) {
        (Some(rest), _) => (rest, 1.5),
        (_, Some(rest)) => (rest, 2.0 / 3.0),
        _ => (t, 1.0),
    };
    let (a, b) = t.split_once('/')?;
    let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a > 0 && b > 0).then(|| a as f32 / b as f32 * factor)
}
