//! Byte offsets to LSP positions and back.
//!
//! LSP positions are a line and a column counted in UTF-16 code units (the protocol's default
//! encoding, the only one every client supports). Clients send positions past the end of a
//! line or of the document, and columns that fall between the two halves of a surrogate pair;
//! conversion clamps them to the nearest character boundary at or before the position instead
//! of failing, so no request or edit can panic on a bad position.

use lsp_types::Position;

/// Where each line of a text starts.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        LineIndex {
            line_starts,
            len: text.len() as u32,
        }
    }

    /// The position of a byte offset (clamped to the text, and back to a character boundary).
    pub fn position(&self, text: &str, offset: u32) -> Position {
        let mut offset = (offset.min(self.len) as usize).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let character = text[start..offset].encode_utf16().count();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of a position. A line past the last is the end of the text; a column
    /// past the end of its line is the end of the line; a column inside a character (half a
    /// surrogate pair) is the start of that character.
    pub fn offset(&self, text: &str, position: Position) -> u32 {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return text.len() as u32;
        };
        let start = (start as usize).min(text.len());
        let end = self
            .line_starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |&next| (next as usize - 1).min(text.len()));
        let mut units = 0u32;
        for (i, c) in text[start..end].char_indices() {
            let next = units + c.len_utf16() as u32;
            if next > position.character {
                return (start + i) as u32;
            }
            units = next;
        }
        end as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let index = LineIndex::new(text);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let p = index.position(text, offset as u32);
            assert_eq!(index.offset(text, p), offset as u32, "{text:?} at {offset}");
        }
    }

    #[test]
    fn every_character_boundary_round_trips() {
        round_trip("");
        round_trip("signal a: bool = keyword(\"x\")\n");
        round_trip("# café 🎉 naïve\nroute r when a => b\r\n\n😀😀\n");
    }

    #[test]
    fn utf16_columns() {
        let text = "a😀b\nc";
        let index = LineIndex::new(text);
        // 😀 is two UTF-16 units and four bytes.
        assert_eq!(index.position(text, 5), Position::new(0, 3));
        assert_eq!(index.offset(text, Position::new(0, 3)), 5);
        // Between the two halves of the surrogate pair: the start of the character.
        assert_eq!(index.offset(text, Position::new(0, 2)), 1);
        // Inside the character's bytes: back to its start.
        assert_eq!(index.position(text, 3), Position::new(0, 1));
    }

    #[test]
    fn positions_past_the_end_clamp() {
        let text = "ab\ncd\n";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(0, 99)), 2);
        assert_eq!(index.offset(text, Position::new(2, 0)), 6);
        assert_eq!(index.offset(text, Position::new(7, 3)), 6);
        assert_eq!(index.position(text, 99), Position::new(2, 0));
    }
}
