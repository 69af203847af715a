//! Free text as people type it: what counts as nothing at all (whitespace and invisible
//! characters), the characters that make a name display as something else (direction overrides),
//! and the one Unicode form every name is stored in (NFC, so "Whānau" typed on a Mac and on Windows
//! is the same name).

use unicode_normalization::UnicodeNormalization;

/// A character that shows nothing on its own: whitespace, zero-width and joiner characters,
/// direction marks and overrides, soft hyphens, fillers and variation selectors.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_bidi_control(c)
        || matches!(c,
            '\u{00AD}'                      // soft hyphen
            | '\u{034F}'                    // combining grapheme joiner
            | '\u{115F}' | '\u{1160}'       // Hangul fillers
            | '\u{17B4}' | '\u{17B5}'       // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}'       // Mongolian selectors and vowel separator
            | '\u{200B}'..='\u{200D}'       // zero-width space, non-joiner, joiner
            | '\u{2060}'..='\u{2065}'       // word joiner, invisible operators
            | '\u{206A}'..='\u{206F}'       // deprecated format characters
            | '\u{2800}'                    // braille blank
            | '\u{3164}' | '\u{FFA0}'       // Hangul fillers
            | '\u{FE00}'..='\u{FE0F}'       // variation selectors
            | '\u{FEFF}'                    // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}'       // interlinear annotation
            | '\u{E0000}'..='\u{E007F}'     // tags
            | '\u{E0100}'..='\u{E01EF}') // variation selectors supplement
}

/// A character that changes the direction text is displayed in: `invoice\u{202E}fdp.exe` shows
/// as `invoiceexe.pdf`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Does the text show anything at all?
pub fn has_visible(s: &str) -> bool {
    s.chars().any(|c| !is_invisible(c))
}

/// A control character that has no place in typed text (line breaks and tabs do).
pub fn is_stray_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// What is wrong with a note someone typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteProblem {
    TooLong,
    ControlCharacters,
}

/// A free-text note as kept: trimmed, `None` when it shows nothing, refused when longer than
/// `max` characters or carrying control characters other than line breaks and tabs.
pub fn note(s: Option<&str>, max: usize) -> Result<Option<String>, NoteProblem> {
    let Some(t) = s.map(str::trim).filter(|t| has_visible(t)) else {
        return Ok(None);
    };
    if t.chars().count() > max {
        return Err(NoteProblem::TooLong);
    }
    if t.chars().any(is_stray_control) {
        return Err(NoteProblem::ControlCharacters);
    }
    Ok(Some(t.to_string()))
}

/// The text in Unicode Normalization Form C.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invisible_only_text_shows_nothing() {
        for s in ["", " ", "\u{200B}", "\u{200B}\u{200C}\u{200D}\u{FEFF}", " \u{2060}\t\n", "\u{202E}", "\u{3164}", "\u{00A0}\u{2003}"] {
            assert!(!has_visible(s), "{s:?}");
        }
        for s in ["a", "\u{200B}ā", "Kia ora", "👍", "1"] {
            assert!(has_visible(s), "{s:?}");
        }
    }

    #[test]
    fn direction_overrides_are_recognised() {
        assert!("invoice\u{202E}fdp.exe".chars().any(is_bidi_control));
        assert!(!"Hui ā-whānau plan.pdf".chars().any(is_bidi_control));
    }

    #[test]
    fn a_note_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(note(None, 5), Ok(None));
        assert_eq!(note(Some(" \u{200b} "), 5), Ok(None));
        assert_eq!(note(Some("  hui\n2 "), 5), Ok(Some("hui\n2".into())));
        assert_eq!(note(Some("ā".repeat(6).as_str()), 5), Err(NoteProblem::TooLong));
        assert_eq!(note(Some("a\u{0}b"), 5), Err(NoteProblem::ControlCharacters));
    }

    #[test]
    fn names_are_composed() {
        let decomposed = "Wha\u{0304}nau";
        assert_ne!(decomposed, "Whānau");
        assert_eq!(nfc(decomposed), "Whānau");
    }

    proptest! {
        #[test]
        fn nfc_is_idempotent(s in ".{0,40}") {
            let once = nfc(&s);
            prop_assert_eq!(nfc(&once), once.clone());
        }
    }
}
