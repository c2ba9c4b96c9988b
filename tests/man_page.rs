//! The man pages are rendered from the clap definitions with `clap_mangen`
//! when a package is built, so they always match the command line. With
//! `MAN_PAGES_DIR` set, the test below also writes the pages into that
//! folder: `packaging/render-man-pages` runs it that way before `cargo deb`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use clap::CommandFactory as _;
use customer_importer::cli::Cli;

/// Renders one page for the program and one for each subcommand, by file
/// name. The version is the package version without the commit, so that a
/// page names the release it documents.
fn render_pages() -> BTreeMap<String, String> {
    let command = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let out_dir = tempfile::tempdir().expect("create a temporary folder");
    clap_mangen::generate_to(command, out_dir.path()).expect("render the man pages");
    let entries = fs::read_dir(out_dir.path()).expect("list the rendered pages");
    entries
        .map(|entry| entry.expect("read a folder entry").path())
        .map(|path| {
            let name = path
                .file_name()
                .expect("page file name")
                .to_string_lossy()
                .into_owned();
            let text = fs::read_to_string(&path).expect("read a man page");
            (name, text)
        })
        .collect()
}

fn write_pages(pages: &BTreeMap<String, String>, dir: &Path) {
    fs::create_dir_all(dir).expect("create the man page folder");
    for (name, text) in pages {
        fs::write(dir.join(name), text).expect("write a man page");
    }
}

#[test]
fn man_pages_cover_every_subcommand() {
    let pages = render_pages();
    let Some(main_page) = pages.get("customer-importer.1") else {
        panic!("no customer-importer.1 among {:?}", pages.keys());
    };
    for subcommand in Cli::command().get_subcommands() {
        let name = subcommand.get_name();
        assert!(
            pages.contains_key(&format!("customer-importer-{name}.1")),
            "no page for the {name} subcommand"
        );
        // roff escapes each hyphen in the page's text.
        assert!(
            main_page.contains(&format!(r"customer\-importer\-{name}(1)")),
            "customer-importer.1 does not list {name}"
        );
    }
    if let Some(dir) = std::env::var_os("MAN_PAGES_DIR") {
        write_pages(&pages, Path::new(&dir));
    }
}

#[test]
fn man_page_names_package_version() {
    let pages = render_pages();
    let main_page = pages.get("customer-importer.1").expect("main page");
    let title_line = main_page
        .lines()
        .find(|line| line.starts_with(".TH"))
        .expect("a .TH title line");
    assert!(
        title_line.contains(concat!("customer-importer ", env!("CARGO_PKG_VERSION"))),
        "the title line {title_line:?} does not name version {}",
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        !title_line.contains('('),
        "the title line {title_line:?} names a commit"
    );
}
