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
    fingerprint: String,
    /// The answer, once there is one; `None` while the first request runs.
    answer: Option<(StatusCode, Value)>,
    at: Instant,
}

/// What a request with an `Idempotency-Key` may do.
pub enum Claimed<'a> {
    /// Go on, and answer through the guard.
    Fresh(IdempotencyGuard<'a>),
    /// The answer to the same request before.
    Replay(Response),
}

/// A claimed key; dropped without [`IdempotencyGuard::answer`] (the request failed), it frees
/// the key.
pub struct IdempotencyGuard<'a> {
    owner: &'a Idempotency,
    key: String,
    answered: bool,
}

impl IdempotencyGuard<'_> {
    /// Remembers the answer to the claimed key.
    pub fn answer(mut self, status: StatusCode, body: Value) {
        let mut map = self.owner.0.lock().expect("idempotency lock");
        if let Some(claim) = map.get_mut(&self.key) {
            claim.answer = Some((status, body));
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
            let Some((status, body)) = &claim.answer else {
                return Err(ApiError::in_progress(
                    "A request with this Idempotency-Key is still being processed; retry when it has answered",
                ));
            };
            let mut r = (*status, Json(body.clone())).into_response();
            r.headers_mut().insert("idempotent-replay", HeaderValue::from_static("true"));
            return Ok(Claimed::Replay(r));
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
pub fn claim_key<'a>(
    app: &'a App,
    key: Option<String>,
    fingerprint: impl FnOnce() -> String,
) -> ApiResult<Result<Option<IdempotencyGuard<'a>>, Response>> {
    let Some(key) = key else { return Ok(Ok(None)) };
    Ok(match app.idempotency.claim(key, fingerprint())? {
        Claimed::Fresh(guard) => Ok(Some(guard)),
        Claimed::Replay(r) => Err(r),
    })
}
