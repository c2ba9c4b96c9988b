//! The preview screen: every row as it would be sent, with each error or
//! warning at its cell, counts by status, a filter for rows with problems,
//! and per-row buttons to exclude a row or fix its values.
//!
//! Only the rows on screen are built, so a 100,000-row file scrolls as
//! smoothly as a small one.

use egui::{Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder, TableRow};

use crate::check::{Attribute, Issue, RowCheck, Severity};
use crate::customer::Customer;
use crate::normalize::MAX_CELL_CHARS;
use crate::table::Record;

use super::state::{Document, RowCounts};
use super::tasks::RunningTask;
use super::widgets;

/// The preview screen's own state.
#[derive(Debug, Clone, Default)]
pub(crate) struct PreviewScreen {
    /// Whether only rows with errors or warnings are listed.
    pub only_problems: bool,
    /// Indexes of the rows listed, for the document revision and filter in
    /// `visible_key`.
    visible: Vec<usize>,
    visible_key: Option<(u64, bool)>,
}

/// Requests from the preview screen to the app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PreviewAction {
    SetExcluded {
        index: usize,
        excluded: bool,
    },
    /// Open the editor for one row's source values.
    EditRow(usize),
    CancelCheck,
    /// Check every row again after a cancelled check.
    Recheck,
    Continue,
}

/// The displayed columns of the preview, each fed by some attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Name,
    Emails,
    Phones,
    Address,
    Tags,
    Consent,
    Status,
}

impl Cell {
    /// Returns whether an issue about `attribute` is shown in this cell.
    fn shows(self, attribute: Attribute) -> bool {
        match self {
            Cell::Name => matches!(attribute, Attribute::GivenName | Attribute::FamilyName),
            Cell::Emails => matches!(attribute, Attribute::EmailAddresses | Attribute::Contact),
            Cell::Phones => matches!(attribute, Attribute::PhoneNumbers | Attribute::Contact),
            Cell::Address => attribute == Attribute::Address,
            Cell::Tags => attribute == Attribute::Tags,
            Cell::Consent => attribute == Attribute::PermissionToContact,
            Cell::Status => matches!(attribute, Attribute::Location | Attribute::Row),
        }
    }
}

impl PreviewScreen {
    /// Recomputes the listed rows when the document or the filter changed
    /// since the last frame.
    fn refresh(&mut self, document: &Document, rows: &[RowCheck]) {
        let key = (document.revision, self.only_problems);
        if self.visible_key == Some(key) {
            return;
        }
        self.visible = (0..rows.len())
            .filter(|index| !self.only_problems || !rows[*index].issues.is_empty())
            .collect();
        self.visible_key = Some(key);
    }

    /// Returns the counts the footer's main action needs, or `None` until
    /// the rows are checked.
    pub fn counts_for(&self, document: &Document) -> Option<RowCounts> {
        document.counts
    }
}

/// Returns why the preview cannot move on to the upload, or `None`.
pub(crate) fn continue_blocked(counts: &RowCounts, checking: bool) -> Option<&'static str> {
    if checking {
        Some("The rows are still being checked")
    } else if counts.ready == 0 {
        Some("No row is ready to send: fix or include rows first")
    } else {
        None
    }
}

/// Draws the preview screen and returns what the user asked for.
pub(crate) fn preview_ui(
    ui: &mut Ui,
    screen: &mut PreviewScreen,
    document: &Document,
    checking: Option<&RunningTask>,
) -> Vec<PreviewAction> {
    let mut actions = Vec::new();
    widgets::screen_title(
        ui,
        "Preview",
        "Each row as it will be sent. Hover a coloured cell to see what is wrong, then fix the \
         value or leave the row out.",
    );
    if let Some(task) = checking {
        checking_ui(ui, task, &mut actions);
        ui.add_space(widgets::SECTION_SPACING / 2.0);
    }
    let (Some(rows), Some(counts)) = (&document.rows, document.counts) else {
        if checking.is_none() {
            not_checked_ui(ui, &mut actions);
        }
        return actions;
    };
    screen.refresh(document, rows);
    summary_ui(ui, screen, &counts);
    ui.add_space(widgets::SECTION_SPACING / 2.0);
    if screen.visible.is_empty() {
        widgets::message_box(
            ui,
            widgets::Tone::Success,
            "No row has an error or a warning. Untick \"Show only rows with problems\" to see \
             every row.",
        );
        return actions;
    }
    rows_table_ui(ui, &screen.visible, document, rows, &mut actions);
    actions
}

