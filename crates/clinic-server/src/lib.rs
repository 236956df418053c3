//! The `clinic` binary as a library: command line, configuration, telemetry and start-up, so the
//! end-to-end tests can start the real application in-process.

pub mod cli;
pub mod config;
pub mod demo;
pub mod startup;
pub mod telemetry;
pub mod users;

pub use config::Config;
pub use startup::Application;
