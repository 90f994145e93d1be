//! A small Wadler/Prettier-style document algebra and its printer.
//!
//! The formatter describes a declaration as a [`Doc`]: text, places where a line may break,
//! and groups that are printed flat when they fit in the width and broken otherwise. This
//! module knows nothing about policies; it only lays out documents. The printer is iterative
//! (an explicit stack), so deep documents cost heap, not native stack.

/// A document to lay out.
#[derive(Clone, Debug)]
pub enum Doc {
    /// Text without line breaks.
    Text(String),
    /// A `#` comment, printed as is. It counts as zero width when deciding what fits, and it
    /// breaks every group around it: whoever builds the document puts a line break after it.
    Comment(String),
    /// A space when its group is flat, a line break when the group is broken.
    Line,
    /// Nothing when its group is flat, a line break when the group is broken.
    SoftLine,
    /// Always a line break.
    HardLine,
    Concat(Vec<Doc>),
    /// Lines inside are indented this many more columns.
    Nest(usize, Box<Doc>),
    /// Lines inside are indented to the column where this starts.
    Align(Box<Doc>),
    /// Printed flat if it fits in the rest of the line (and contains no forced break).
    Group {
        doc: Box<Doc>,
        broken: bool,
    },
    /// Printed only when the enclosing group is broken (trailing commas).
    IfBreak(Box<Doc>),
    /// Parts separated by [`Doc::Line`]s, each of which breaks only when the next part does
    /// not fit on the current line (a paragraph of words).
    Fill(Vec<FillPart>),
}

/// One part of a [`Doc::Fill`].
#[derive(Clone, Debug)]
pub struct FillPart {
    pub doc: Doc,
    /// The separator after this part must be a line break (the part ends with a comment, or
    /// the next one starts with one).
    pub break_after: bool,
}

