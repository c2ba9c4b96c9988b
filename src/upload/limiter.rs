//! How many requests an upload keeps in flight: additive increase,
//! multiplicative decrease (AIMD), as TCP adapts its window.
//!
//! The limit halves when the server signals overload (`429` or `5xx`) and
//! grows by one after a full limit's worth of successes in a row. Several
//! requests in flight usually meet the same overload, so only the response
//! to a request sent after the last decrease can decrease the limit again.
//! Otherwise one burst of `429`s would drop it straight to 1.

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
    /// the last decrease. Returns whether the limit changed.
    pub fn on_overload(&mut self, ticket: Ticket) -> bool {
        self.successes = 0;
        if ticket.0 < self.decrease_barrier {
            return false;
        }
        self.decrease_barrier = self.next_ticket;
        let halved = (self.limit / 2).max(1);
        let changed = halved != self.limit;
        self.limit = halved;
        changed
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
}
