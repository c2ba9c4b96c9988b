//! `customer-importer import`: uploads a file's ready rows to a business
//! location, resumes an interrupted upload (`--resume`) or undoes one
//! (`--undo RUN_ID`).
//!
//! Progress goes to stderr, one line a second (rewritten in place on a
//! terminal). The first Ctrl-C cancels cleanly: requests in flight finish
//! and the run stays resumable. A second Ctrl-C exits at once, which is
//! also safe because the journal is written before each request.
//!
//! A new import of a file that has an unfinished run to the same location
//! is refused: it would send that run's rows again, and they would come
//! back as conflicts with the customers the first run created. The user
//! continues the run with `--resume`, or gives it up with
//! `--discard-unfinished`.
//!
//! Exit codes:
//! - 0 when every row that was sent, or was to be sent, ended created,
//!   merged, skipped or as a conflict. Invalid rows are skipped and do not
//!   count against it.
//! - 1 when such a row failed or was left unsent.
//! - 2 when the import could not run at all.
//! - 130 after a second Ctrl-C.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};

use super::mapping::mapping_and_options;
use super::{ConflictAction, ImportArgs};
use crate::api::{ApiError, Client, ClientOptions, is_loopback};
use crate::check::{CheckOptions, RowCheck, check_table};
use crate::environment::Environment;
use crate::fields::Mapping;
use crate::keychain::{Keychain, SecretStore as _, token_account};
use crate::paths::AppPaths;
use crate::progress::Progress;
use crate::report::{ReportFile, write_reports};
use crate::secret::Secret;
use crate::source::{self, ReadOptions};
use crate::table::Table;
use crate::upload::journal::Journal;
use crate::upload::{
    Counts, PauseReason, Resolution, RunInfo, RunOptions, RunSummary, Session, SessionEnd,
    SessionKind, SessionSettings, Target, UploadEvent, UploadPlan, UploadProgress, Uploader,
    run_base_url,
};

/// Base URL on which `customer-importer sandbox` listens by default.
pub const SANDBOX_BASE_URL: &str = "http://127.0.0.1:8080/business";

/// Environment variable that contains the API token.
pub const TOKEN_VARIABLE: &str = "VENDASTA_TOKEN";

const EXIT_ROWS_LEFT: u8 = 1;
const EXIT_CANNOT_RUN: u8 = 2;
const EXIT_INTERRUPTED: u8 = 130;

/// Time between two progress lines.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

