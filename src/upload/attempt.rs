//! One try at one row: a create, a merge or an undo step, with each state
//! change written to the journal before the request that depends on it.
//!
//! An attempt decides the row's fate as far as it can (an outcome, a retry
//! after a delay, or a wait for a new token) and leaves scheduling to the
//! dispatcher.

use compact_str::CompactString;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::journal::{JournalError, JournalWriter, PendingWrite, Resolution, RowState, UndoState};
use super::retry::RetryPolicy;
use crate::api::{
    ApiError, Client, Conflict, CustomerPatch, Merge, email_key, merge_patch, phone_key,
};
use crate::customer::Customer;

/// State shared by every attempt of a session.
#[derive(Debug)]
pub(crate) struct Context {
    pub client: Client,
    pub writer: JournalWriter,
    pub retry: RetryPolicy,
    /// Resolution applied to conflicts as they are found; `None` leaves
    /// them to the user.
    pub on_conflict: Option<Resolution>,
}

/// The work left on one row.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    Create,
    /// Merge the row into the customer it conflicts with. `planned` is the
    /// patch already recorded in the journal, which must be sent as it is.
    Merge {
        conflict: Conflict,
        planned: Option<Box<Merge>>,
    },
    /// Undo a create.
    Delete {
        customer_id: String,
    },
    /// Undo a merge.
    Restore {
        customer_id: String,
        inverse: CustomerPatch,
    },
}

/// One row and the work left on it in this session.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub row: u32,
    pub location: String,
    pub customer: Arc<Customer>,
    pub work: Work,
    /// Whether an earlier create request of the row lost its response.
    pub ambiguous: bool,
    /// Requests sent for the row in this session.
    pub attempts: u32,
    pub first_sent: Option<Instant>,
    /// When the row's first create request was about to leave, over every
    /// session of the run, by this computer's clock.
    pub first_sent_at: Option<jiff::Timestamp>,
    /// The row's state as last counted in the session's progress.
    pub state: RowState,
}

/// Outcome of one attempt. The journal already has the row's new state.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The row reached `RowState`; the write of that state, when it is
    /// still being committed.
    Finished(RowState, Option<PendingWrite>),
    Undone(UndoState),
    /// The row moved to the state given and has more work (`task.work`).
    Continue(RowState),
    /// Try again after `delay`. `overload` when the server reported it is
    /// busy (`429` or `5xx`), which lowers the concurrency; `rate_limited`
    /// for a `429`, which also sets a pace.
    Retry {
        delay: Duration,
        overload: bool,
        rate_limited: bool,
    },
    /// The token was refused; the row waits for a new one.
    Unauthorized,
}

/// Runs the task's next step.
pub(crate) async fn run(context: &Context, task: &mut Task) -> Result<Attempt, JournalError> {
    match task.work.clone() {
        Work::Create => create(context, task).await,
        Work::Merge { conflict, planned } => merge(context, task, conflict, planned).await,
        Work::Delete { customer_id } => delete(context, task, &customer_id).await,
        Work::Restore {
            customer_id,
            inverse,
        } => restore(context, task, &customer_id, &inverse).await,
    }
}

fn count_request(task: &mut Task) {
    task.attempts += 1;
    task.first_sent.get_or_insert_with(Instant::now);
}

async fn create(context: &Context, task: &mut Task) -> Result<Attempt, JournalError> {
    let now = jiff::Timestamp::now();
    context.writer.mark_sending(task.row, now).await?;
    task.first_sent_at.get_or_insert(now);
    count_request(task);
    let result = context
        .client
        .create_customer(&task.location, &task.customer)
        .await;
    match result {
        Ok(record) => {
            let state = RowState::Created {
                customer_id: record.id,
            };
            finish(context, task, state)
        }
        Err(err) => match err.conflict() {
            Some(conflict) => on_conflict(context, task, conflict.clone()).await,
            None => {
                let lost = may_have_created(&err);
                create_failed(context, task, &err, lost).await
            }
        },
    }
}

/// Returns whether a failed create may still have created the customer.
/// That is so when the request was sent and its response lost (a timeout
/// after sending, a reset or closed connection), for a gateway status that
/// can hide a completed request (502, 503, 504), and for a success whose
/// body could not be read.
/// A 500 is taken as the service failing before it stored anything. Should
/// it have stored the customer, the retry's `409` leaves the row a conflict
/// with it, never a duplicate.
fn may_have_created(err: &ApiError) -> bool {
    match err.status() {
        Some(502..=504 | 200..=299) => true,
        Some(_) => false,
        None => err.may_have_reached_server(),
    }
}

