//! Numbers in words to digits: "two hundred" → 200, "a hundred and twenty" → 120, "thirty
//! five" → 35, "two point five" → 2.5.

fn small(word: &str) -> Option<u32> {
    Some(match word {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn tens(word: &str) -> Option<u32> {
    Some(match word {
        "twenty" => 20,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

fn scale(word: &str) -> Option<u32> {
    Some(match word {
        "hundred" => 100,
        "thousand" => 1000,
        _ => return None,
    })
}

/// Whether `word` is part of a number written in words.
pub(crate) fn is_number_word(word: &str) -> bool {
    small(word).is_some() || tens(word).is_some() || scale(word).is_some()
}

/// Replaces every number written in words by its digits; other words pass unchanged.
pub(crate) fn numbers(tokens: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i].as_str();
        // "a hundred", "a thousand": the article is the number one.
        let article_number = matches!(word, "a" | "an" | "one")
            && tokens.get(i + 1).is_some_and(|w| scale(w).is_some());
        // "four on the floor" is a beat, not a number.
        let idiom = word == "four" && tokens.get(i + 1).is_some_and(|w| w == "on");
        if (!is_number_word(word) && !article_number) || idiom {
            out.push(word.to_owned());
            i += 1;
            continue;
        }
        let (mut total, mut current, mut scaled) = (0u32, 0u32, false);
        if article_number {
            current = 1;
            i += 1;
        }
        while let Some(w) = tokens.get(i).map(String::as_str) {
            if let Some(v) = small(w) {
                current = current.saturating_add(v);
            } else if let Some(v) = tens(w) {
                current = current.saturating_add(v);
            } else if w == "hundred" {
                current = current.max(1).saturating_mul(100);
                scaled = true;
            } else if w == "thousand" {
                total = total.saturating_add(current.max(1).saturating_mul(1000));
                current = 0;
                scaled = true;
            } else if w == "and"
                && scaled
                && tokens
                    .get(i + 1)
                    .is_some_and(|n| small(n).is_some() || tens(n).is_some())
            {
                // "a hundred and twenty": the "and" belongs to the number.
            } else {
                break;
            }
            i += 1;
        }
        let mut number = total.saturating_add(current).to_string();
        // "two point five".
        if tokens.get(i).map(String::as_str) == Some("point") {
            let digits: String = tokens[i + 1..]
                .iter()
                .map_while(|w| small(w).filter(|d| *d < 10))
                .map(|d| d.to_string())
                .collect();
            if !digits.is_empty() {
                i += 1 + digits.len();
                number = format!("{number}.{digits}");
            }
        }
        out.push(number);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> String {
        let tokens: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        numbers(&tokens).join(" ")
    }

    #[test]
    fn words_to_digits() {
        assert_eq!(n("two hundred hz"), "200 hz");
        assert_eq!(n("a hundred and twenty bpm"), "120 bpm");
        assert_eq!(n("one hundred and forty"), "140");
        assert_eq!(n("thirty five percent"), "35 percent");
        assert_eq!(n("two point five seconds"), "2.5 seconds");
        assert_eq!(n("up two octaves"), "up 2 octaves");
        assert_eq!(n("a fifth and a third"), "a fifth and a third");
        assert_eq!(n("twelve thousand"), "12000");
        assert_eq!(n("rock and roll"), "rock and roll");
        assert_eq!(n("seven and a half"), "7 and a half");
    }
}