pub fn run(args: ImportArgs, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let handle = runtime.handle().clone();
    match runtime.block_on(import(args, handle)) {
        Ok(code) => code,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            writeln!(stderr, "error: {err:#}").ok();
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

/// Target of the import and the token to send.
struct Connection {
    environment: Environment,
    base_url: String,
    token: Secret,
    /// Whether the token came from the keychain, which can be read again
    /// when the server refuses it.
    from_keychain: bool,
}

impl Connection {
    /// Returns the base URL of the sandbox when `--env sandbox` names it,
    /// where runs recorded on the sandbox are resumed and undone.
    fn sandbox_base_url(&self) -> Option<String> {
        (self.environment == Environment::Sandbox).then(|| self.base_url.clone())
    }

    /// Fails unless sessions of the recorded run would send where `--env`
    /// points, so that the token of one environment never goes to another.
    fn check_run_target(&self, info: &RunInfo) -> anyhow::Result<()> {
        let run_url = run_base_url(info, self.sandbox_base_url().as_deref());
        if run_url != self.base_url {
            bail!(
                "run {} sent to {run_url}, not {}: pass --env {}",
                info.id,
                self.base_url,
                env_arg(&info.environment, &info.base_url)
            );
        }
        Ok(())
    }
}

/// Returns the `--env` value that names an environment.
fn env_arg(environment: &Environment, base_url: &str) -> String {
    match environment {
        Environment::Sandbox => "sandbox".to_owned(),
        Environment::Demo => "demo".to_owned(),
        Environment::Production => "prod".to_owned(),
        Environment::Custom(_) => base_url.to_owned(),
    }
}

async fn import(args: ImportArgs, handle: tokio::runtime::Handle) -> anyhow::Result<ExitCode> {
    let paths = AppPaths::from_env().ok_or_else(|| {
        anyhow!(
            "there is no home folder for the run journal; set CUSTOMER_IMPORTER_HOME to a folder"
        )
    })?;
    let connection = connect(&args).await?;
    let settings = SessionSettings {
        max_concurrency: usize::from(args.max_concurrency),
        client: client_options(&args),
        sandbox_base_url: connection.sandbox_base_url(),
        ..SessionSettings::default()
    };
    let uploader = Uploader::new(handle, paths.journal_file(), settings);

    if let Some(run_id) = args.undo.clone() {
        return undo(&args, &uploader, &connection, &run_id).await;
    }
    let session = start_or_resume(&args, &uploader, &connection).await?;
    finish(&args, &uploader, session, &connection).await
}

fn client_options(args: &ImportArgs) -> ClientOptions {
    let timeout = Duration::from_secs(args.timeout_secs);
    ClientOptions {
        timeout,
        connect_timeout: timeout.min(ClientOptions::default().connect_timeout),
    }
}

/// Resolves `--env` and finds the token: `VENDASTA_TOKEN`, else the
/// keychain entry of the environment. The sandbox accepts any token, so it
/// gets a placeholder when none is saved.
async fn connect(args: &ImportArgs) -> anyhow::Result<Connection> {
    let environment = Environment::from_arg(&args.env).map_err(|message| anyhow!(message))?;
    let base_url = environment
        .base_url()
        .unwrap_or(SANDBOX_BASE_URL)
        .to_owned();
    if let Some(token) = std::env::var(TOKEN_VARIABLE)
        .ok()
        .map(Secret::new)
        .filter(|token| !token.is_empty())
    {
        return Ok(Connection {
            environment,
            base_url,
            token,
            from_keychain: false,
        });
    }
    let saved = read_keychain(&environment).await?;
    let (token, from_keychain) = match (saved, &environment) {
        (Some(token), _) => (token, true),
        (None, Environment::Sandbox) => (Secret::new("sandbox"), false),
        (None, _) => bail!(
            "no API token: set the {TOKEN_VARIABLE} environment variable, or save a token for \
             the {} environment in the app",
            environment.label()
        ),
    };
    Ok(Connection {
        environment,
        base_url,
        token,
        from_keychain,
    })
}

/// Reads the environment's saved token. A keychain that cannot be used
/// counts as no saved token, after a sentence on stderr that reports it.
/// The sandbox stays quiet about it, because it works without a saved
/// token.
async fn read_keychain(environment: &Environment) -> anyhow::Result<Option<Secret>> {
    let account = token_account(environment);
    let read = tokio::task::spawn_blocking(move || Keychain::system().get(&account))
        .await
        .context("reading the keychain stopped unexpectedly")?;
    match read {
        Ok(token) => Ok(token.filter(|token| !token.is_empty())),
        Err(err) if *environment == Environment::Sandbox => {
            tracing::debug!("the keychain could not be read: {err}");
            Ok(None)
        }
        Err(err) => {
            say(&format!(
                "The keychain could not be read ({err}), so the token can come only from \
                 {TOKEN_VARIABLE}."
            ));
            Ok(None)
        }
    }
}

/// Reads the file, then starts a new run of its ready rows or resumes the
/// unfinished run of the same file and location. Refuses a new run while
/// such an unfinished run exists, unless `--discard-unfinished` gives it up.
async fn start_or_resume(
    args: &ImportArgs,
    uploader: &Uploader,
    connection: &Connection,
) -> anyhow::Result<Session> {
    let table = read_table(args).await?;
    let unfinished = find_resumable(uploader, &table, &args.location).await?;
    if args.resume {
        return resume(args, uploader, connection, unfinished, &table).await;
    }
    if let Some(run) = unfinished {
        if !args.discard_unfinished {
            bail!(unfinished_message(&run, &table));
        }
        uploader.discard_unfinished(&run.info.id).await?;
        say(&format!(
            "Run {} is marked abandoned; its rows keep their outcomes and --undo {} still \
             undoes what it created.",
            run.info.id, run.info.id
        ));
    }
    let (mapping, check_options) =
        mapping_and_options(&args.read, &table).map_err(|message| anyhow!(message))?;
    check_access(connection, &args.location, args.timeout_secs).await?;
    let plan = build_plan(args, connection, table, mapping, check_options).await?;
    let ready = plan.ready_rows();
    say(&format!(
        "Sending {ready} ready rows of {} to {} at {}.",
        plan.rows.len(),
        args.location,
        connection.base_url
    ));
    let invalid = plan.rows.len() - ready;
    if invalid > 0 {
        say(&format!(
            "{invalid} rows have errors and are not sent; they count as skipped and the skipped \
             rows report says what to fix."
        ));
    }
    Ok(uploader.start(plan, connection.token.clone()))
}

/// Resumes the unfinished run of the file, after checking that it goes
/// where `--env` points.
async fn resume(
    args: &ImportArgs,
    uploader: &Uploader,
    connection: &Connection,
    unfinished: Option<RunSummary>,
    table: &Table,
) -> anyhow::Result<Session> {
    let Some(run) = unfinished else {
        bail!(
            "there is no unfinished import of {} to {}: run the command without --resume to \
             start one",
            table.source.file_name(),
            args.location
        );
    };
    connection.check_run_target(&run.info)?;
    check_access(connection, &args.location, args.timeout_secs).await?;
    say(&format!(
        "Resuming run {} ({} rows left to send).",
        run.info.id,
        run.counts.unfinished()
    ));
    Ok(uploader.resume(&run.info.id, connection.token.clone()))
}

/// Returns the reason a new run is refused: the unfinished run of the same
/// file and location, and the two ways on.
fn unfinished_message(run: &RunSummary, table: &Table) -> String {
    let started = run
        .info
        .started_at
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M");
    format!(
        "run {} of {} to {}, started {started}, is unfinished ({}): add --resume to continue \
         it, or --discard-unfinished to mark it abandoned and start a new run, in which the rows \
         it already sent come back as conflicts",
        run.info.id,
        table.source.file_name(),
        run.info.location,
        outcome_counts(&run.counts)
    )
}

/// Returns the newest unfinished run of the table's file to `location`.
async fn find_resumable(
    uploader: &Uploader,
    table: &Table,
    location: &str,
) -> anyhow::Result<Option<RunSummary>> {
    let journal_path = uploader.journal_path().to_path_buf();
    let fingerprint = table.source.fingerprint.clone();
    let location = location.to_owned();
    let found = tokio::task::spawn_blocking(move || {
        Journal::open(&journal_path)?.find_resumable(&fingerprint, &location)
    })
    .await
    .context("reading the run journal stopped unexpectedly")??;
    Ok(found)
}

async fn read_table(args: &ImportArgs) -> anyhow::Result<Table> {
    let path = args.read.file.clone();
    let options = ReadOptions {
        sheet: args.read.sheet.clone(),
    };
    let table =
        tokio::task::spawn_blocking(move || source::read(&path, &options, &Progress::new()))
            .await
            .context("reading the file stopped unexpectedly")?
            .map_err(|err| anyhow!(err.user_message()))?;
    Ok(table)
}

/// Checks the table's rows and builds the plan of a new run.
async fn build_plan(
    args: &ImportArgs,
    connection: &Connection,
    table: Table,
    mapping: Mapping,
    check_options: CheckOptions,
) -> anyhow::Result<UploadPlan> {
    let (table, checks) = check_rows(table, mapping.clone(), check_options.clone()).await?;
    if checks.is_empty() {
        bail!(
            "no customer rows found below the header (row {}) of {}",
            table.header_row,
            table.source.file_name()
        );
    }
    let target = Target {
        environment: connection.environment.clone(),
        base_url: connection.base_url.clone(),
        location: args.location.clone(),
    };
    let mut plan = UploadPlan::new(&table, checks, mapping, check_options, target);
    if args.no_batch_tag {
        plan.batch_tag = None;
    }
    plan.options = RunOptions {
        check_existing: args.check_existing,
        on_conflict: args.on_conflict.map(|action| match action {
            ConflictAction::Skip => Resolution::Skip,
            ConflictAction::Merge => Resolution::Merge,
        }),
    };
    Ok(plan)
}

async fn check_rows(
    table: Table,
    mapping: Mapping,
    options: CheckOptions,
) -> anyhow::Result<(Table, Vec<RowCheck>)> {
    tokio::task::spawn_blocking(move || {
        let checks = check_table(&table, &mapping, &options, &Progress::new());
        (table, checks)
    })
    .await
    .context("checking the rows stopped unexpectedly")
}

/// Checks the token and the location with one small request before any
/// row is sent, so a wrong token, location or address stops the import
/// with one clear message.
async fn check_access(
    connection: &Connection,
    location: &str,
    timeout_secs: u64,
) -> anyhow::Result<()> {
    let options = ClientOptions {
        timeout: Duration::from_secs(timeout_secs),
        ..ClientOptions::default()
    };
    let client = Client::new(&connection.base_url, connection.token.clone(), options)
        .map_err(|err| anyhow!(err.user_message()))?;
    match client.check_access(location).await {
        Ok(()) => Ok(()),
        Err(ApiError::ConnectionFailed { .. })
            if url::Url::parse(&connection.base_url).is_ok_and(|url| is_loopback(&url)) =>
        {
            bail!(
                "no server is listening at {}: start the sandbox with `customer-importer sandbox` in \
                 another terminal, or pass its address with --env",
                connection.base_url
            )
        }
        Err(err) => bail!(err.user_message()),
    }
}

/// Follows a session to its end, then writes the reports and prints the
/// outcome.
async fn finish(
    args: &ImportArgs,
    uploader: &Uploader,
    session: Session,
    connection: &Connection,
) -> anyhow::Result<ExitCode> {
    let run_id = session.run_id().to_owned();
    let end = match follow(session, connection).await? {
        Followed::Ended(end) => end,
        Followed::Interrupted => return Ok(ExitCode::from(EXIT_INTERRUPTED)),
    };
    let report_dir = report_dir(args);
    let reports = write_run_reports(uploader.journal_path(), &run_id, &report_dir).await;
    print_outcome(&end, &reports);
    print_next_steps(args, &end);
    let counts = &end.counts;
    let rows_left = counts.failed > 0 || counts.unfinished() > 0 || end.cancelled;
    Ok(if rows_left {
        ExitCode::from(EXIT_ROWS_LEFT)
    } else {
        ExitCode::SUCCESS
    })
}

/// Returns `--report-dir`, or else the folder of the imported file.
fn report_dir(args: &ImportArgs) -> PathBuf {
    args.report_dir.clone().unwrap_or_else(|| {
        args.read
            .file
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    })
}

async fn write_run_reports(
    journal_path: &Path,
    run_id: &str,
    dir: &Path,
) -> Result<Vec<ReportFile>, String> {
    let (journal_path, run_id, dir) = (
        journal_path.to_path_buf(),
        run_id.to_owned(),
        dir.to_path_buf(),
    );
    let written = tokio::task::spawn_blocking(move || {
        let journal = Journal::open(&journal_path)?;
        write_reports(&journal, &run_id, &dir).map_err(anyhow::Error::from)
    })
    .await;
    match written {
        Ok(Ok(files)) => Ok(files),
        Ok(Err(err)) => Err(format!("{err:#}")),
        Err(err) => Err(err.to_string()),
    }
}

/// End of following a session.
enum Followed {
    Ended(SessionEnd),
    /// A second Ctrl-C: the process exits without waiting.
    Interrupted,
}

/// Prints the session's progress until it ends, cancelling it on Ctrl-C.
async fn follow(mut session: Session, connection: &Connection) -> anyhow::Result<Followed> {
    let control = session.control();
    let mut printer = ProgressPrinter::new();
    // One listener lives across iterations: a Ctrl-C that arrives while an
    // event is handled would be lost by a listener made anew each time.
    let mut interrupt = Box::pin(tokio::signal::ctrl_c());
    let mut interrupts = 0;
    loop {
        tokio::select! {
            event = session.next_event() => {
                let Some(event) = event else {
                    bail!("the upload stopped without saying why; run the command again with --resume");
                };
                match event {
                    UploadEvent::Finished(end) => {
                        printer.clear();
                        return Ok(Followed::Ended(end));
                    }
                    UploadEvent::Failed { message, .. } => {
                        printer.clear();
                        bail!(message)
                    }
                    UploadEvent::TokenRequired { message } => {
                        printer.clear();
                        on_token_required(&control, connection, &message).await;
                    }
                    other => printer.show(&other),
                }
            }
            signal = &mut interrupt => {
                signal.context("listening for Ctrl-C failed")?;
                interrupt = Box::pin(tokio::signal::ctrl_c());
                interrupts += 1;
                printer.clear();
                if interrupts > 1 {
                    say("Stopped. Run the same command with --resume to continue.");
                    return Ok(Followed::Interrupted);
                }
                say("Cancelling: waiting for the requests in flight (press Ctrl-C again to stop at once).");
                control.cancel();
            }
        }
    }
}

/// Handles a refused token: a changed keychain entry is used at once;
/// otherwise the run is cancelled, resumable once a new token is saved.
async fn on_token_required(
    control: &crate::upload::UploadControl,
    connection: &Connection,
    message: &str,
) {
    if connection.from_keychain
        && let Ok(Some(saved)) = read_keychain(&connection.environment).await
        && saved != connection.token
    {
        say("The token was refused; using the newer token saved in the keychain.");
        control.set_token(saved);
        return;
    }
    say(message);
    say(&format!(
        "Save a new token (in the app, or in {TOKEN_VARIABLE}) and run the same command with \
         --resume to continue where it stopped."
    ));
    control.cancel();
}

/// Deletes what a run created and restores what it merged.
async fn undo(
    args: &ImportArgs,
    uploader: &Uploader,
    connection: &Connection,
    run_id: &str,
) -> anyhow::Result<ExitCode> {
    check_undo_target(args, uploader, connection, run_id).await?;
    let plan = uploader.undo_plan(run_id).await?;
    if plan.is_empty() {
        say(&format!("Run {run_id} has nothing left to undo."));
        return Ok(ExitCode::SUCCESS);
    }
    check_access(connection, &args.location, args.timeout_secs).await?;
    say(&format!(
        "Undoing run {run_id}: deleting {} customers it created and restoring {} it merged into.",
        plan.deletes, plan.restores
    ));

    let session = uploader.undo(run_id, connection.token.clone());
    let end = match follow(session, connection).await? {
        Followed::Ended(end) => end,
        Followed::Interrupted => return Ok(ExitCode::from(EXIT_INTERRUPTED)),
    };
    print_outcome(&end, &Ok(Vec::new()));
    let incomplete = end.counts.undo_failed > 0 || end.cancelled;
    Ok(if incomplete {
        ExitCode::from(EXIT_ROWS_LEFT)
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks that the run to undo went to the location and address given, so
/// a mistyped run id cannot undo another location's import.
async fn check_undo_target(
    args: &ImportArgs,
    uploader: &Uploader,
    connection: &Connection,
    run_id: &str,
) -> anyhow::Result<()> {
    let journal_path = uploader.journal_path().to_path_buf();
    let id = run_id.to_owned();
    let info = tokio::task::spawn_blocking(move || Journal::open(&journal_path)?.run(&id))
        .await
        .context("reading the run journal stopped unexpectedly")??;
    if info.location != args.location {
        bail!(
            "run {run_id} sent to {}, not {}: pass --location {}",
            info.location,
            args.location,
            info.location
        );
    }
    connection.check_run_target(&info)
}

/// Writes one line to stderr, the command line's output channel.
fn say(line: &str) {
    writeln!(std::io::stderr().lock(), "{line}").ok();
}

fn print_outcome(end: &SessionEnd, reports: &Result<Vec<ReportFile>, String>) {
    let counts = &end.counts;
    let state = if end.cancelled {
        "cancelled"
    } else {
        "finished"
    };
    if end.kind == SessionKind::Undo {
        say(&format!("Undo {state}: {}.", undo_counts(counts)));
        return;
    }
    say(&format!("Import {state}: {}.", outcome_counts(counts)));
    print_reports(reports);
    say(&format!("Run id: {}", end.run_id));
}

/// Prints how to continue an unfinished run, or how to undo a finished one.
fn print_next_steps(args: &ImportArgs, end: &SessionEnd) {
    let counts = &end.counts;
    if counts.unfinished() > 0 {
        say("Rows are left to send: run the same command with --resume to continue.");
    } else if counts.created + counts.merged > 0 {
        say(&format!(
            "To undo this import: customer-importer import {} --location {} --env {} --undo {}",
            args.read.file.display(),
            args.location,
            args.env,
            end.run_id
        ));
    }
}

fn print_reports(reports: &Result<Vec<ReportFile>, String>) {
    match reports {
        Ok(files) => {
            for file in files {
                say(&format!(
                    "  {} rows: {}",
                    file.kind.file_label(),
                    file.path.display()
                ));
            }
        }
        Err(message) => say(&format!("The reports could not be written: {message}")),
    }
}

fn outcome_counts(counts: &Counts) -> String {
    let mut parts = vec![
        format!("{} created", counts.created),
        format!("{} conflicts", counts.conflict),
    ];
    if counts.merged > 0 {
        parts.push(format!("{} merged", counts.merged));
    }
    parts.push(format!("{} failed", counts.failed));
    parts.push(format!("{} skipped", counts.skipped));
    if counts.unfinished() > 0 {
        parts.push(format!("{} not sent yet", counts.unfinished()));
    }
    parts.join(", ")
}

/// Prints progress lines to stderr: rewritten in place on a terminal, one
/// line a second otherwise.
struct ProgressPrinter {
    terminal: bool,
    /// Work of the session, from its `Started` event, which picks the
    /// words of the progress line.
    kind: SessionKind,
    last: Option<Instant>,
    /// Length of the line shown in place, to blank it out.
    shown_chars: usize,
}

impl ProgressPrinter {
    fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            kind: SessionKind::Upload,
            last: None,
            shown_chars: 0,
        }
    }

    fn show(&mut self, event: &UploadEvent) {
        match event {
            UploadEvent::Started { kind, .. } => self.kind = *kind,
            UploadEvent::Progress(progress) => {
                if self
                    .last
                    .is_some_and(|last| last.elapsed() < PROGRESS_EVERY)
                {
                    return;
                }
                self.last = Some(Instant::now());
                let line = progress_line(self.kind, progress);
                self.line(&line);
            }
            UploadEvent::Paused(PauseReason::TokenRejected) => {
                self.clear();
                say("The server refused the token; waiting for a new one.");
            }
            UploadEvent::Resumed => {
                self.clear();
                say("Continuing.");
            }
            _ => {}
        }
    }

    fn line(&mut self, line: &str) {
        let mut stderr = std::io::stderr().lock();
        if self.terminal {
            let padding = self.shown_chars.saturating_sub(line.chars().count());
            write!(stderr, "\r{line}{}", " ".repeat(padding)).ok();
            stderr.flush().ok();
            self.shown_chars = line.chars().count();
        } else {
            writeln!(stderr, "{line}").ok();
        }
    }

    /// Ends a line shown in place, so the next message starts on its own.
    fn clear(&mut self) {
        if self.terminal && self.shown_chars > 0 {
            writeln!(std::io::stderr().lock()).ok();
            self.shown_chars = 0;
        }
    }
}

/// Returns the progress line of a session of `kind`, such as `3 of 10 rows
/// undone (2 deleted, 1 restored, 0 failed), 4 rows/s, about 2 s left`.
fn progress_line(kind: SessionKind, progress: &UploadProgress) -> String {
    let time_left = progress
        .time_left
        .filter(|_| progress.done < progress.total)
        .map_or_else(String::new, |left| {
            format!(", about {} left", format_duration(left))
        });
    let (verb, counts) = match kind {
        SessionKind::Undo => ("undone", undo_counts(&progress.counts)),
        SessionKind::Upload | SessionKind::Resolve => ("done", outcome_counts(&progress.counts)),
    };
    format!(
        "{} of {} rows {verb} ({counts}), {:.0} rows/s{time_left}",
        progress.done, progress.total, progress.rows_per_second
    )
}

fn undo_counts(counts: &Counts) -> String {
    format!(
        "{} deleted, {} restored, {} failed",
        counts.deleted, counts.restored, counts.undo_failed
    )
}

fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_secs(42)), "42 s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(format_duration(Duration::from_secs(7260)), "2 h 1 min");
    }

    fn progress(counts: Counts) -> UploadProgress {
        UploadProgress {
            counts,
            done: 1,
            total: 3,
            in_flight: 1,
            concurrency: 8,
            rows_per_second: 2.0,
            time_left: Some(Duration::from_secs(1)),
        }
    }

    #[test]
    fn undo_progress_names_undo_outcomes() {
        let counts = Counts {
            merged: 1,
            deleted: 1,
            ..Counts::default()
        };
        assert_eq!(
            progress_line(SessionKind::Undo, &progress(counts)),
            "1 of 3 rows undone (1 deleted, 0 restored, 0 failed), 2 rows/s, about 1 s left"
        );
    }

    #[test]
    fn upload_progress_names_import_outcomes() {
        let counts = Counts {
            created: 1,
            pending: 2,
            ..Counts::default()
        };
        assert_eq!(
            progress_line(SessionKind::Upload, &progress(counts)),
            "1 of 3 rows done (1 created, 0 conflicts, 0 failed, 0 skipped, 2 not sent yet), \
             2 rows/s, about 1 s left"
        );
    }

    #[test]
    fn outcome_counts_list_what_matters() {
        let counts = Counts {
            created: 60,
            conflict: 2,
            failed: 1,
            pending: 3,
            ..Counts::default()
        };
        assert_eq!(
            outcome_counts(&counts),
            "60 created, 2 conflicts, 1 failed, 0 skipped, 3 not sent yet"
        );
    }
}
