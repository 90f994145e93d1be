//! The cheap half of `token_classifier`: validators that find structured PII by its format
//! and checksum, with no model. They run beside the model, and their hits and the model's are
//! combined by union: an entity type is in the set when either finds it.
//!
//! | type | found when |
//! |---|---|
//! | `email` | `local@domain.tld` (a dot in the domain, a top-level domain of 2+ letters) |
//! | `credit_card` | 13 to 19 digits, optionally grouped by single spaces or hyphens, passing the Luhn check |
//! | `ssn` | `AAA-GG-SSSS` with an area other than 000, 666 and 9xx, a group other than 00 and a serial other than 0000 |
//! | `phone` | 10 to 15 digits written as a phone number: a leading `+`, or separators (`(555) 123-4567`, `555.123.4567`, `555-123-4567`), and not a card number or an SSN |
//! | `iban` | two letters, two check digits, 11 to 30 letters or digits (spaces allowed every four), passing the ISO 13616 mod-97 check |
//! | `ip_address` | a run of hex digits, `.` and `:` standing alone (no letter, digit or `_` touching it) that the standard library parses as an IPv4 or IPv6 address; an IPv6 address needs a decimal digit (`dead::beef` is a word, not an address) |
//! | `zip_code` | five digits, or ZIP+4, right after `zip`, `zip code` or `postal code` (optionally `:`, `#` or `is`), or after a US state's postal abbreviation (`CA 94105`); the abbreviations that are also words (`ID`, `IN`, `OR`, `OK`, `ME`, `HI`, `OH`) count only after a capitalised word and a comma, a city (`Boise, ID 83702`) |
//!
//! Validators are deliberately strict (a checksum or a separator is required), so a hit is
//! near certain; the model catches what they cannot see (names, unformatted numbers).

use std::net::IpAddr;
use std::sync::OnceLock;

use regex::Regex;

/// A structured PII type that a validator can find.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Validator {
    Email,
    CreditCard,
    Ssn,
    Phone,
    Iban,
    IpAddress,
    ZipCode,
}

impl Validator {
    pub const ALL: [Validator; 7] = [
        Validator::Email,
        Validator::CreditCard,
        Validator::Ssn,
        Validator::Phone,
        Validator::Iban,
        Validator::IpAddress,
        Validator::ZipCode,
    ];

    /// The label a policy declares for it (normalised: lowercase, `_` between words).
    pub fn label(self) -> &'static str {
        match self {
            Validator::Email => "email",
            Validator::CreditCard => "credit_card",
            Validator::Ssn => "ssn",
            Validator::Phone => "phone",
            Validator::Iban => "iban",
            Validator::IpAddress => "ip_address",
            Validator::ZipCode => "zip_code",
        }
    }

    pub fn for_label(normalised: &str) -> Option<Validator> {
        Validator::ALL.into_iter().find(|v| v.label() == normalised)
    }
}

/// One entity found in a text: a byte range and its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub validator: Validator,
    pub start: usize,
    pub end: usize,
}

struct Patterns {
    email: Regex,
    card: Regex,
    ssn: Regex,
    phone: Regex,
    iban: Regex,
    zip_after_word: Regex,
    zip_after_state: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("the validator patterns are valid");
        Patterns {
            email: re(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
            card: re(r"\b\d(?:[ \-]?\d){12,18}\b"),
            ssn: re(r"\b(\d{3})-(\d{2})-(\d{4})\b"),
            phone: re(r"(?:\+\d{1,3}[ .\-]?)?(?:\(\d{2,4}\)[ .\-]?|\b\d{2,4}[ .\-])\d{2,4}[ .\-]\d{3,4}\b|\+\d{10,15}\b"),
            iban: re(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"),
            zip_after_word: re(
                r"(?i:\b(?:zip(?:\s*code)?|postal\s+code))\s*(?:[:#]\s*|is\s+)?(\d{5}(?:-\d{4})?)\b",
            ),
            zip_after_state: re(&format!(
                r"(\b[A-Z][a-z]+,\s*)?\b({})\s+(\d{{5}}(?:-\d{{4}})?)\b",
                STATES.join("|")
            )),
        }
    })
}

