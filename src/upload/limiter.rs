//! The send rate of an upload: the number of requests in flight, adapted by
//! additive increase and multiplicative decrease (AIMD) as TCP adapts its
//! window, and a pace in requests per second once the server rate-limits.
//!
//! The limit halves when the server signals overload (`429` or `5xx`) and
//! grows by one after a full limit's worth of successes in a row. Several
//! requests in flight usually meet the same overload, so only the response
//! to a request sent after the last decrease can decrease the limit again.
//! Otherwise one burst of `429`s would drop it straight to 1.
//!
//! A rate limit counts requests per second, not requests in flight, and a
//! fast server lets a few requests in flight exceed it: at 50 ms per
//! request, 5 in flight already send 100 a second. So frequent `429`s also
//! set a [`Pacer`] to a little under the rate the server was accepting,
//! which then grows again until `429`s return.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The adaptive concurrency limit of one upload session.
#[derive(Debug, Clone)]
pub struct Limiter {
    limit: usize,
    max: usize,
    /// Successes since the limit last changed.
    successes: usize,
    /// Number of the next request to dispatch.
    next_ticket: u64,
    /// Requests with a lower number were in flight at the last decrease.
    decrease_barrier: u64,
}

/// Identifies a dispatched request, so its response can be distinguished
/// from responses to requests sent after a decrease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

impl Limiter {
    /// Starts at `max` (at least 1): most servers take the default of eight
    /// requests at once, and a server that does not says so at once.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            limit: max,
            max,
            successes: 0,
            next_ticket: 0,
            decrease_barrier: 0,
        }
    }

    /// Returns the number of requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Returns a ticket for a request about to be sent.
    pub fn dispatch(&mut self) -> Ticket {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        ticket
    }

    /// Counts a success; every `limit` successes in a row raise the limit by
    /// one, up to the maximum.
    pub fn on_success(&mut self) {
        self.successes += 1;
        if self.successes >= self.limit {
            self.successes = 0;
            self.limit = (self.limit + 1).min(self.max);
        }
    }

    /// Halves the limit (never below 1) after an overload response to the
    /// request with `ticket`, unless that request was already in flight at
    /// the last decrease. Returns whether the response counted as a new
    /// overload.
    pub fn on_overload(&mut self, ticket: Ticket) -> bool {
        self.successes = 0;
        if ticket.0 < self.decrease_barrier {
            return false;
        }
        self.decrease_barrier = self.next_ticket;
        self.limit = (self.limit / 2).max(1);
        true
    }
}

/// Span over which the accepted rate and the share of `429`s are measured.
const WINDOW: Duration = Duration::from_secs(2);

/// Share of the accepted rate the pace restarts from after a cut.
const PACE_BACKOFF: f64 = 0.9;

/// Growth of the pace per accepted request, in requests per second: at a
/// pace of `p`, `p` accepted requests a second raise it by 5 % each second.
const PACE_GROWTH: f64 = 0.05;

/// Lowest pace, so a session never stops sending for good.
const MIN_PACE: f64 = 0.5;

/// Share of `429`s among the responses of the window from which a `429`
/// cuts the pace.
const CUT_SHARE: f64 = 0.05;

/// Fewest `429`s in the window for a cut, so that a few chance `429`s among
/// few responses do not count as a rate limit.
const CUT_MIN_COUNT: usize = 5;

/// The server's handling of one request, as the pacer counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// The server handled the request (any status but `429`).
    Accepted,
    /// `429`: the server rate-limited the request.
    RateLimited,
    /// No usable response (a timeout, a reset) or a refused token.
    Other,
}

/// Spacing of requests once the server rate-limits the session.
///
/// Without `429`s it does nothing. Once they make up at least 5 % of the
/// responses of the last two seconds (and number five or more), requests
/// leave at most `pace` per second. The pace starts at 90 % of the rate the
/// server accepted over those two seconds and grows by 5 % per second of
/// accepted requests, so it probes the limit again. It is cut at most once
/// per two seconds. The share threshold keeps a server that returns `429`
/// now and then, whatever the rate, from pushing the pace ever lower: with
/// 2 % of `429`s at random the pace is cut about once a minute at most.
#[derive(Debug, Clone)]
pub struct Pacer {
    started: Instant,
    /// Requests per second allowed; `None` until the first cut.
    pace: Option<f64>,
    /// Earliest time the next request may leave.
    next_send: Option<Instant>,
    /// Recent responses, over [`WINDOW`].
    responses: VecDeque<(Instant, Response)>,
    last_cut: Option<Instant>,
}