/// Ends the task with `state`, queued in the journal; the dispatcher awaits
/// the commit while the next row is sent.
fn finish(context: &Context, task: &Task, state: RowState) -> Result<Attempt, JournalError> {
    let write = context.writer.queue_state(task.row, state.clone());
    Ok(Attempt::Finished(state, Some(write)))
}

/// Handles a failed create: a wait for a new token, a retry, or the row's
/// final failure. `lost` is whether this request may have created the
/// customer.
async fn create_failed(
    context: &Context,
    task: &mut Task,
    err: &ApiError,
    lost: bool,
) -> Result<Attempt, JournalError> {
    task.ambiguous |= lost;
    if err.needs_new_token() {
        context.writer.requeue(task.row, lost).await?;
        return Ok(Attempt::Unauthorized);
    }
    if let Some(retry) = retry_decision(&context.retry, task, err) {
        context.writer.requeue(task.row, lost).await?;
        return Ok(retry);
    }
    let state = RowState::Failed {
        status: err.status(),
        message: failure_message(task, err),
    };
    finish(context, task, state)
}

/// Returns the retry to schedule for a retryable error, or `None` when the
/// error is final or the row's retry budget is spent.
fn retry_decision(policy: &RetryPolicy, task: &Task, err: &ApiError) -> Option<Attempt> {
    if !err.is_retryable() {
        return None;
    }
    let delay = policy.delay(task.attempts, err.retry_after());
    let elapsed = task.first_sent.map_or(Duration::ZERO, |at| at.elapsed());
    if !policy.allows_retry(task.attempts, elapsed, delay) {
        tracing::warn!(
            row = task.row,
            attempts = task.attempts,
            "giving up on the row: {}",
            err.log_summary()
        );
        return None;
    }
    tracing::debug!(
        row = task.row,
        attempt = task.attempts,
        delay_ms = delay.as_millis(),
        "retrying: {}",
        err.log_summary()
    );
    let overload = matches!(err.status(), Some(429 | 500..=599));
    let rate_limited = err.status() == Some(429);
    Some(Attempt::Retry {
        delay,
        overload,
        rate_limited,
    })
}

fn failure_message(task: &Task, err: &ApiError) -> String {
    let mut message = err.user_message();
    if err.is_retryable() {
        message = format!("Gave up after {} attempts. {message}", task.attempts);
    }
    if task.ambiguous {
        message.push_str(
            " An earlier attempt may have created this customer: look for it in Business App \
             before sending the row again.",
        );
    }
    message
}

/// Handles a `409` to a create: the row's own earlier request when the row
/// is ambiguous and the existing customer is the row as sent, else a
/// conflict.
async fn on_conflict(
    context: &Context,
    task: &mut Task,
    conflict: Conflict,
) -> Result<Attempt, JournalError> {
    if task.ambiguous {
        match settle(context, task, &conflict).await {
            Ok(true) => {
                tracing::info!(row = task.row, customer_id = %conflict.existing_id, "an earlier request of the row had created the customer");
                let state = RowState::Created {
                    customer_id: conflict.existing_id,
                };
                return finish(context, task, state);
            }
            Ok(false) => {}
            Err(err) => return create_failed(context, task, &err, false).await,
        }
    }
    resolve_conflict(context, task, conflict).await
}

/// Records a conflict, or resolves it at once when the run has a
/// resolution: skipped, or marked `merging` and handed on as a merge.
async fn resolve_conflict(
    context: &Context,
    task: &mut Task,
    conflict: Conflict,
) -> Result<Attempt, JournalError> {
    match context.on_conflict {
        Some(Resolution::Skip) => {
            let reason = skip_reason(&conflict);
            finish(context, task, RowState::Skipped { reason })
        }
        Some(Resolution::Merge) => {
            let state = RowState::Merging {
                conflict: conflict.clone(),
            };
            context.writer.set_state(task.row, state.clone()).await?;
            task.work = Work::Merge {
                conflict,
                planned: None,
            };
            Ok(Attempt::Continue(state))
        }
        None => {
            let state = RowState::Conflict {
                conflict,
                note: None,
            };
            finish(context, task, state)
        }
    }
}

/// Returns the reason recorded for a conflict the user chose to skip.
pub fn skip_reason(conflict: &Conflict) -> String {
    let what = match conflict.field.as_str() {
        "emailAddresses" => "email address",
        "phoneNumbers" => "phone number",
        _ => "contact",
    };
    format!(
        "Skipped: the {what} {} already belongs to customer {}.",
        conflict.value, conflict.existing_id
    )
}