/// Finds the entities of the given types in `text`.
pub fn find(text: &str, wanted: &[Validator]) -> Vec<Hit> {
    let p = patterns();
    let mut hits = Vec::new();
    let want = |v| wanted.contains(&v);
    if want(Validator::Email) {
        for m in p.email.find_iter(text) {
            hits.push(hit(Validator::Email, m.start(), m.end()));
        }
    }
    // Cards, SSNs and IP addresses are found first (for phones to skip them) even when not
    // wanted.
    let mut numbers = ip_addresses(text);
    // Runs of 13+ digits are never phone numbers, card or not.
    let mut long_runs = Vec::new();
    for m in p.card.find_iter(text) {
        long_runs.push((m.start(), m.end()));
        let digits: Vec<u32> = m.as_str().chars().filter_map(|c| c.to_digit(10)).collect();
        if (13..=19).contains(&digits.len()) && consistent_groups(m.as_str()) && luhn(&digits) {
            numbers.push(hit(Validator::CreditCard, m.start(), m.end()));
        }
    }
    for c in p.ssn.captures_iter(text) {
        let (Some(all), Some(area), Some(group), Some(serial)) =
            (c.get(0), c.get(1), c.get(2), c.get(3))
        else {
            continue;
        };
        let area = area.as_str();
        if area != "000"
            && area != "666"
            && !area.starts_with('9')
            && group.as_str() != "00"
            && serial.as_str() != "0000"
        {
            numbers.push(hit(Validator::Ssn, all.start(), all.end()));
        }
    }
    if want(Validator::Phone) {
        for m in p.phone.find_iter(text) {
            let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
            let inside_number = numbers
                .iter()
                .any(|n| n.start < m.end() && m.start() < n.end)
                || long_runs.iter().any(|&(a, b)| a < m.end() && m.start() < b);
            let inside_email = hits
                .iter()
                .any(|h| h.validator == Validator::Email && h.start < m.end() && m.start() < h.end);
            if (10..=15).contains(&digits) && !inside_number && !inside_email {
                hits.push(hit(Validator::Phone, m.start(), m.end()));
            }
        }
    }
    hits.extend(numbers.into_iter().filter(|h| want(h.validator)));
    if want(Validator::Iban) {
        for m in p.iban.find_iter(text) {
            if iban_checksum(m.as_str()) {
                hits.push(hit(Validator::Iban, m.start(), m.end()));
            }
        }
    }
    if want(Validator::ZipCode) {
        for c in p.zip_after_word.captures_iter(text) {
            if let Some(code) = c.get(1) {
                hits.push(hit(Validator::ZipCode, code.start(), code.end()));
            }
        }
        for c in p.zip_after_state.captures_iter(text) {
            let (Some(state), Some(code)) = (c.get(2), c.get(3)) else {
                continue;
            };
            if c.get(1).is_some() || !STATES_ALSO_WORDS.contains(&state.as_str()) {
                hits.push(hit(Validator::ZipCode, code.start(), code.end()));
            }
        }
    }
    hits.sort_by_key(|h| (h.start, h.end));
    hits
}

/// The postal abbreviations of the US states and DC.
const STATES: [&str; 51] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
];

/// Abbreviations that are also English words or common codes (`user ID 12345`, `OK 200`).
const STATES_ALSO_WORDS: [&str; 7] = ["ID", "IN", "OR", "OK", "ME", "HI", "OH"];

/// IPv4 and IPv6 addresses: runs of hex digits, dots and colons that stand alone and parse.
fn ip_addresses(text: &str) -> Vec<Hit> {
    let bytes = text.as_bytes();
    let part = |b: u8| b.is_ascii_hexdigit() || b == b'.' || b == b':';
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut hits = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !part(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && part(bytes[i]) {
            i += 1;
        }
        // A run inside a word (`std::vec`, `v1.2.3.4`) is not an address.
        if (start > 0 && word(bytes[start - 1])) || (i < bytes.len() && word(bytes[i])) {
            continue;
        }
        // The run is ASCII, so these are char boundaries; a sentence's full stop or a
        // label's colon may follow the address.
        let mut end = i;
        while end > start && matches!(bytes[end - 1], b'.' | b':') && !parses(&text[start..end]) {
            end -= 1;
        }
        if end > start && parses(&text[start..end]) {
            hits.push(hit(Validator::IpAddress, start, end));
        }
    }
    hits
}

fn parses(s: &str) -> bool {
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => true,
        Ok(IpAddr::V6(_)) => s.bytes().any(|b| b.is_ascii_digit()),
        Err(_) => false,
    }
}

fn hit(validator: Validator, start: usize, end: usize) -> Hit {
    Hit {
        validator,
        start,
        end,
    }
}

/// Separators, if any, are all the same character (`4111 1111 1111 1111`, not `4111-1111 1111`).
fn consistent_groups(s: &str) -> bool {
    let mut seps = s.chars().filter(|c| !c.is_ascii_digit());
    match seps.next() {
        None => true,
        Some(first) => seps.all(|c| c == first),
    }
}

