//! The open screen: choose a spreadsheet with a dialog or drop it on the
//! window, watch it being read, and see what was detected (format,
//! encoding, delimiter, sheet).

use egui::Ui;

use crate::table::{SourceFormat, Table};

use super::tasks::RunningTask;
use super::widgets;

/// File extensions the importer reads, for the dialog filter.
pub(crate) const SPREADSHEET_EXTENSIONS: [&str; 6] = ["csv", "txt", "tsv", "xlsx", "xls", "ods"];

/// The open screen's state.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenScreen {
    /// Reason the last file could not be opened, naming the file.
    pub error: Option<String>,
    /// A hint after a dialog closed without a file, or when no dialog can
    /// be shown.
    pub note: Option<String>,
}

/// Requests from the open screen to the app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OpenAction {
    ChooseFile,
    CancelRead,
    /// Read another sheet of the same workbook.
    SelectSheet(String),
    Continue,
}

/// Read-only facts the open screen shows.
pub(crate) struct OpenView<'a> {
    pub reading: Option<&'a RunningTask>,
    pub dialog_open: bool,
    pub table: Option<&'a Table>,
}

/// Draws the open screen and returns what the user asked for.
pub(crate) fn open_ui(ui: &mut Ui, screen: &OpenScreen, view: &OpenView<'_>) -> Vec<OpenAction> {
    let mut actions = Vec::new();
    widgets::screen_title(
        ui,
        "Open",
        "Open the spreadsheet that holds your customers: CSV, TXT or TSV text, or an Excel \
         (XLSX, XLS) or OpenDocument (ODS) workbook.",
    );
    drop_zone_ui(ui, view, &mut actions);
    ui.add_space(widgets::SECTION_SPACING);
    if let Some(task) = view.reading {
        reading_ui(ui, task, &mut actions);
    } else if let Some(error) = &screen.error {
        widgets::error_label(ui, error);
    } else if let Some(table) = view.table {
        file_summary_ui(ui, table, &mut actions);
        ui.add_space(widgets::SECTION_SPACING);
        let reason = table
            .records
            .is_empty()
            .then_some("The file has no customer rows below the header");
        if widgets::primary_button(ui, "Continue", reason) {
            actions.push(OpenAction::Continue);
        }
    }
    if let Some(note) = &screen.note {
        widgets::hint_label(ui, note);
    }
    actions
}

fn drop_zone_ui(ui: &mut Ui, view: &OpenView<'_>, actions: &mut Vec<OpenAction>) {
    egui::Frame::group(ui.style())
        .inner_margin(egui::Margin::same(24))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.vertical_centered(|ui| {
                ui.label("Drag a spreadsheet onto this window");
                ui.label("or");
                let reason = if view.dialog_open {
                    Some("A file dialog is already open")
                } else if view.reading.is_some() {
                    Some("A file is being read; cancel it first")
                } else {
                    None
                };
                if widgets::primary_button(ui, "Choose file…", reason) {
                    actions.push(OpenAction::ChooseFile);
                }
            });
        });
}

fn reading_ui(ui: &mut Ui, task: &RunningTask, actions: &mut Vec<OpenAction>) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(&task.label);
    });
    if let Some(fraction) = task
        .progress
        .as_ref()
        .and_then(|progress| progress.fraction())
    {
        ui.add(egui::ProgressBar::new(fraction).show_percentage());
    }
    if ui.button("Cancel").clicked() {
        actions.push(OpenAction::CancelRead);
    }
}

/// Shows the file name, what was detected and, for workbooks with several
/// sheets, a sheet picker.
pub(crate) fn file_summary_ui(ui: &mut Ui, table: &Table, actions: &mut Vec<OpenAction>) {
    let source = &table.source;
    ui.horizontal_wrapped(|ui| {
        ui.strong(source.file_name());
        ui.label(format!("· {}", format_description(&source.format)));
        ui.label(format!(
            "· {}, {}, header on row {}",
            widgets::counted(table.headers.len(), "column", "columns"),
            widgets::counted(table.records.len(), "row", "rows"),
            table.header_row
        ));
    });
    if source.sheets.len() > 1 {
        sheet_picker_ui(ui, table, actions);
    }
    if table.records.is_empty() {
        widgets::error_label(
            ui,
            &format!(
                "No customer rows found below the header in {}. Check that you exported the \
                 right list, then open it again.",
                source.file_name()
            ),
        );
    }
}

fn sheet_picker_ui(ui: &mut Ui, table: &Table, actions: &mut Vec<OpenAction>) {
    let current = table.source.sheet.clone().unwrap_or_default();
    ui.horizontal(|ui| {
        let label = ui.label("Sheet");
        egui::ComboBox::from_id_salt("sheet_picker")
            .selected_text(&current)
            .show_ui(ui, |ui| {
                for sheet in &table.source.sheets {
                    if ui.selectable_label(*sheet == current, sheet).clicked() && *sheet != current
                    {
                        actions.push(OpenAction::SelectSheet(sheet.clone()));
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
}

/// Describes a file format for people, such as "CSV, UTF-8, comma-separated".
pub(crate) fn format_description(format: &SourceFormat) -> String {
    match format {
        SourceFormat::Csv {
            encoding,
            delimiter,
        } => format!("Text, {encoding}, {}", delimiter_name(*delimiter)),
        SourceFormat::Xlsx => "Excel workbook (XLSX)".to_owned(),
        SourceFormat::Xls => "Excel 97-2003 workbook (XLS)".to_owned(),
        SourceFormat::Ods => "OpenDocument spreadsheet (ODS)".to_owned(),
    }
}

fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b',' => "comma-separated".to_owned(),
        b';' => "semicolon-separated".to_owned(),
        b'\t' => "tab-separated".to_owned(),
        b'|' => "separated by |".to_owned(),
        other => format!("separated by {}", char::from(other).escape_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_encoding_and_delimiter() {
        let format = SourceFormat::Csv {
            encoding: "windows-1252".to_owned(),
            delimiter: b';',
        };
        assert_eq!(
            format_description(&format),
            "Text, windows-1252, semicolon-separated"
        );
        assert_eq!(
            format_description(&SourceFormat::Ods),
            "OpenDocument spreadsheet (ODS)"
        );
    }
}
