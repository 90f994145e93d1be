//! `language`: the language of a text as an ISO 639-1 code, detected with `whatlang`
//! (trigram and script statistics, 70 languages, no model file).
//!
//! Only the first 4 KiB of the text are read. The value is absent for a text with no letters
//! (nothing to detect). Mandarin is `zh`, Iranian Persian `fa`, Norwegian Bokmål `nb`. Short
//! texts are guessed too; whatlang's confidence goes into the decision trace.

use whatlang::Lang;

/// How much of a text is looked at: plenty for statistics, and a long conversation costs no
/// more than a page.
pub const MAX_BYTES: usize = 4096;

/// The detected language and whatlang's confidence in it (0 to 1), from the first
/// [`MAX_BYTES`] of the text.
pub fn detect(text: &str) -> Option<(&'static str, f64)> {
    let mut end = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    if !text.chars().any(char::is_alphabetic) {
        return None;
    }
    let info = whatlang::detect(text)?;
    Some((iso_639_1(info.lang()), info.confidence()))
}

/// The two-letter code of a language whatlang detects.
pub fn iso_639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_languages() {
        let code = |t| detect(t).map(|(c, _)| c);
        assert_eq!(
            code("How do I reset my password for the company portal?"),
            Some("en")
        );
        assert_eq!(
            code("Comment puis-je réinitialiser mon mot de passe du portail de l'entreprise ?"),
            Some("fr")
        );
        assert_eq!(
            code("Wie kann ich mein Passwort für das Firmenportal zurücksetzen?"),
            Some("de")
        );
        assert_eq!(code("如何重置公司门户的密码？"), Some("zh"));
        assert_eq!(code("  12345 !!! "), None);
        assert_eq!(code(""), None);
    }
}