fn not_checked_ui(ui: &mut Ui, actions: &mut Vec<PreviewAction>) {
    widgets::warning_label(
        ui,
        "The rows have not been checked yet, or checking was cancelled. Every row must be \
         checked before anything is sent.",
    );
    ui.add_space(4.0);
    if ui.button("Check rows").clicked() {
        actions.push(PreviewAction::Recheck);
    }
}

/// Shows the check's progress as "Checked 12,288 of 100,000 rows" with a
/// bar and a Cancel button. Rows from an earlier check stay listed below,
/// so the screen can be scrolled meanwhile.
fn checking_ui(ui: &mut Ui, task: &RunningTask, actions: &mut Vec<PreviewAction>) {
    ui.horizontal(|ui| {
        ui.spinner();
        let Some(progress) = &task.progress else {
            ui.label(&task.label);
            return;
        };
        ui.label(format!(
            "Checked {} of {}",
            widgets::count(progress.done()),
            widgets::counted(progress.total(), "row", "rows")
        ));
        if let Some(fraction) = progress.fraction() {
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(240.0)
                    .show_percentage(),
            );
        }
        if ui.button("Cancel").clicked() {
            actions.push(PreviewAction::CancelCheck);
        }
    });
}

fn summary_ui(ui: &mut Ui, screen: &mut PreviewScreen, counts: &RowCounts) {
    ui.horizontal_wrapped(|ui| {
        widgets::success_label(ui, &format!("{} ready", widgets::count(counts.ready)));
        ui.label("·");
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{} invalid", widgets::count(counts.invalid)),
        );
        ui.label("·");
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("{} with warnings", widgets::count(counts.warned)),
        );
        ui.label("·");
        ui.label(format!("{} excluded", widgets::count(counts.excluded)));
        ui.separator();
        ui.checkbox(&mut screen.only_problems, "Show only rows with problems");
    });
}

fn rows_table_ui(
    ui: &mut Ui,
    visible: &[usize],
    document: &Document,
    rows: &[RowCheck],
    actions: &mut Vec<PreviewAction>,
) {
    let row_height = ui.spacing().interact_size.y + 6.0;
    TableBuilder::new(ui)
        .id_salt("preview_rows")
        .striped(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::exact(44.0))
        .column(Column::exact(124.0))
        .column(resizable_column(140.0, 80.0))
        .column(resizable_column(180.0, 80.0))
        .column(resizable_column(130.0, 80.0))
        .column(resizable_column(90.0, 50.0))
        .column(Column::initial(60.0).at_least(50.0).clip(true))
        .column(Column::initial(100.0).at_least(80.0).clip(true))
        .column(Column::remainder().at_least(120.0).clip(true))
        .header(22.0, |mut header| {
            let titles = [
                "Row", "", "Name", "Emails", "Phones", "Tags", "Consent", "Status", "Address",
            ];
            for title in titles {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, visible.len(), |mut table_row| {
                let Some(&index) = visible.get(table_row.index()) else {
                    return;
                };
                let excluded = document.excluded.contains(&index);
                let record = document.table.records.get(index);
                row_ui(
                    &mut table_row,
                    index,
                    &rows[index],
                    record,
                    excluded,
                    actions,
                );
            });
        });
}

