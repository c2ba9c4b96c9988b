//! Integration tests: whole flows against real sample files and the sandbox
//! server on loopback. One test binary, with a module per topic.
mod api;
mod auth;
mod check;
mod gui;
mod keychain;
mod man_page;
mod resume;
mod sandbox;
mod source;
mod upload;
