// The migrations are embedded at compile time (`embed_migrations!`): a new or changed one rebuilds the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
