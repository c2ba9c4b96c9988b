//! Integration tests: whole flows against real sample files and the sandbox
//! server on loopback. One test binary, with a module per topic.
mod man_page;
mod auth;
mod keychain;
mod api;
mod sandbox;
mod source;
mod check;
mod upload;
mod resume;
mod gui;