/// Time the server's clock may be behind this computer's when a record's
/// `createdAt` is compared with the time the row's first request left.
/// The journal stamps that time just before the request, so a customer
/// this row created has a `createdAt` after it on a server whose clock
/// agrees with ours. Clocks of computers kept by NTP differ by well under
/// a second. Five minutes also covers a computer whose clock has drifted
/// or is set by hand. The cost of the margin: a customer entered by hand
/// up to five minutes before the row's first request, and identical to
/// the row, is taken as the row's own.
pub(crate) const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// Returns whether the customer a `409` names is the one this row's lost
/// request created: the same customer as sent, created on the server no
/// earlier than the row's first request (within [`CLOCK_SKEW`]), and named
/// by no other row of the journal.
async fn settle(context: &Context, task: &Task, conflict: &Conflict) -> Result<bool, ApiError> {
    let existing = context.client.get_customer(&conflict.existing_id).await?;
    if !same_as_sent(&existing.customer, &task.customer) {
        return Ok(false);
    }
    if !created_after_first_request(existing.created_at, task.first_sent_at) {
        tracing::debug!(
            row = task.row,
            customer_id = %conflict.existing_id,
            "the customer on file is older than the row's first request"
        );
        return Ok(false);
    }
    // A customer that any row of the journal names already (created by an
    // earlier import of the same file, say) existed before this row's
    // request, whatever its contents.
    let named = context
        .writer
        .other_row_naming(conflict.existing_id.clone(), task.row)
        .await;
    // A journal read that fails here leaves the row a conflict, which is the
    // safe reading: a conflict can be merged, a wrong "created" cannot.
    Ok(matches!(named, Ok(None)))
}

/// Returns whether a record created at `created_at` (server clock) can be
/// the work of a request first sent at `first_sent_at` (our clock). A
/// missing time on either side cannot prove it, so the result is then
/// false and the row stays a conflict.
pub(crate) fn created_after_first_request(
    created_at: Option<jiff::Timestamp>,
    first_sent_at: Option<jiff::Timestamp>,
) -> bool {
    match (created_at, first_sent_at) {
        (Some(created_at), Some(first_sent_at)) => {
            created_at
                >= first_sent_at
                    .saturating_sub(CLOCK_SKEW)
                    .unwrap_or(first_sent_at)
        }
        _ => false,
    }
}

/// Returns whether `existing` has exactly the attributes `sent` had. Emails
/// and phones are compared as the API compares them, tags ignoring case and
/// order, names trimmed, and the address and contact permission as sent. A
/// permission left out counts as the API's default, false.
pub(crate) fn same_as_sent(existing: &Customer, sent: &Customer) -> bool {
    let keys = |items: &[CompactString], key: fn(&str) -> String| {
        let mut keys: Vec<String> = items.iter().map(|item| key(item)).collect();
        keys.sort();
        keys.dedup();
        keys
    };
    let tag_key = |tag: &str| tag.trim().to_lowercase();
    let name =
        |value: &Option<CompactString>| value.as_deref().map(str::trim).unwrap_or("").to_owned();
    let address = |customer: &Customer| {
        customer
            .address
            .clone()
            .filter(|address| !address.is_empty())
    };
    let permission = |customer: &Customer| customer.permission_to_contact.unwrap_or(false);
    keys(&existing.email_addresses, email_key) == keys(&sent.email_addresses, email_key)
        && keys(&existing.phone_numbers, phone_key) == keys(&sent.phone_numbers, phone_key)
        && keys(&existing.tags, tag_key) == keys(&sent.tags, tag_key)
        && name(&existing.given_name) == name(&sent.given_name)
        && name(&existing.family_name) == name(&sent.family_name)
        && address(existing) == address(sent)
        && permission(existing) == permission(sent)
}

