//! Records the git commit the binary is built from, for `--version`, and
//! on Windows embeds the app icon into the executable.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=CUSTOMER_IMPORTER_COMMIT={commit}");
    // Rebuild when HEAD moves, so the commit in `--version` stays right.
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    embed_windows_resources();
}

/// Embeds the app icon and the version details into the Windows executable,
/// where Explorer, the taskbar and the Start menu read them. Needs the
/// Windows SDK's `rc.exe` (MSVC) or MinGW's `windres`. Without them the build
/// fails, because a release without its icon should not ship.
#[cfg(windows)]
fn embed_windows_resources() {
    // The build script runs on the host, so `cfg(windows)` is true when the
    // host is Windows, whatever the target. Cargo passes the target here.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let icon = "assets/icons/customer-importer.ico";
    println!("cargo:rerun-if-changed={icon}");
    let mut resource = winresource::WindowsResource::new();
    resource.set_icon(icon);
    resource.set("ProductName", "Customer Importer");
    if let Err(err) = resource.compile() {
        panic!("could not embed {icon} into the executable: {err}");
    }
}

/// Does nothing: only Windows executables carry resources.
#[cfg(not(windows))]
fn embed_windows_resources() {}
