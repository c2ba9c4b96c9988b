//! The mapping screen: for each source column its header, a few sample
//! values and the customer field it feeds, plus the default country.

use egui::Ui;
use egui_extras::{Column, TableBuilder};

use crate::fields::{Mapping, Target};
use crate::table::Table;

use super::countries;
use super::open::{self, OpenAction};
use super::presets::{PresetAction, PresetsBar, presets_ui};
use super::widgets;

/// Highest address group a user can pick. Groups are numbered from 1, in
/// the order of their first column, as the guesser numbers them.
const MAX_ADDRESS_GROUP: u8 = 9;

/// The mapping screen's own state (the mapping itself lives in the
/// document).
#[derive(Debug, Clone, Default)]
pub(crate) struct MappingScreen {
    /// Text typed into the country picker to narrow the list.
    pub country_filter: String,
    pub presets: PresetsBar,
}

/// Requests from the mapping screen to the app.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MapAction {
    /// A target or the default country changed, so checked rows are stale.
    Changed,
    Open(OpenAction),
    Preset(PresetAction),
    Continue,
}

/// The parts of the document the mapping screen edits.
pub(crate) struct MappingEdit<'a> {
    pub table: &'a Table,
    /// Sample values per column, joined for display.
    pub samples: &'a [String],
    pub mapping: &'a mut Mapping,
    /// ISO 3166-1 alpha-2 code for rows that name no country.
    pub default_country: &'a mut String,
    /// Reason presets cannot be used, when they cannot.
    pub presets_unavailable: Option<&'static str>,
    /// Whether a preset operation is running.
    pub presets_busy: bool,
}

/// A kind of target without its address group, as the combo box lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    Ignore,
    GivenName,
    FamilyName,
    FullName,
    Street1,
    Street2,
    City,
    Region,
    Country,
    Address,
    Phone,
    Email,
    Tags,
    Consent,
    Location,
}

const TARGET_KINDS: [TargetKind; 15] = [
    TargetKind::Ignore,
    TargetKind::GivenName,
    TargetKind::FamilyName,
    TargetKind::FullName,
    TargetKind::Street1,
    TargetKind::Street2,
    TargetKind::City,
    TargetKind::Region,
    TargetKind::Country,
    TargetKind::Address,
    TargetKind::Phone,
    TargetKind::Email,
    TargetKind::Tags,
    TargetKind::Consent,
    TargetKind::Location,
];

impl TargetKind {
    fn of(target: Target) -> (Self, Option<u8>) {
        match target {
            Target::Ignore => (Self::Ignore, None),
            Target::GivenName => (Self::GivenName, None),
            Target::FamilyName => (Self::FamilyName, None),
            Target::FullName => (Self::FullName, None),
            Target::Street1 { group } => (Self::Street1, Some(group)),
            Target::Street2 { group } => (Self::Street2, Some(group)),
            Target::City { group } => (Self::City, Some(group)),
            Target::Region { group } => (Self::Region, Some(group)),
            Target::Country { group } => (Self::Country, Some(group)),
            Target::Address { group } => (Self::Address, Some(group)),
            Target::Phone => (Self::Phone, None),
            Target::Email => (Self::Email, None),
            Target::Tags => (Self::Tags, None),
            Target::Consent => (Self::Consent, None),
            Target::Location => (Self::Location, None),
        }
    }

    fn with_group(self, group: u8) -> Target {
        match self {
            Self::Ignore => Target::Ignore,
            Self::GivenName => Target::GivenName,
            Self::FamilyName => Target::FamilyName,
            Self::FullName => Target::FullName,
            Self::Street1 => Target::Street1 { group },
            Self::Street2 => Target::Street2 { group },
            Self::City => Target::City { group },
            Self::Region => Target::Region { group },
            Self::Country => Target::Country { group },
            Self::Address => Target::Address { group },
            Self::Phone => Target::Phone,
            Self::Email => Target::Email,
            Self::Tags => Target::Tags,
            Self::Consent => Target::Consent,
            Self::Location => Target::Location,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Ignore => "Ignore",
            Self::GivenName => "Given name",
            Self::FamilyName => "Family name",
            Self::FullName => "Full name (split)",
            Self::Street1 => "Street line 1",
            Self::Street2 => "Street line 2",
            Self::City => "City",
            Self::Region => "Region",
            Self::Country => "Country",
            Self::Address => "One-cell address",
            Self::Phone => "Phone",
            Self::Email => "Email",
            Self::Tags => "Tags",
            Self::Consent => "Permission to contact",
            Self::Location => "Business location",
        }
    }
}

/// Returns the combo box label of a target, such as "City (address 2)".
pub(crate) fn target_label(target: Target) -> String {
    match TargetKind::of(target) {
        (kind, Some(group)) if group > 1 => format!("{} (address {group})", kind.label()),
        (kind, _) => kind.label().to_owned(),
    }
}

/// Draws the mapping screen and returns what the user asked for.
pub(crate) fn mapping_ui(
    ui: &mut Ui,
    screen: &mut MappingScreen,
    edit: MappingEdit<'_>,
) -> Vec<MapAction> {
    let mut actions = Vec::new();
    widgets::screen_title(
        ui,
        "Map columns",
        "Choose the customer field each column of the spreadsheet goes into. The guesses come \
         from the column headers.",
    );

    let mut open_actions = Vec::new();
    open::file_summary_ui(ui, edit.table, &mut open_actions);
    actions.extend(open_actions.into_iter().map(MapAction::Open));
    ui.add_space(widgets::SECTION_SPACING / 2.0);

    let preset_actions = presets_ui(
        ui,
        &mut screen.presets,
        edit.presets_unavailable,
        edit.presets_busy,
    );
    actions.extend(preset_actions.into_iter().map(MapAction::Preset));
    if country_ui(ui, screen, edit.default_country) {
        actions.push(MapAction::Changed);
    }
    coverage_ui(ui, edit.mapping);
    ui.add_space(widgets::SECTION_SPACING / 2.0);

    if columns_ui(ui, edit.table, edit.samples, edit.mapping) {
        actions.push(MapAction::Changed);
    }
    actions
}