/// Returns a clipped, resizable column of an initial and a minimum width
/// in points.
fn resizable_column(initial: f32, minimum: f32) -> Column {
    Column::initial(initial)
        .at_least(minimum)
        .clip(true)
        .resizable(true)
}

/// Draws one row. `record` is the source record of `row`, whose cells
/// fill in the values the check rejected.
fn row_ui(
    table_row: &mut TableRow<'_, '_>,
    index: usize,
    row: &RowCheck,
    record: Option<&Record>,
    excluded: bool,
    actions: &mut Vec<PreviewAction>,
) {
    let customer = &row.customer;
    table_row.col(|ui| {
        ui.label(row.row.to_string());
    });
    table_row.col(|ui| {
        let mut included = !excluded;
        let response = ui
            .checkbox(&mut included, "Include")
            .on_hover_text("Untick to leave this row out; it then ends as skipped");
        if response.changed() {
            actions.push(PreviewAction::SetExcluded {
                index,
                excluded: !included,
            });
        }
        if ui.button("Fix…").clicked() {
            actions.push(PreviewAction::EditRow(index));
        }
    });
    let texts = [
        (Cell::Name, customer.display_name()),
        (Cell::Emails, customer.email_addresses.join(", ")),
        (Cell::Phones, customer.phone_numbers.join(", ")),
        (Cell::Tags, customer.tags.join(", ")),
        (
            Cell::Consent,
            consent_text(customer.permission_to_contact).to_owned(),
        ),
        (Cell::Status, status_text(row, excluded).to_owned()),
        (Cell::Address, address_text(customer)),
    ];
    for (cell, text) in texts {
        table_row.col(|ui| issue_cell_ui(ui, cell, &text, record, &row.issues, excluded));
    }
}

/// Draws one cell, coloured by the worst issue it shows, with every issue
/// message on hover. A cell left empty because the check rejected its
/// source value shows that source text. "missing" is shown only when the
/// row has no value for the cell.
fn issue_cell_ui(
    ui: &mut Ui,
    cell: Cell,
    text: &str,
    record: Option<&Record>,
    issues: &[Issue],
    excluded: bool,
) {
    let shown: Vec<&Issue> = issues
        .iter()
        .filter(|issue| cell.shows(issue.attribute))
        .collect();
    let worst = worst_severity(&shown);
    let text_is_empty = text.is_empty();
    let rejected = if text_is_empty {
        rejected_text(record, &shown)
    } else {
        String::new()
    };
    let response = if text_is_empty && rejected.is_empty() && worst.is_some() {
        ui.label(RichText::new("missing").color(severity_color(ui, Severity::Error)))
    } else {
        let shown_text = if text_is_empty { &rejected } else { text };
        let mut rich = RichText::new(shown_text);
        if excluded {
            rich = rich.weak().strikethrough();
        } else if let Some(severity) = worst {
            rich = rich.color(severity_color(ui, severity));
        }
        ui.label(rich)
    };
    if !shown.is_empty() {
        let messages: Vec<String> = shown
            .iter()
            .map(|issue| issue.message.to_string())
            .collect();
        response.on_hover_text(messages.join("\n"));
    } else if !text_is_empty {
        // The column may clip long values; hovering shows them whole.
        response.on_hover_text(text);
    }
}

/// Characters of an overlong cell the preview shows before "…".
const LONG_CELL_PREFIX: usize = 40;

