//! Which language a piece of feed text is written in, as far as the reader page needs to know
//! for its `lang` attribute: screen readers pick their voice by it, and browsers their
//! hyphenation, quotes and fonts. Tributary's outlets write in Russian (Cyrillic), Azerbaijani
//! (Latin with ə, ğ, ş, ı …) and English, so the script and a handful of letters decide.

/// Letters of the Azerbaijani Latin alphabet that English text does not use. `ə` alone is
/// decisive; the others are shared with Turkish and count only in numbers.
const AZERBAIJANI: &[char] = &['ə', 'ğ', 'ş', 'ı', 'ç', 'ö', 'ü', 'İ'];

/// The BCP 47 tag for `text`: `ru` when most letters are Cyrillic, `az` when the Latin text
/// carries Azerbaijani letters, else `en`.
pub fn detect(text: &str) -> &'static str {
    let (mut cyrillic, mut latin, mut schwa, mut azerbaijani) = (0usize, 0usize, 0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if matches!(c, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
        {
            cyrillic += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
        {
            latin += 1;
            let lower = c.to_lowercase().next().unwrap_or(c);
            if lower == 'ə' {
                schwa += 1;
            }
            if AZERBAIJANI.contains(&lower) || AZERBAIJANI.contains(&c) {
                azerbaijani += 1;
            }
        }
    }
    if cyrillic > latin {
        "ru"
    } else if latin > 0 && (schwa > 0 || (azerbaijani >= 2 && azerbaijani * 40 >= latin)) {
        "az"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn russian_text_is_tagged_ru_even_with_latin_names_in_it() {
        assert_eq!(
            detect("Союз без иллюзий: зачем России нужен Азербайджан"),
            "ru"
        );
        assert_eq!(detect("Оператор Azercell запустил 5G в Баку"), "ru");
    }

    #[test]
    fn azerbaijani_latin_is_tagged_az() {
        assert_eq!(detect("Azərbaycan və Rusiya arasında əməkdaşlıq"), "az");
        assert_eq!(
            detect("Bakıda yağış yağacaq, küləklı hava gözlənilir"),
            "az"
        );
        assert_eq!(detect("Şuşa şəhərində"), "az");
    }

    #[test]
    fn english_and_text_without_letters_are_tagged_en() {
        assert_eq!(
            detect("An Alliance Without Illusions: Why Russia Needs Azerbaijan"),
            "en"
        );
        assert_eq!(detect("Café owners in Tbilisi raise prices"), "en");
        assert_eq!(detect("2026 — 14.01"), "en");
        assert_eq!(detect(""), "en");
    }
}
