//! OSC 1.0 address pattern matching on one address part: `*`, `?`, `[a-z]`, `[!abc]`,
//! `{sine,sine2}`.

/// True when `name` matches the OSC pattern `pattern` (one part, no `/`).
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_at(&p, &n)
}

/// True when the part has pattern characters (and so may match several names).
pub fn is_pattern(part: &str) -> bool {
    part.contains(['*', '?', '[', '{'])
}

fn match_at(p: &[char], n: &[char]) -> bool {
    let Some((&c, rest)) = p.split_first() else {
        return n.is_empty();
    };
    match c {
        '*' => (0..=n.len()).any(|k| match_at(rest, &n[k..])),
        '?' => !n.is_empty() && match_at(rest, &n[1..]),
        '[' => {
            let Some(close) = rest.iter().position(|&x| x == ']') else {
                return false;
            };
            let (set, after) = (&rest[..close], &rest[close + 1..]);
            let Some((&first, _)) = n.split_first() else {
                return false;
            };
            in_set(set, first) && match_at(after, &n[1..])
        }
        '{' => {
            let Some(close) = rest.iter().position(|&x| x == '}') else {
                return false;
            };
            let (alts, after) = (&rest[..close], &rest[close + 1..]);
            alts.split(|&x| x == ',').any(|alt| {
                n.len() >= alt.len() && n[..alt.len()] == *alt && match_at(after, &n[alt.len()..])
            })
        }
        _ => n.first() == Some(&c) && match_at(rest, &n[1..]),
    }
}

fn in_set(set: &[char], c: char) -> bool {
    let (negate, set) = match set.split_first() {
        Some(('!', rest)) => (true, rest),
        _ => (false, set),
    };
    let mut found = false;
    let mut i = 0;
    while i < set.len() {
        if i + 2 < set.len() && set[i + 1] == '-' {
            found |= set[i] <= c && c <= set[i + 2];
            i += 3;
        } else {
            found |= set[i] == c;
            i += 1;
        }
    }
    found != negate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc_1_0_patterns() {
        assert!(matches("sine*", "sine") && matches("sine*", "sine2"));
        assert!(!matches("sine*", "adsr"));
        assert!(matches("sine?", "sine2") && !matches("sine?", "sine"));
        assert!(matches("{sine,sine2}", "sine2") && !matches("{sine,sine2}", "sine3"));
        assert!(matches("sine[2-4]", "sine3") && !matches("sine[2-4]", "sine5"));
        assert!(matches("sine[!2]", "sine3") && !matches("sine[!2]", "sine2"));
        assert!(matches("*", "anything") && matches("*", ""));
        assert!(matches("f*r", "filter") && !matches("f*r", "filters"));
        assert!(!matches("[abc", "a") && !matches("{a,b", "a"));
        assert!(matches("gain", "gain") && !matches("gain", "gains"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(p in "\\\\PC{0,24}", n in "\\\\PC{0,24}") {
            let _ = matches(&p, &n);
        }
    }
}
