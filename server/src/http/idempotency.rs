//! `Idempotency-Key` for POSTs: a request claims its key with a fingerprint when it
//! starts, so that a retry replays the answer, a parallel retry waits its turn (409), and
//! the key is never spent on a different request (422).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{
    App,
    auth::Principal,
    problem::{ApiError, ApiResult},
};

/// How long an `Idempotency-Key` is remembered.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);
/// How many keys are remembered at most (the oldest go first).
const IDEMPOTENCY_MAX: usize = 100_000;

/// Answers to POSTs with an `Idempotency-Key`, per caller, for a day. Kept in this
/// process: a retry must reach the same node. A key is claimed when its request starts,
/// with a fingerprint of the request: a second request with the key while the first runs
/// gets 409 (two parallel retries created two Dokumente before), one with a different
/// request gets 422 (its body was dropped for the first one's answer before), and a
/// request that fails frees its key for the retry.
#[derive(Default)]
pub struct Idempotency(Mutex<HashMap<String, Claim>>);

struct Claim {
    /// What is known of the request when it starts (for an upload: its query and media
    /// type; the bytes arrive later).
    fingerprint: String,
    /// The answer, once there is one; `None` while the first request runs.
    answer: Option<Answer>,
    at: Instant,
}

/// An answer remembered for a key.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: Value,
    location: Option<String>,
    /// The rest of the request's fingerprint, known once its body was read (an upload's
    /// fields and the digest of its bytes): a retry is replayed only if its own rest is
    /// the same.
    rest: Option<String>,
}

impl Answer {
    fn replay(&self) -> Response {
        let mut r = (self.status, Json(self.body.clone())).into_response();
        r.headers_mut().insert("idempotent-replay", HeaderValue::from_static("true"));
        if let Some(at) = self.location.as_deref().and_then(|l| HeaderValue::from_str(l).ok()) {
            r.headers_mut().insert(axum::http::header::LOCATION, at);
        }
        r
    }
}

/// What a request with an `Idempotency-Key` may do.
pub enum Claimed<'a> {
    /// Go on, and answer through the guard.
    Fresh(IdempotencyGuard<'a>),
    /// The answer to the same request before.
    Replay(Response),
    /// The answer to a request that started the same: replay it if the rest of this
    /// request, once read, is the same as that one's (`rest`), else refuse the key (422).
    Check {
        /// The rest of the first request's fingerprint.
        rest: String,
        /// Its answer.
        replay: Response,
    },
}

/// A claimed key; dropped without [`IdempotencyGuard::answer`] (the request failed), it frees
/// the key.
pub struct IdempotencyGuard<'a> {
    owner: &'a Idempotency,
    key: String,
    answered: bool,
}

impl IdempotencyGuard<'_> {
    /// Remembers the answer to the claimed key: its status, body and `Location`, and for a
    /// request whose fingerprint was known only in part when it started, the `rest`.
    pub fn answer(mut self, status: StatusCode, body: Value, location: Option<String>, rest: Option<String>) {
        let mut map = self.owner.0.lock().expect("idempotency lock");
        if let Some(claim) = map.get_mut(&self.key) {
            claim.answer = Some(Answer { status, body, location, rest });
            claim.at = Instant::now();
        }
        self.answered = true;
    }
}

impl Drop for IdempotencyGuard<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.owner.0.lock().expect("idempotency lock").remove(&self.key);
        }
    }
}