/// The Luhn check digit algorithm over all the digits, check digit last.
pub fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// ISO 13616: move the first four characters to the end, letters to 10…35, the number mod 97
/// is 1.
pub fn iban_checksum(s: &str) -> bool {
    let compact: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let mut rem: u32 = 0;
    for c in compact[4..].iter().chain(&compact[..4]) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(text: &str) -> Vec<(&'static str, String)> {
        find(text, &Validator::ALL)
            .into_iter()
            .map(|h| (h.validator.label(), text[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn luhn_and_iban_checks() {
        let d = |s: &str| s.chars().filter_map(|c| c.to_digit(10)).collect::<Vec<_>>();
        assert!(luhn(&d("4111111111111111")));
        assert!(!luhn(&d("4111111111111112")));
        assert!(luhn(&d("378282246310005")));
        assert!(iban_checksum("GB82 WEST 1234 5698 7654 32"));
        assert!(iban_checksum("DE89370400440532013000"));
        assert!(!iban_checksum("DE89370400440532013001"));
    }

    #[test]
    fn finds_each_type_by_format_and_checksum() {
        assert_eq!(
            types("mail jane.doe@example.co.uk today"),
            [("email", "jane.doe@example.co.uk".to_string())]
        );
        assert_eq!(
            types("card 4111 1111 1111 1111 ok"),
            [("credit_card", "4111 1111 1111 1111".to_string())]
        );
        assert!(types("order 4111 1111 1111 1112").is_empty(), "fails Luhn");
        assert_eq!(
            types("SSN 123-45-6789."),
            [("ssn", "123-45-6789".to_string())]
        );
        assert!(types("ssn 666-45-6789 or 123-00-6789").is_empty());
        assert_eq!(
            types("call (555) 123-4567 now"),
            [("phone", "(555) 123-4567".to_string())]
        );
        assert_eq!(
            types("or +44 20 7946 0958"),
            [("phone", "+44 20 7946 0958".to_string())]
        );
        assert_eq!(
            types("pay to GB82 WEST 1234 5698 7654 32 please"),
            [("iban", "GB82 WEST 1234 5698 7654 32".to_string())]
        );
    }

    #[test]
    fn ordinary_numbers_are_not_pii() {
        assert!(types("the year 2024, 3.14159, version 1.2.3, 12345678").is_empty());
        assert!(types("compute 12-34-5678 and 2024-01-15").is_empty());
    }

    #[test]
    fn ip_addresses_parse_and_stand_alone() {
        assert_eq!(
            types("blocked 192.168.1.20. Also 2001:db8::8a2e:370:7334, fe80::1 and ::1:"),
            [
                ("ip_address", "192.168.1.20".to_string()),
                ("ip_address", "2001:db8::8a2e:370:7334".to_string()),
                ("ip_address", "fe80::1".to_string()),
                ("ip_address", "::1".to_string()),
            ]
        );
        assert_eq!(
            types("from 10.0.0.255 (FE80:0000:0000:0000:0202:B3FF:FE1E:8329)"),
            [
                ("ip_address", "10.0.0.255".to_string()),
                (
                    "ip_address",
                    "FE80:0000:0000:0000:0202:B3FF:FE1E:8329".to_string()
                ),
            ]
        );
        assert!(
            types(
                "at 10:30:15, ratio 16:9, MAC 00:1a:2b:3c:4d:5e, std::vec, v1.2.3.4, \
                 1.2.3, 256.1.1.1, dead::beef, cafe::, 0x80070005, 01.02.03.04"
            )
            .is_empty(),
            "{:?}",
            types("01.02.03.04")
        );
    }

    #[test]
    fn zip_codes_need_their_context() {
        assert_eq!(
            types("Mountain View, CA 94043 and Austin TX 78701-1234"),
            [
                ("zip_code", "94043".to_string()),
                ("zip_code", "78701-1234".to_string()),
            ]
        );
        assert_eq!(
            types("my zip code is 02139; Zip: 10001, postal code 60601"),
            [
                ("zip_code", "02139".to_string()),
                ("zip_code", "10001".to_string()),
                ("zip_code", "60601".to_string()),
            ]
        );
        assert_eq!(
            types("Boise, ID 83702"),
            [("zip_code", "83702".to_string())]
        );
        let plain = "user ID 83702, order 55821, OK 20000 items, ca 94043, CA 940431";
        assert!(types(plain).is_empty(), "{:?}", types(plain));
    }

    #[test]
    fn only_wanted_types_are_reported() {
        let hits = find("4111111111111111 and a@b.io", &[Validator::Email]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].validator, Validator::Email);
    }
}