impl Pacer {
    /// Makes a pacer for a session that started at `started`.
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            pace: None,
            next_send: None,
            responses: VecDeque::new(),
            last_cut: None,
        }
    }

    /// Returns the pace in requests per second, once set.
    pub fn pace(&self) -> Option<f64> {
        self.pace
    }

    /// Returns when the next request may leave; `None` means now.
    pub fn next_send(&self, now: Instant) -> Option<Instant> {
        self.next_send.filter(|at| *at > now)
    }

    /// Records that a request leaves now.
    pub fn on_dispatch(&mut self, now: Instant) {
        if let Some(pace) = self.pace {
            let start = self.next_send.map_or(now, |at| at.max(now));
            self.next_send = Some(start + Duration::from_secs_f64(1.0 / pace));
        }
    }

    /// Records a response: an accepted one raises the pace by
    /// [`PACE_GROWTH`], a `429` may cut it. Returns whether it was cut.
    pub fn on_response(&mut self, now: Instant, response: Response) -> bool {
        self.responses.push_back((now, response));
        self.forget_before(now);
        match response {
            Response::Accepted => {
                if let Some(pace) = self.pace.as_mut() {
                    *pace += PACE_GROWTH;
                }
                false
            }
            Response::RateLimited => self.cut(now),
            Response::Other => false,
        }
    }

    /// Cuts the pace to [`PACE_BACKOFF`] times the accepted rate of the
    /// window (never above the current pace) when `429`s are frequent
    /// enough and the last cut is a window old.
    fn cut(&mut self, now: Instant) -> bool {
        let recent_cut = self
            .last_cut
            .is_some_and(|at| now.duration_since(at) < WINDOW);
        let limited = self.count(Response::RateLimited);
        let share = limited as f64 / self.responses.len().max(1) as f64;
        if recent_cut || limited < CUT_MIN_COUNT || share < CUT_SHARE {
            return false;
        }
        self.last_cut = Some(now);
        let span = now.duration_since(self.started).min(WINDOW);
        let accepted = if span.is_zero() {
            MIN_PACE
        } else {
            self.count(Response::Accepted) as f64 / span.as_secs_f64()
        };
        let ceiling = self.pace.unwrap_or(f64::INFINITY);
        self.pace = Some((accepted.min(ceiling) * PACE_BACKOFF).max(MIN_PACE));
        true
    }

    fn count(&self, response: Response) -> usize {
        self.responses
            .iter()
            .filter(|(_, kind)| *kind == response)
            .count()
    }

    fn forget_before(&mut self, now: Instant) {
        while self
            .responses
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > WINDOW)
        {
            self.responses.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_max_and_halves() {
        let mut limiter = Limiter::new(8);
        assert_eq!(limiter.limit(), 8);
        let ticket = limiter.dispatch();
        assert!(limiter.on_overload(ticket));
        assert_eq!(limiter.limit(), 4);
    }

    #[test]
    fn burst_of_overloads_halves_once() {
        let mut limiter = Limiter::new(8);
        let tickets: Vec<Ticket> = (0..8).map(|_| limiter.dispatch()).collect();
        for ticket in tickets {
            limiter.on_overload(ticket);
        }
        assert_eq!(limiter.limit(), 4);

        let later = limiter.dispatch();
        limiter.on_overload(later);
        assert_eq!(limiter.limit(), 2);
    }

    #[test]
    fn never_below_one() {
        let mut limiter = Limiter::new(2);
        for _ in 0..5 {
            let ticket = limiter.dispatch();
            limiter.on_overload(ticket);
        }
        assert_eq!(limiter.limit(), 1);
    }

    #[test]
    fn climbs_by_one_per_window_of_successes() {
        let mut limiter = Limiter::new(8);
        let ticket = limiter.dispatch();
        limiter.on_overload(ticket);
        assert_eq!(limiter.limit(), 4);
        for _ in 0..3 {
            limiter.on_success();
        }
        assert_eq!(limiter.limit(), 4);
        limiter.on_success();
        assert_eq!(limiter.limit(), 5);
        for _ in 0..100 {
            limiter.on_success();
        }
        assert_eq!(limiter.limit(), 8);
    }

    #[test]
    fn zero_max_means_one() {
        assert_eq!(Limiter::new(0).limit(), 1);
    }

    /// Returns a pacer for a session that started `secs` seconds before
    /// the returned time.
    fn pacer_after(secs: u64) -> (Pacer, Instant) {
        let started = Instant::now();
        (Pacer::new(started), started + Duration::from_secs(secs))
    }

    #[test]
    fn pacer_idle_until_rate_limited() {
        let (mut pacer, now) = pacer_after(4);
        pacer.on_dispatch(now);
        pacer.on_dispatch(now);
        assert_eq!(pacer.next_send(now), None);
        assert_eq!(pacer.pace(), None);
    }

    #[test]
    fn pacer_starts_below_accepted_rate() {
        let (mut pacer, now) = pacer_after(4);
        // 100 accepted over the last 2 seconds (50 per second), then 429s.
        for index in 0..100 {
            let at = now - Duration::from_millis(2000 - 20 * index);
            pacer.on_response(at, Response::Accepted);
        }
        // The sixth 429 reaches 5 % of the responses.
        for _ in 0..5 {
            assert!(!pacer.on_response(now, Response::RateLimited));
        }
        assert!(pacer.on_response(now, Response::RateLimited));
        let pace = pacer.pace().expect("a pace");
        assert!((pace - 45.0).abs() < 1.0, "pace {pace}");

        pacer.on_dispatch(now);
        let next = pacer.next_send(now).expect("spacing");
        let spacing = next.duration_since(now);
        assert!(spacing > Duration::from_millis(20), "{spacing:?}");
        assert!(spacing < Duration::from_millis(25), "{spacing:?}");
    }

    #[test]
    fn pacer_ignores_rare_429s() {
        let (mut pacer, now) = pacer_after(4);
        for _ in 0..200 {
            pacer.on_response(now, Response::Accepted);
        }
        for _ in 0..9 {
            assert!(!pacer.on_response(now, Response::RateLimited));
        }
        assert_eq!(pacer.pace(), None, "9 of 209 is under 5 %");
    }

    #[test]
    fn pacer_grows_with_accepted_requests() {
        let (mut pacer, now) = pacer_after(2);
        for _ in 0..20 {
            pacer.on_response(now, Response::Accepted);
        }
        for _ in 0..5 {
            pacer.on_response(now, Response::RateLimited);
        }
        let before = pacer.pace().expect("a pace");
        for _ in 0..10 {
            pacer.on_response(now, Response::Accepted);
        }
        let after = pacer.pace().expect("a pace");
        assert!(after > before + 0.45, "{before} then {after}");
        assert!(after < before + 0.55, "{before} then {after}");
    }

    #[test]
    fn pacer_cut_once_per_window() {
        let (mut pacer, now) = pacer_after(2);
        for _ in 0..200 {
            pacer.on_response(now, Response::Accepted);
        }
        for _ in 0..11 {
            pacer.on_response(now, Response::RateLimited);
        }
        let first = pacer.pace().expect("a pace");
        let soon = now + Duration::from_secs(1);
        for _ in 0..10 {
            assert!(!pacer.on_response(soon, Response::RateLimited));
        }
        assert_eq!(pacer.pace(), Some(first));

        let later = now + Duration::from_secs(3);
        for _ in 0..200 {
            pacer.on_response(later, Response::Accepted);
        }
        let mut cut = false;
        for _ in 0..10 {
            cut |= pacer.on_response(later, Response::RateLimited);
        }
        assert!(cut);
        // 100 accepted per second and a grown pace of 100: 90 % of 100.
        let second = pacer.pace().expect("a pace");
        assert!((first - 90.0).abs() < 0.5, "first {first}");
        assert!((second - 90.0).abs() < 0.5, "second {second}");
    }
}