/// Returns why the mapping cannot be previewed yet, or `None` when it can.
pub(crate) fn incomplete_reason(mapping: &Mapping) -> Option<&'static str> {
    let any_mapped = mapping
        .targets
        .iter()
        .any(|target| *target != Target::Ignore);
    (!any_mapped).then_some("Map at least one column to a customer field first")
}

/// Warns when no column can give a row an email or phone, since the API
/// rejects customers with neither.
fn coverage_ui(ui: &mut Ui, mapping: &Mapping) {
    let has_contact = mapping
        .targets
        .iter()
        .any(|target| matches!(target, Target::Email | Target::Phone));
    if !has_contact {
        widgets::warning_label(
            ui,
            "No column is mapped to Email or Phone. Every customer needs one of them, so every \
             row would be invalid.",
        );
    }
}

/// Draws the default-country picker; returns whether it changed.
fn country_ui(ui: &mut Ui, screen: &mut MappingScreen, default_country: &mut String) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let label = ui
            .label("Default country")
            .on_hover_text("Used for phone numbers and addresses of rows that name no country");
        egui::ComboBox::from_id_salt("default_country")
            .selected_text(countries::label_of(default_country))
            .width(280.0)
            .height(320.0)
            .show_ui(ui, |ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut screen.country_filter)
                        .hint_text("Type to filter"),
                );
                let filter = screen.country_filter.to_lowercase();
                for country in countries::all() {
                    let label = format!("{} ({})", country.name, country.code);
                    if !filter.is_empty() && !label.to_lowercase().contains(&filter) {
                        continue;
                    }
                    let selected = *default_country == country.code;
                    if ui.selectable_label(selected, label).clicked() && !selected {
                        *default_country = country.code.to_owned();
                        changed = true;
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    changed
}

/// Draws one row per source column with only the rows on screen built;
/// returns whether a target changed.
fn columns_ui(ui: &mut Ui, table: &Table, samples: &[String], mapping: &mut Mapping) -> bool {
    let mut changed = false;
    if mapping.targets.len() < table.headers.len() {
        mapping.targets.resize(table.headers.len(), Target::Ignore);
    }
    let row_height = ui.spacing().interact_size.y + 6.0;
    TableBuilder::new(ui)
        .id_salt("mapping_columns")
        .striped(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(
            Column::initial(220.0)
                .at_least(120.0)
                .clip(true)
                .resizable(true),
        )
        .column(
            Column::initial(360.0)
                .at_least(120.0)
                .clip(true)
                .resizable(true),
        )
        .column(Column::initial(200.0).at_least(180.0))
        .column(Column::remainder().at_least(120.0))
        .header(22.0, |mut header| {
            for title in ["Column", "Sample values", "Imported as", "Address group"] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, table.headers.len(), |mut row| {
                let column = row.index();
                let mut header_id = None;
                row.col(|ui| {
                    header_id = Some(ui.label(&table.headers[column]).id);
                });
                row.col(|ui| {
                    ui.weak(samples.get(column).map_or("", String::as_str));
                });
                if let Some(target) = mapping.targets.get_mut(column) {
                    changed |= target_cells_ui(&mut row, column, header_id, target);
                }
            });
        });
    changed
}

/// Draws the target combo box and address group of one column, labelled
/// by the column's header for screen readers; returns whether it changed.
fn target_cells_ui(
    row: &mut egui_extras::TableRow<'_, '_>,
    column: usize,
    header_id: Option<egui::Id>,
    target: &mut Target,
) -> bool {
    let (mut kind, group) = TargetKind::of(*target);
    let before = *target;
    row.col(|ui| {
        let response = egui::ComboBox::from_id_salt(("target", column))
            .selected_text(kind.label())
            .width(180.0)
            .show_ui(ui, |ui| {
                for choice in TARGET_KINDS {
                    ui.selectable_value(&mut kind, choice, choice.label());
                }
            })
            .response;
        if let Some(id) = header_id {
            response.labelled_by(id);
        }
    });
    let mut shown_group = group.unwrap_or(1).max(1);
    row.col(|ui| {
        if group.is_some() || TargetKind::of(kind.with_group(0)).1.is_some() {
            ui.add(
                egui::DragValue::new(&mut shown_group)
                    .range(1..=MAX_ADDRESS_GROUP)
                    .prefix("address "),
            )
            .on_hover_text(
                "Columns of one address share a group; the first group with a value is used",
            );
        }
    });
    *target = kind.with_group(shown_group);
    *target != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_kind_round_trips() {
        for kind in TARGET_KINDS {
            let target = kind.with_group(2);
            assert_eq!(TargetKind::of(target).0, kind);
        }
    }

    #[test]
    fn label_shows_second_group() {
        assert_eq!(target_label(Target::City { group: 1 }), "City");
        assert_eq!(target_label(Target::City { group: 2 }), "City (address 2)");
        assert_eq!(target_label(Target::Phone), "Phone");
    }
}