/// Returns the source text of the cells that `issues` point at, joined
/// with ", ", or "" when none of those cells has a value. Each value is
/// put on one line, as the table row is one line high.
fn rejected_text(record: Option<&Record>, issues: &[&Issue]) -> String {
    let Some(record) = record else {
        return String::new();
    };
    let mut values: Vec<String> = Vec::new();
    for column in issues.iter().filter_map(|issue| issue.column) {
        let raw = record.get(column);
        // This runs for every row on screen each frame, so a huge cell is
        // cut by its byte length, without counting or scanning it whole.
        let value = if raw.len() > MAX_CELL_CHARS {
            let start: String = raw.chars().take(LONG_CELL_PREFIX).collect();
            format!(
                "{}…",
                start.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        } else {
            raw.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        if !value.is_empty() && !values.contains(&value) {
            values.push(value);
        }
    }
    values.join(", ")
}

fn worst_severity(issues: &[&Issue]) -> Option<Severity> {
    if issues.iter().any(|issue| issue.severity == Severity::Error) {
        Some(Severity::Error)
    } else if issues.is_empty() {
        None
    } else {
        Some(Severity::Warning)
    }
}

fn severity_color(ui: &Ui, severity: Severity) -> Color32 {
    match severity {
        Severity::Error => ui.visuals().error_fg_color,
        Severity::Warning => ui.visuals().warn_fg_color,
    }
}

/// Returns the address on one line, such as "12 Elm St, Detroit, US-MI, US".
fn address_text(customer: &Customer) -> String {
    let Some(address) = &customer.address else {
        return String::new();
    };
    [
        address.street_address.as_deref(),
        address.city.as_deref(),
        address.region_code.as_deref(),
        address.country_code.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

fn consent_text(permission: Option<bool>) -> &'static str {
    match permission {
        Some(true) => "Yes",
        Some(false) => "No",
        None => "Unknown",
    }
}

fn status_text(row: &RowCheck, excluded: bool) -> &'static str {
    if excluded {
        "Excluded"
    } else if row.has_errors() {
        "Invalid"
    } else if row.has_warnings() {
        "Ready, warned"
    } else {
        "Ready"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::Address;

    #[test]
    fn address_joins_present_parts() {
        let customer = Customer {
            address: Some(Address {
                street_address: Some("12 Elm St".into()),
                city: Some("Detroit".into()),
                region_code: None,
                country_code: Some("US".into()),
            }),
            ..Customer::default()
        };
        assert_eq!(address_text(&customer), "12 Elm St, Detroit, US");
    }

    fn issue(attribute: Attribute, column: Option<usize>) -> Issue {
        Issue {
            severity: Severity::Error,
            attribute,
            column,
            message: "".into(),
        }
    }

    fn record(cells: &[&str]) -> Record {
        Record::new(49, cells)
    }

    #[test]
    fn rejected_text_shows_source_cell() {
        let record = record(&["Nicole", " nicole.example.net "]);
        let rejected = issue(Attribute::EmailAddresses, Some(1));
        assert_eq!(
            rejected_text(Some(&record), &[&rejected]),
            "nicole.example.net"
        );
    }

    #[test]
    fn rejected_text_empty_without_column() {
        let record = record(&["Nicole", ""]);
        let no_contact = issue(Attribute::Contact, None);
        let empty_cell = issue(Attribute::EmailAddresses, Some(1));
        assert_eq!(rejected_text(Some(&record), &[&no_contact]), "");
        assert_eq!(rejected_text(Some(&record), &[&empty_cell]), "");
        assert_eq!(rejected_text(None, &[&empty_cell]), "");
    }

    #[test]
    fn rejected_text_joins_distinct_cells_on_one_line() {
        let record = record(&["12 Elm St\nFloor 2", "Narnia", "Narnia"]);
        let issues = [
            issue(Attribute::Address, Some(0)),
            issue(Attribute::Address, Some(1)),
            issue(Attribute::Address, Some(2)),
            issue(Attribute::Address, Some(1)),
        ];
        let refs: Vec<&Issue> = issues.iter().collect();
        assert_eq!(
            rejected_text(Some(&record), &refs),
            "12 Elm St Floor 2, Narnia"
        );
    }

    #[test]
    fn contact_issue_shows_in_email_and_phone() {
        assert!(Cell::Emails.shows(Attribute::Contact));
        assert!(Cell::Phones.shows(Attribute::Contact));
        assert!(!Cell::Name.shows(Attribute::Contact));
    }
}