impl Doc {
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }

    pub fn concat(parts: Vec<Doc>) -> Doc {
        Doc::Concat(parts)
    }

    pub fn nest(indent: usize, doc: Doc) -> Doc {
        Doc::Nest(indent, Box::new(doc))
    }

    pub fn align(doc: Doc) -> Doc {
        Doc::Align(Box::new(doc))
    }

    pub fn if_break(doc: Doc) -> Doc {
        Doc::IfBreak(Box::new(doc))
    }

    /// A group; it is broken from the start if anything inside forces a line break.
    pub fn group(doc: Doc) -> Doc {
        let broken = doc.forces_break();
        Doc::Group {
            doc: Box::new(doc),
            broken,
        }
    }

    /// Whether this document contains a line break that no layout can avoid. Nested groups
    /// computed theirs when they were built, so this does not descend into them.
    fn forces_break(&self) -> bool {
        match self {
            Doc::Comment(_) | Doc::HardLine => true,
            Doc::Text(_) | Doc::Line | Doc::SoftLine | Doc::IfBreak(_) => false,
            Doc::Concat(parts) => parts.iter().any(Doc::forces_break),
            Doc::Nest(_, d) | Doc::Align(d) => d.forces_break(),
            Doc::Group { broken, .. } => *broken,
            Doc::Fill(parts) => parts.iter().any(|p| p.break_after || p.doc.forces_break()),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Flat,
    Break,
}

/// A pending piece of work for the printer: a document (or the rest of a fill) with the
/// indentation and mode it is printed in.
#[derive(Clone, Copy)]
enum Cmd<'d> {
    Doc(usize, Mode, &'d Doc),
    Fill(usize, Mode, &'d [FillPart]),
}

const SEPARATOR: Doc = Doc::Line;

/// Lays `doc` out in `width` columns. Lines never end with spaces.
pub fn print(doc: &Doc, width: usize) -> String {
    let mut out = String::new();
    let mut col = 0usize;
    let mut stack: Vec<Cmd<'_>> = vec![Cmd::Doc(0, Mode::Break, doc)];
    while let Some(cmd) = stack.pop() {
        match cmd {
            Cmd::Doc(indent, mode, doc) => match doc {
                Doc::Text(s) | Doc::Comment(s) => {
                    out.push_str(s);
                    col += text_width(s);
                }
                Doc::Line | Doc::SoftLine if mode == Mode::Flat => {
                    if matches!(doc, Doc::Line) {
                        out.push(' ');
                        col += 1;
                    }
                }
                Doc::Line | Doc::SoftLine | Doc::HardLine => {
                    newline(&mut out, indent);
                    col = indent;
                }
                Doc::Concat(parts) => {
                    stack.extend(parts.iter().rev().map(|p| Cmd::Doc(indent, mode, p)));
                }
                Doc::Nest(n, inner) => stack.push(Cmd::Doc(indent + n, mode, inner)),
                Doc::Align(inner) => stack.push(Cmd::Doc(col, mode, inner)),
                Doc::Group { doc: inner, broken } => {
                    let flat = !*broken
                        && (mode == Mode::Flat
                            || fits(
                                vec![Cmd::Doc(indent, Mode::Flat, inner)],
                                &stack,
                                width,
                                col,
                            ));
                    let mode = if flat { Mode::Flat } else { Mode::Break };
                    stack.push(Cmd::Doc(indent, mode, inner));
                }
                Doc::IfBreak(inner) => {
                    if mode == Mode::Break {
                        stack.push(Cmd::Doc(indent, mode, inner));
                    }
                }
                Doc::Fill(parts) => stack.push(Cmd::Fill(indent, mode, parts)),
            },
            Cmd::Fill(indent, mode, parts) => {
                let Some((first, rest)) = parts.split_first() else {
                    continue;
                };
                let first_cmd = Cmd::Doc(indent, Mode::Flat, &first.doc);
                let first_mode = if mode == Mode::Flat || fits(vec![first_cmd], &[], width, col) {
                    Mode::Flat
                } else {
                    Mode::Break
                };
                let Some(second) = rest.first() else {
                    stack.push(Cmd::Doc(indent, first_mode, &first.doc));
                    continue;
                };
                // The separator stays a space if this part, a space and the next part all fit;
                // for the last part, whatever follows the fill on its line must fit too.
                let pair = vec![
                    Cmd::Doc(indent, Mode::Flat, &second.doc),
                    Cmd::Doc(indent, Mode::Flat, &SEPARATOR),
                    Cmd::Doc(indent, Mode::Flat, &first.doc),
                ];
                let after: &[Cmd<'_>] = if rest.len() == 1 { &stack } else { &[] };
                let sep_flat =
                    !first.break_after && (mode == Mode::Flat || fits(pair, after, width, col));
                let sep_mode = if sep_flat { Mode::Flat } else { Mode::Break };
                stack.push(Cmd::Fill(indent, mode, rest));
                stack.push(Cmd::Doc(indent, sep_mode, &SEPARATOR));
                stack.push(Cmd::Doc(indent, first_mode, &first.doc));
            }
        }
    }
    trim_line_end(&mut out);
    out
}

/// Whether `next`, followed by `rest` up to its first line break, fits in the line.
fn fits<'d>(mut next: Vec<Cmd<'d>>, rest: &[Cmd<'d>], width: usize, col: usize) -> bool {
    let mut remaining = width as isize - col as isize;
    let mut rest_index = rest.len();
    loop {
        if remaining < 0 {
            return false;
        }
        let cmd = match next.pop() {
            Some(cmd) => cmd,
            None if rest_index == 0 => return true,
            None => {
                rest_index -= 1;
                rest[rest_index]
            }
        };
        match cmd {
            Cmd::Doc(indent, mode, doc) => match doc {
                Doc::Text(s) => remaining -= text_width(s) as isize,
                Doc::Comment(_) => {}
                Doc::Line if mode == Mode::Flat => remaining -= 1,
                Doc::SoftLine if mode == Mode::Flat => {}
                Doc::Line | Doc::SoftLine | Doc::HardLine => return true,
                Doc::Concat(parts) => {
                    next.extend(parts.iter().rev().map(|p| Cmd::Doc(indent, mode, p)))
                }
                Doc::Nest(_, inner) | Doc::Align(inner) => next.push(Cmd::Doc(indent, mode, inner)),
                Doc::Group { doc, broken } => {
                    let mode = if *broken { Mode::Break } else { mode };
                    next.push(Cmd::Doc(indent, mode, doc));
                }
                Doc::IfBreak(inner) => {
                    if mode == Mode::Break {
                        next.push(Cmd::Doc(indent, mode, inner));
                    }
                }
                Doc::Fill(parts) => next.push(Cmd::Fill(indent, mode, parts)),
            },
            Cmd::Fill(indent, mode, parts) => {
                // Pushed last-first so that they pop in order.
                for (i, part) in parts.iter().enumerate().rev() {
                    next.push(Cmd::Doc(indent, mode, &part.doc));
                    if i > 0 {
                        // A forced break ends the line being measured, like a broken line.
                        let sep_mode = if parts[i - 1].break_after {
                            Mode::Break
                        } else {
                            mode
                        };
                        next.push(Cmd::Doc(indent, sep_mode, &SEPARATOR));
                    }
                }
            }
        }
    }
}

fn text_width(s: &str) -> usize {
    s.chars().count()
}

fn trim_line_end(out: &mut String) {
    let kept = out.trim_end_matches([' ', '\t']).len();
    out.truncate(kept);
}

fn newline(out: &mut String, indent: usize) {
    trim_line_end(out);
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Doc {
        let mut inner = vec![Doc::SoftLine];
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                inner.push(Doc::text(","));
                inner.push(Doc::Line);
            }
            inner.push(Doc::text(*item));
        }
        inner.push(Doc::if_break(Doc::text(",")));
        Doc::group(Doc::concat(vec![
            Doc::text("["),
            Doc::nest(2, Doc::concat(inner)),
            Doc::SoftLine,
            Doc::text("]"),
        ]))
    }

    #[test]
    fn a_group_is_flat_when_it_fits() {
        assert_eq!(print(&list(&["a", "b"]), 20), "[a, b]");
    }

    #[test]
    fn a_group_breaks_every_line_when_it_does_not_fit() {
        assert_eq!(
            print(&list(&["alpha", "beta"]), 10),
            "[\n  alpha,\n  beta,\n]"
        );
    }

    #[test]
    fn a_comment_breaks_its_group() {
        let doc = Doc::group(Doc::concat(vec![
            Doc::text("a"),
            Doc::Comment(" # note".into()),
            Doc::Line,
            Doc::text("b"),
        ]));
        assert_eq!(print(&doc, 80), "a # note\nb");
    }

    #[test]
    fn fill_wraps_at_the_width_and_aligns() {
        let parts = ["aa,", "bb,", "cc,", "dd"]
            .iter()
            .map(|w| FillPart {
                doc: Doc::text(*w),
                break_after: false,
            })
            .collect();
        let doc = Doc::concat(vec![
            Doc::text("x("),
            Doc::align(Doc::Fill(parts)),
            Doc::text(")"),
        ]);
        assert_eq!(print(&doc, 10), "x(aa, bb,\n  cc, dd)");
    }

    #[test]
    fn fill_keeps_what_follows_within_the_width() {
        let parts = ["aa,", "bb"]
            .iter()
            .map(|w| FillPart {
                doc: Doc::text(*w),
                break_after: false,
            })
            .collect();
        let doc = Doc::concat(vec![
            Doc::text("("),
            Doc::align(Doc::Fill(parts)),
            Doc::text(") = tail"),
        ]);
        assert_eq!(print(&doc, 12), "(aa,\n bb) = tail");
    }
}
