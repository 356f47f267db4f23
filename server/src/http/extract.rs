//! The extractors every endpoint module uses: a JSON body, a path and a query whose
//! rejections are problem documents, each in one sentence.

use axum::extract::{FromRequest, FromRequestParts};

use super::problem::{ApiError, rejection};

/// A JSON body whose rejections are problems.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

/// A path whose rejections are problems.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Id<T>(pub T);

/// A query whose rejections are problems.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Q<T>(pub T);

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> ApiError {
        rejection(e.body_text(), e.status())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> ApiError {
        // `Cannot parse `id` with value `x`: UUID parsing failed …`: say which value.
        let text = e.body_text();
        let value = text.split_once("with value `").and_then(|(_, r)| r.split_once('`')).map(|(v, _)| v);
        match value {
            Some(v) => ApiError::not_found(format!(
                "There is nothing at {v:?}: an id is a UUID, such as 01a2229b-edaf-727c-9235-d8488d829b01"
            )),
            None => ApiError::not_found(crate::output::sentence(&anyhow::anyhow!("{text}"))),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> ApiError {
        ApiError::bad_request(query_problem(&e.body_text()))
    }
}

/// One sentence for a query string the parameters could not be read from, in place of the
/// deserializer's wording (`Failed to deserialize query string: offset: invalid digit
/// found in string`).
pub fn query_problem(text: &str) -> String {
    let inner = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(text).trim_end_matches('.');
    if let Some(name) = inner.strip_prefix("duplicate field `").and_then(|r| r.strip_suffix('`')) {
        return format!("The query parameter {name} is given more than once.");
    }
    match inner.split_once(": ") {
        Some((name, why)) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            let number = ["invalid digit", "parse integer", "too large", "too small"].iter().any(|w| why.contains(w));
            if number {
                format!("The query parameter {name} must be a whole number.")
            } else {
                format!("The query parameter {name} is not valid: {why}.")
            }
        }
        _ => format!("The query string is not valid: {inner}."),
    }
}