impl Idempotency {
    /// Claims `key` for a request with `fingerprint`, or replays the answer to it.
    pub fn claim(&self, key: String, fingerprint: String) -> ApiResult<Claimed<'_>> {
        let mut map = self.0.lock().expect("idempotency lock");
        if let Some(claim) = map.get(&key).filter(|c| c.at.elapsed() < IDEMPOTENCY_TTL) {
            if claim.fingerprint != fingerprint {
                return Err(ApiError::key_reused(
                    "This Idempotency-Key was used for a different request; use a new key for a new request",
                ));
            }
            let Some(answer) = &claim.answer else {
                return Err(ApiError::in_progress(
                    "A request with this Idempotency-Key is still being processed; retry when it has answered",
                ));
            };
            return Ok(match &answer.rest {
                Some(rest) => Claimed::Check { rest: rest.clone(), replay: answer.replay() },
                None => Claimed::Replay(answer.replay()),
            });
        }
        if map.len() >= IDEMPOTENCY_MAX {
            map.retain(|_, c| c.at.elapsed() < IDEMPOTENCY_TTL);
            if map.len() >= IDEMPOTENCY_MAX
                && let Some(oldest) = map.iter().min_by_key(|(_, c)| c.at).map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(key.clone(), Claim { fingerprint, answer: None, at: Instant::now() });
        Ok(Claimed::Fresh(IdempotencyGuard { owner: self, key, answered: false }))
    }
}

/// The caller's `Idempotency-Key`, scoped to the caller (its unique id) and the resource
/// posted to, so that no key ever replays another caller's or another resource's answer.
pub fn idempotency_key(headers: &HeaderMap, who: &Principal, scope: &str) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let v = v.to_str().map_err(|_| ApiError::bad_request("The Idempotency-Key header is not readable"))?;
    if v.is_empty() || v.len() > 255 {
        return Err(ApiError::bad_request("An Idempotency-Key has 1 to 255 characters"));
    }
    Ok(Some(format!("{}\u{0}{scope}\u{0}{v}", who.id)))
}

/// Claims the request's `Idempotency-Key`, if it has one: `Ok(Err(replay))` answers at once.
/// For a request whose whole fingerprint is known when it starts.
pub fn claim_key<'a>(
    app: &'a App,
    key: Option<String>,
    fingerprint: impl FnOnce() -> String,
) -> ApiResult<Result<Option<IdempotencyGuard<'a>>, Response>> {
    let Some(key) = key else { return Ok(Ok(None)) };
    Ok(match app.idempotency.claim(key, fingerprint())? {
        Claimed::Fresh(guard) => Ok(Some(guard)),
        Claimed::Replay(r) | Claimed::Check { replay: r, .. } => Err(r),
    })
}

/// An upload's claim on its `Idempotency-Key`: the guard of a first request, or what a
/// retry is checked against once its body was read ([`UploadKey::settle`]).
pub enum UploadKey<'a> {
    /// No key.
    None,
    /// The first request with the key.
    Fresh(IdempotencyGuard<'a>),
    /// A retry: the first request's rest and answer.
    Retry(String, Response),
}

impl<'a> UploadKey<'a> {
    /// Claims the key for an upload whose query and media type are `start`.
    pub fn claim(app: &'a App, key: Option<String>, start: String) -> ApiResult<UploadKey<'a>> {
        let Some(key) = key else { return Ok(UploadKey::None) };
        Ok(match app.idempotency.claim(key, start)? {
            Claimed::Fresh(guard) => UploadKey::Fresh(guard),
            // Answered without a rest: not an upload's answer; never the same request.
            Claimed::Replay(_) => {
                return Err(ApiError::key_reused(
                    "This Idempotency-Key was used for a different request; use a new key for a new request",
                ));
            }
            Claimed::Check { rest, replay } => UploadKey::Retry(rest, replay),
        })
    }

    /// Whether this is a retry of a request answered before (its checks of the state are
    /// the first request's; it is answered as that one was, or refused).
    pub fn is_retry(&self) -> bool {
        matches!(self, UploadKey::Retry(..))
    }

    /// Once the body is read: for a retry, its answer when `rest` (the upload's fields and
    /// the digest of its bytes) is the first request's, else the key is refused (422);
    /// for a first request, its guard.
    pub fn settle(self, rest: &str) -> ApiResult<Result<Option<IdempotencyGuard<'a>>, Response>> {
        match self {
            UploadKey::None => Ok(Ok(None)),
            UploadKey::Fresh(guard) => Ok(Ok(Some(guard))),
            UploadKey::Retry(first, replay) if first == rest => Ok(Err(replay)),
            UploadKey::Retry(..) => Err(ApiError::key_reused(
                "This Idempotency-Key was used for an upload with other bytes or fields; use a new key for a new upload",
            )),
        }
    }
}
