//! Paging of the lists that grow with a case (an Akte's Dokumente and Vorgänge, versions,
//! history): answered whole as before, or a page at a time with `limit` and `offset`. The
//! answer stays the JSON array; `X-Total-Count` says how long the whole list is, and a
//! `Link` header with `rel="next"` (RFC 8288) names the next page while there is one. The
//! lists only grow at their end (new Dokumente, versions, history), so an offset stays
//! where it was between pages.

use axum::{
    Json,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::problem::{ApiError, ApiResult};

/// The most items one page holds.
pub const MAX_LIMIT: usize = 1000;

/// A page of a list: absent, the whole list.
#[derive(Clone, Copy, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// At most this many items (1–1000); absent: all of them.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Items to skip (default 0).
    pub offset: Option<usize>,
}

impl Paging {
    /// Answers the page of `items` this paging asks for, as a JSON array with
    /// `X-Total-Count` and, when more follow, a `Link` to the next page of `path` (the
    /// list's path, with its own query if it has one).
    pub fn answer<T: Serialize>(&self, items: Vec<T>, path: &str) -> ApiResult<Response> {
        let total = items.len();
        self.answer_with(total, |skip, take| items.into_iter().skip(skip).take(take).collect(), path)
    }

    /// [`answer`](Self::answer) for a list of `total` items of which `page(skip, take)`
    /// makes only those of the page.
    pub fn answer_with<T: Serialize>(
        &self,
        total: usize,
        page: impl FnOnce(usize, usize) -> Vec<T>,
        path: &str,
    ) -> ApiResult<Response> {
        let offset = self.offset.unwrap_or(0);
        let limit = match self.limit {
            None => total.saturating_sub(offset).max(1),
            Some(l) if (1..=MAX_LIMIT).contains(&l) => l,
            Some(_) => {
                return Err(ApiError::bad_request(format!("The parameter limit must be between 1 and {MAX_LIMIT}")));
            }
        };
        let page: Vec<T> = page(offset, limit);
        let next = offset.saturating_add(page.len());
        let mut r = Json(page).into_response();
        r.headers_mut().insert("x-total-count", HeaderValue::from(total));
        if self.limit.is_some() && next < total {
            let join = if path.contains('?') { '&' } else { '?' };
            let link = format!("<{path}{join}limit={limit}&offset={next}>; rel=\"next\"");
            if let Ok(v) = HeaderValue::from_str(&link) {
                r.headers_mut().insert(header::LINK, v);
            }
        }
        Ok(r)
    }
}
