//! When to try a call again, and how long to wait first. Pure functions, unit-tested.
//!
//! What is retried, and why:
//! - the connection could not be made (refused, DNS, connect timeout): the request never left,
//!   so any call may be sent again;
//! - 429 Too Many Requests and 503 Service Unavailable: the server refused before acting, so any
//!   call may be sent again, after `Retry-After` when the server gives one;
//! - 500, 502 and 504, and an answer lost after the request was sent (timeout, reset): the
//!   server may have acted, so only idempotent calls are sent again. A non-idempotent call ends
//!   with "outcome unknown" and the caller reads state before doing anything else.
//!
//! Waits grow exponentially from `initial_backoff` up to `max_backoff`, with jitter so that
//! many clients do not return at the same instant. A `Retry-After` (seconds or an HTTP date)
//! replaces the computed wait; one longer than `max_retry_after` ends the retries.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// Timeouts and the retry policy of every HTTP call (CSP, TMC and Kubernetes).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for a whole request: sending, waiting, reading the answer.
    pub request_timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Wait before the first retry (before jitter).
    pub initial_backoff: Duration,
    /// Cap of the computed wait.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a server asking for more ends the retries.
    pub max_retry_after: Duration,
    /// Items asked for per list call (TMC `pagination.size`, Kubernetes `limit`).
    pub list_page_size: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            list_page_size: 100,
        }
    }
}

impl ClientOptions {
    /// These options with the timeouts `[clients]` of the configuration sets.
    pub fn with_settings(mut self, settings: &crate::config::ClientSettings) -> Self {
        if let Some(ms) = settings.request_timeout_ms {
            self.request_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = settings.connect_timeout_ms {
            self.connect_timeout = Duration::from_millis(ms);
        }
        self
    }
}

/// Whether sending a call twice has the same effect as sending it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and writes whose repetition is harmless (a token exchange, a conditional update).
    Idempotent,
    /// Writes that must not be repeated blindly (an invitation, a PATCH delta, a removal).
    NotIdempotent,
}

/// How one attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// An HTTP answer, with the server's `Retry-After` when it sent one.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No connection was made: the request never left.
    NotSent,
    /// The request may have reached the server, but no complete answer came back.
    AnswerLost,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The outcome is final (success, or an error retrying cannot fix).
    Done,
    /// Wait this long, then send again.
    RetryAfter(Duration),
    /// Retrying is allowed but the budget is spent (or the server asked for too long a wait).
    GiveUp,
    /// A non-idempotent call whose answer was lost: the caller must read state.
    OutcomeUnknown,
}

/// `retries_done` is how many retries already happened (0 after the first attempt).
pub fn decide(
    outcome: AttemptOutcome,
    idempotency: Idempotency,
    retries_done: u32,
    options: &ClientOptions,
) -> Decision {
    let (retryable, server_wait) = match outcome {
        AttemptOutcome::NotSent => (true, None),
        AttemptOutcome::Status {
            status: 429 | 503,
            retry_after,
        } => (true, retry_after),
        AttemptOutcome::Status {
            status: 500 | 502 | 504,
            retry_after,
        } => (idempotency == Idempotency::Idempotent, retry_after),
        AttemptOutcome::Status { .. } => return Decision::Done,
        AttemptOutcome::AnswerLost if idempotency == Idempotency::Idempotent => (true, None),
        AttemptOutcome::AnswerLost => return Decision::OutcomeUnknown,
    };
    if !retryable {
        return Decision::Done;
    }
    if retries_done >= options.max_retries {
        return Decision::GiveUp;
    }
    match server_wait {
        Some(wait) if wait > options.max_retry_after => Decision::GiveUp,
        Some(wait) => Decision::RetryAfter(wait + small_jitter(wait)),
        None => Decision::RetryAfter(backoff(retries_done, options)),
    }
}

/// Exponential backoff with "equal jitter": half the step is fixed, half random, so a retry
/// never comes immediately and a crowd of clients spreads out.
pub fn backoff(retries_done: u32, options: &ClientOptions) -> Duration {
    let step = options
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(retries_done.min(16)))
        .min(options.max_backoff);
    let half = step / 2;
    let jitter_ms = rand::rng().random_range(0..=half.as_millis().max(1) as u64);
    half + Duration::from_millis(jitter_ms)
}

/// Up to a tenth of the server's wait (at most 500 ms) on top, so clients told the same
/// `Retry-After` do not return in lockstep. Never shorter than what the server asked.
fn small_jitter(wait: Duration) -> Duration {
    let cap = (wait / 10).min(Duration::from_millis(500)).as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(0..=cap))
}

/// Parse a `Retry-After` value: delay seconds or an HTTP date (RFC 9110 10.2.3). A date in
/// the past means "now"; anything unreadable is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ClientOptions {
        ClientOptions {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
            ..ClientOptions::default()
        }
    }

    fn status(status: u16) -> AttemptOutcome {
        AttemptOutcome::Status {
            status,
            retry_after: None,
        }
    }

    use Idempotency::{Idempotent, NotIdempotent};

    #[test]
    fn successes_and_client_errors_are_final() {
        for code in [200, 201, 202, 400, 401, 403, 404, 409, 422] {
            assert_eq!(
                decide(status(code), Idempotent, 0, &options()),
                Decision::Done
            );
        }
    }

    #[test]
    fn refusals_before_acting_are_retried_even_for_writes() {
        for outcome in [status(429), status(503), AttemptOutcome::NotSent] {
            assert!(matches!(
                decide(outcome, NotIdempotent, 0, &options()),
                Decision::RetryAfter(_)
            ));
        }
    }

    #[test]
    fn ambiguous_failures_are_retried_only_for_idempotent_calls() {
        for code in [500, 502, 504] {
            assert!(matches!(
                decide(status(code), Idempotent, 0, &options()),
                Decision::RetryAfter(_)
            ));
            assert_eq!(
                decide(status(code), NotIdempotent, 0, &options()),
                Decision::Done
            );
        }
        assert!(matches!(
            decide(AttemptOutcome::AnswerLost, Idempotent, 0, &options()),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            decide(AttemptOutcome::AnswerLost, NotIdempotent, 0, &options()),
            Decision::OutcomeUnknown
        );
    }

    #[test]
    fn the_retry_budget_is_respected() {
        assert_eq!(
            decide(status(503), Idempotent, 3, &options()),
            Decision::GiveUp
        );
    }

    #[test]
    fn retry_after_replaces_the_backoff_and_too_long_a_wait_gives_up() {
        let asked = |secs| AttemptOutcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(secs)),
        };
        match decide(asked(2), Idempotent, 0, &options()) {
            Decision::RetryAfter(wait) => {
                assert!(wait >= Duration::from_secs(2));
                assert!(wait <= Duration::from_millis(2200));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decide(asked(6), Idempotent, 0, &options()),
            Decision::GiveUp
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let options = options();
        for _ in 0..50 {
            let first = backoff(0, &options);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let late = backoff(10, &options);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        // 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
