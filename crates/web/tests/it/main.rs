//! All integration tests of the web crate in one binary: one link instead of one per file,
//! which keeps a cold CI build quick and its target directory small.

mod common;

mod accounts;
mod api;
mod assessment;
mod attendance;
mod authz;
mod bank_accounts;
mod browser;
mod catalog;
mod claims;
mod classes;
mod concurrency;
mod errors;
mod export;
mod facts;
mod findings;
mod form_errors;
mod fuzz;
mod held;
mod home;
mod layers;
mod links;
mod pages;
mod policy;
mod public;
mod registers;
mod reports;
mod roster;
mod security;
mod workflow;
