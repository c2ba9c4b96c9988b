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
    counts: RowCounts,
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
    /// Recomputes the listed rows and counts when the document or the
    /// filter changed since the last frame.
    fn refresh(&mut self, document: &Document, rows: &[RowCheck]) {
        let key = (document.revision, self.only_problems);
        if self.visible_key == Some(key) {
            return;
        }
        self.visible = (0..rows.len())
            .filter(|index| !self.only_problems || !rows[*index].issues.is_empty())
            .collect();
        self.counts = RowCounts::of(rows, &document.excluded);
        self.visible_key = Some(key);
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
        "Each row as it will be sent. Hover a coloured cell to see what is wrong; fix the \
         value or exclude the row.",
    );
    if let Some(task) = checking {
        checking_ui(ui, task, &mut actions);
    }
    let Some(rows) = &document.rows else {
        if checking.is_none() {
            widgets::warning_label(ui, "The rows have not been checked yet.");
            if widgets::primary_button(ui, "Check rows", None) {
                actions.push(PreviewAction::Recheck);
            }
        }
        return actions;
    };
    screen.refresh(document, rows);
    summary_ui(ui, screen, checking.is_some(), &mut actions);
    ui.add_space(widgets::SECTION_SPACING / 2.0);
    rows_table_ui(ui, &screen.visible, document, rows, &mut actions);
    actions
}

fn checking_ui(ui: &mut Ui, task: &RunningTask, actions: &mut Vec<PreviewAction>) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(&task.label);
        if let Some(progress) = &task.progress
            && let Some(fraction) = progress.fraction()
        {
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

fn summary_ui(
    ui: &mut Ui,
    screen: &mut PreviewScreen,
    checking: bool,
    actions: &mut Vec<PreviewAction>,
) {
    let counts = screen.counts;
    ui.horizontal_wrapped(|ui| {
        widgets::success_label(ui, &format!("{} ready", counts.ready));
        ui.label("·");
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{} invalid", counts.invalid),
        );
        ui.label("·");
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("{} with warnings", counts.warned),
        );
        ui.label("·");
        ui.label(format!("{} excluded", counts.excluded));
        ui.separator();
        ui.checkbox(&mut screen.only_problems, "Show only rows with problems");
    });
    let reason = if checking {
        Some("The rows are still being checked")
    } else if counts.ready == 0 {
        Some("No row is ready to send: fix or include rows first")
    } else {
        None
    };
    let label = format!("Continue with {} ready rows", counts.ready);
    if widgets::primary_button(ui, &label, reason) {
        actions.push(PreviewAction::Continue);
    }
}

fn rows_table_ui(
    ui: &mut Ui,
    visible: &[usize],
    document: &Document,
    rows: &[RowCheck],
    actions: &mut Vec<PreviewAction>,
) {
    let row_height = ui.spacing().interact_size.y + 4.0;
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
                row_ui(&mut table_row, index, &rows[index], excluded, actions);
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

fn row_ui(
    table_row: &mut TableRow<'_, '_>,
    index: usize,
    row: &RowCheck,
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
        table_row.col(|ui| issue_cell_ui(ui, cell, &text, &row.issues, excluded));
    }
}

/// Draws one cell, coloured by the worst issue it shows, with every issue
/// message on hover.
fn issue_cell_ui(ui: &mut Ui, cell: Cell, text: &str, issues: &[Issue], excluded: bool) {
    let shown: Vec<&Issue> = issues
        .iter()
        .filter(|issue| cell.shows(issue.attribute))
        .collect();
    let worst = worst_severity(&shown);
    let mut rich = RichText::new(text);
    if excluded {
        rich = rich.weak().strikethrough();
    } else if let Some(severity) = worst {
        rich = rich.color(severity_color(ui, severity));
    }
    let text_is_empty = text.is_empty();
    let response = if text_is_empty && worst.is_some() {
        ui.label(RichText::new("missing").color(severity_color(ui, Severity::Error)))
    } else {
        ui.label(rich)
    };
    if !shown.is_empty() {
        let messages: Vec<&str> = shown.iter().map(|issue| issue.message.as_str()).collect();
        response.on_hover_text(messages.join("\n"));
    } else if !text_is_empty {
        // The column may clip long values; hovering shows them whole.
        response.on_hover_text(text);
    }
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
                street_address: Some("12 Elm St".to_owned()),
                city: Some("Detroit".to_owned()),
                region_code: None,
                country_code: Some("US".to_owned()),
            }),
            ..Customer::default()
        };
        assert_eq!(address_text(&customer), "12 Elm St, Detroit, US");
    }

    #[test]
    fn contact_issue_shows_in_email_and_phone() {
        assert!(Cell::Emails.shows(Attribute::Contact));
        assert!(Cell::Phones.shows(Attribute::Contact));
        assert!(!Cell::Name.shows(Attribute::Contact));
    }
}
