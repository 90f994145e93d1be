//! Where the comments inside one declaration go.
//!
//! The layout walks a declaration in source order and, at each place that can hold a comment
//! (before or after an element of a list, between the operands of `and`/`or`, before `=>`),
//! takes the comments that precede it in the source. Comments found anywhere else (between
//! `signal` and its name, inside a comparison) cannot be printed where they were: they are
//! *hoisted* above the declaration.
//!
//! Comments must come out in their original order, so hoisting is all-or-prefix: if a hoisted
//! comment came after a placed one, the layout is redone with every comment up to the last
//! hoisted one hoisted (see [`Cursor::reorder_needed`]).

use crate::syntax::lexer::Comment;

/// The comments inside one declaration and how far the layout has consumed them.
pub struct Cursor<'a> {
    src: &'a str,
    comments: &'a [Comment],
    next: usize,
    /// Comments with a smaller index are hoisted wherever they are met.
    hoist_below: usize,
    hoisted: Vec<&'a Comment>,
    last_hoisted: Option<usize>,
    first_placed: Option<usize>,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str, comments: &'a [Comment], hoist_below: usize) -> Cursor<'a> {
        Cursor {
            src,
            comments,
            next: 0,
            hoist_below,
            hoisted: Vec::new(),
            last_hoisted: None,
            first_placed: None,
        }
    }

    pub fn src(&self) -> &'a str {
        self.src
    }

    fn start(&self, i: usize) -> usize {
        self.comments[i].span.start as usize
    }

    /// Takes the comments that start before `pos`, for a place that can print them.
    pub fn take_before(&mut self, pos: usize) -> Vec<&'a Comment> {
        let mut taken = Vec::new();
        while self.next < self.comments.len() && self.start(self.next) < pos {
            if let Some(c) = self.place(self.next) {
                taken.push(c);
            }
            self.next += 1;
        }
        taken
    }

    /// Whether a comment not yet taken starts before `pos`.
    pub fn has_before(&self, pos: usize) -> bool {
        self.next < self.comments.len() && self.start(self.next) < pos
    }

    /// Hoists the comments that start before `pos`: the layout has no place for them.
    pub fn hoist_before(&mut self, pos: usize) {
        while self.next < self.comments.len() && self.start(self.next) < pos {
            self.hoist(self.next);
            self.next += 1;
        }
    }

    /// Drops the comments that start before `pos` because the text around them is printed
    /// verbatim (a part that did not parse), comments included.
    pub fn skip_before(&mut self, pos: usize) {
        while self.next < self.comments.len() && self.start(self.next) < pos {
            self.next += 1;
        }
    }

    /// Takes the next comment if it starts before `limit` on the same line as `after`: a
    /// comment trailing the element that ends at `after`.
    pub fn take_trailing(&mut self, after: usize, limit: usize) -> Option<&'a Comment> {
        if self.next >= self.comments.len() {
            return None;
        }
        let start = self.start(self.next);
        let same_line = self
            .src
            .get(after..start)
            .is_some_and(|gap| !gap.contains('\n'));
        if start >= limit || !same_line {
            return None;
        }
        let i = self.next;
        self.next += 1;
        self.place(i)
    }

    fn place(&mut self, i: usize) -> Option<&'a Comment> {
        if i < self.hoist_below {
            self.hoist(i);
            return None;
        }
        self.first_placed.get_or_insert(i);
        Some(&self.comments[i])
    }

    fn hoist(&mut self, i: usize) {
        self.hoisted.push(&self.comments[i]);
        self.last_hoisted = Some(i);
    }

    /// Hoists whatever the layout did not reach.
    pub fn finish(&mut self) {
        self.hoist_before(usize::MAX);
    }

    /// If some comment was hoisted after one was placed, the index below which every comment
    /// must be hoisted for the order to hold.
    pub fn reorder_needed(&self) -> Option<usize> {
        match (self.first_placed, self.last_hoisted) {
            (Some(placed), Some(hoisted)) if hoisted > placed => Some(hoisted + 1),
            _ => None,
        }
    }

    pub fn hoisted(&self) -> &[&'a Comment] {
        &self.hoisted
    }
}
