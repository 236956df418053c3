//! End-to-end tests: one binary, each test starting the real application on each database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod browser;
mod clinical;
mod consent;
mod corrections;
mod health;
mod mail;
mod manager;
mod matrix;
mod mfa;
mod one_home;
mod openapi;
mod pages;
mod photos;
mod photos_s3;
mod setup;