/// Merges the row into the existing customer: GET it, record the patch and
/// its inverse, then PATCH. A patch recorded by an earlier attempt is sent
/// as it is, because the customer may already carry it.
async fn merge(
    context: &Context,
    task: &mut Task,
    conflict: Conflict,
    planned: Option<Box<Merge>>,
) -> Result<Attempt, JournalError> {
    count_request(task);
    let merge = match planned {
        Some(merge) => *merge,
        None => {
            let existing = match context.client.get_customer(&conflict.existing_id).await {
                Ok(existing) => existing,
                Err(err) => return merge_failed(context, task, conflict, &err).await,
            };
            let Some(merge) = merge_patch(&existing.customer, &task.customer) else {
                return finish(context, task, RowState::Merged { conflict });
            };
            context
                .writer
                .set_merging(task.row, conflict.clone(), merge.clone())
                .await?;
            task.work = Work::Merge {
                conflict: conflict.clone(),
                planned: Some(Box::new(merge.clone())),
            };
            merge
        }
    };
    match context
        .client
        .update_customer(&conflict.existing_id, &merge.patch)
        .await
    {
        Ok(_) => finish(context, task, RowState::Merged { conflict }),
        Err(err) => merge_failed(context, task, conflict, &err).await,
    }
}

async fn merge_failed(
    context: &Context,
    task: &mut Task,
    conflict: Conflict,
    err: &ApiError,
) -> Result<Attempt, JournalError> {
    if err.needs_new_token() {
        return Ok(Attempt::Unauthorized);
    }
    if let Some(retry) = retry_decision(&context.retry, task, err) {
        return Ok(retry);
    }
    if let Work::Merge {
        planned: Some(merge),
        ..
    } = &task.work
        && err.may_have_reached_server()
    {
        let patch = merge.patch.clone();
        return settle_merge(context, task, conflict, &patch, err).await;
    }
    let note = format!("Merge failed. {}", err.user_message());
    context
        .writer
        .reopen_conflict(task.row, conflict.clone(), note.clone())
        .await?;
    let state = RowState::Conflict {
        conflict,
        note: Some(note),
    };
    Ok(Attempt::Finished(state, None))
}

/// Ends a merge whose retries ran out while its PATCH may have been
/// applied. One GET decides: a customer that already carries every value
/// of the patch is merged. Otherwise the row fails with a message. Either
/// way the patch and its inverse stay in the journal, so undo restores
/// the customer if the PATCH did reach it.
async fn settle_merge(
    context: &Context,
    task: &mut Task,
    conflict: Conflict,
    patch: &CustomerPatch,
    err: &ApiError,
) -> Result<Attempt, JournalError> {
    let applied = match context.client.get_customer(&conflict.existing_id).await {
        Ok(record) => patch.is_applied_to(&record.customer),
        Err(check_err) => {
            tracing::debug!(
                row = task.row,
                "reading the customer after an unconfirmed merge failed: {}",
                check_err.log_summary()
            );
            false
        }
    };
    if applied {
        tracing::info!(row = task.row, customer_id = %conflict.existing_id, "an unconfirmed merge had been applied");
        return finish(context, task, RowState::Merged { conflict });
    }
    tracing::warn!(
        row = task.row,
        customer_id = %conflict.existing_id,
        "merge left unconfirmed after retries: {}",
        err.log_summary()
    );
    let message = format!(
        "The merge into customer {} was not confirmed after {} attempts and may or may not \
         have been applied. {} Undo restores the customer's earlier values either way.",
        conflict.existing_id,
        task.attempts,
        err.user_message()
    );
    let state = RowState::Failed {
        status: err.status(),
        message,
    };
    finish(context, task, state)
}

async fn delete(context: &Context, task: &mut Task, id: &str) -> Result<Attempt, JournalError> {
    count_request(task);
    match context.client.delete_customer(id).await {
        // Already gone (an earlier attempt or a person in Business App).
        Ok(()) | Err(ApiError::NotFound { .. }) => undone(context, task, UndoState::Deleted).await,
        Err(err) => undo_failed(context, task, &err).await,
    }
}

/// Sends the inverse of a merge. Undo deletes before it restores, so a
/// merge into a customer that this run created finds that customer
/// deleted. No request is sent then, and the row counts as restored.
async fn restore(
    context: &Context,
    task: &mut Task,
    id: &str,
    inverse: &CustomerPatch,
) -> Result<Attempt, JournalError> {
    if context.writer.deleted_by_undo(id.to_owned()).await? {
        return undone(context, task, UndoState::Restored).await;
    }
    count_request(task);
    match context.client.update_customer(id, inverse).await {
        Ok(_) => undone(context, task, UndoState::Restored).await,
        Err(err) => undo_failed(context, task, &err).await,
    }
}

async fn undone(context: &Context, task: &Task, state: UndoState) -> Result<Attempt, JournalError> {
    context.writer.set_undo(task.row, state.clone()).await?;
    Ok(Attempt::Undone(state))
}

