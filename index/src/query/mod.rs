//! Query strings: [`parse`] turns the text into a tree, [`build`] into a tantivy query.

pub(crate) mod build;
pub(crate) mod exclusion;
pub(crate) mod parse;