async fn undo_failed(
    context: &Context,
    task: &mut Task,
    err: &ApiError,
) -> Result<Attempt, JournalError> {
    if err.needs_new_token() {
        return Ok(Attempt::Unauthorized);
    }
    if let Some(retry) = retry_decision(&context.retry, task, err) {
        return Ok(retry);
    }
    let message = err.user_message();
    undone(context, task, UndoState::Failed { message }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(email: &str, phone: &str, given: &str) -> Customer {
        Customer {
            given_name: Some(given.into()),
            email_addresses: vec![email.into()],
            phone_numbers: vec![phone.into()],
            ..Customer::default()
        }
    }

    #[test]
    fn same_as_sent_compares_as_the_api() {
        let mut sent = customer("ann@Example.com", "+13135550100", "Ann");
        sent.tags = vec!["VIP".into(), "Imported 2026-12-04".into()];
        let mut existing = customer("ann@example.com", "+13135550100", "Ann ");
        existing.tags = vec!["imported 2026-12-04".into(), "VIP".into()];
        existing.permission_to_contact = Some(false);
        assert!(same_as_sent(&existing, &sent));

        let other_name = Customer {
            given_name: Some("Anna".into()),
            ..existing.clone()
        };
        assert!(!same_as_sent(&other_name, &sent));
        let other_phone = Customer {
            phone_numbers: vec!["+13135550199".into()],
            ..existing.clone()
        };
        assert!(!same_as_sent(&other_phone, &sent));
        let mut more_emails = existing.clone();
        more_emails
            .email_addresses
            .push("ann.work@example.com".into());
        assert!(!same_as_sent(&more_emails, &sent));
        let other_day = Customer {
            tags: vec!["VIP".into(), "Imported 2026-12-03".into()],
            ..existing.clone()
        };
        assert!(!same_as_sent(&other_day, &sent), "another import's tag");
        let consented = Customer {
            permission_to_contact: Some(true),
            ..existing.clone()
        };
        assert!(!same_as_sent(&consented, &sent));
    }

    #[test]
    fn only_lost_responses_may_have_created() {
        use crate::api::RequestSummary;
        let request = RequestSummary {
            method: reqwest::Method::POST,
            host: "127.0.0.1:8080".to_owned(),
        };
        let server_error = |status| ApiError::ServerError {
            request: request.clone(),
            status,
            detail: None,
        };
        assert!(may_have_created(&server_error(502)));
        assert!(may_have_created(&server_error(504)));
        assert!(!may_have_created(&server_error(500)));
        let lost = ApiError::ResponseLost {
            request: request.clone(),
            reason: "reset".to_owned(),
        };
        assert!(may_have_created(&lost));
        let sent_then_timed_out = ApiError::TimedOut {
            request: request.clone(),
            timeout: Duration::from_secs(1),
            request_sent: true,
        };
        assert!(may_have_created(&sent_then_timed_out));
        let not_connected = ApiError::ConnectionFailed {
            request,
            reason: "connection refused".to_owned(),
        };
        assert!(!may_have_created(&not_connected));
    }

    #[test]
    fn created_at_must_follow_first_request() {
        let sent: jiff::Timestamp = "2026-03-01T12:00:00Z".parse().expect("a time");
        let at = |text: &str| Some(text.parse::<jiff::Timestamp>().expect("a time"));
        assert!(created_after_first_request(
            at("2026-03-01T12:00:01Z"),
            Some(sent)
        ));
        assert!(
            created_after_first_request(at("2026-03-01T11:56:00Z"), Some(sent)),
            "a server clock up to five minutes behind"
        );
        assert!(created_after_first_request(
            at("2026-03-01T11:55:00Z"),
            Some(sent)
        ));
        assert!(!created_after_first_request(
            at("2026-03-01T11:54:59Z"),
            Some(sent)
        ));
        assert!(!created_after_first_request(
            at("2025-12-24T09:00:00Z"),
            Some(sent)
        ));
        assert!(
            !created_after_first_request(None, Some(sent)),
            "no createdAt"
        );
        assert!(!created_after_first_request(
            at("2026-03-01T12:00:01Z"),
            None
        ));
    }

    #[test]
    fn skip_reason_names_value_and_customer() {
        let conflict = Conflict {
            field: "phoneNumbers".to_owned(),
            value: "+13135550100".to_owned(),
            existing_id: "AG-1:CUSTOMER-2".to_owned(),
        };
        assert_eq!(
            skip_reason(&conflict),
            "Skipped: the phone number +13135550100 already belongs to customer AG-1:CUSTOMER-2."
        );
    }
}
