//! A real browser: Debian's chromium, driven by Playwright (tests/browser/journey.mjs), through the
//! provider's and the patient's journeys with JavaScript off (recording, before and after photos side by
//! side, the portal, signing the consent, a check-in), plus an axe-core accessibility check.
//! Screenshots of the portal land in target/screenshots/. Skipped locally (with a note) when node,
//! chromium or the npm packages are missing; under CI that is a failure.

use clinic_e2e::{STAFF_PASSWORD, on_each_database};
use std::path::{Path, PathBuf};
use std::process::Command;

fn missing_tools(dir: &Path) -> Option<String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("chromium is not installed (apt-get install chromium)".into());
    }
    if !dir.join("node_modules/playwright-core").exists() || !dir.join("node_modules/axe-core").exists() {
        return Some(format!("npm packages missing (npm ci --prefix {})", dir.display()));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    None
}

#[test]
fn provider_and_patient_journeys_in_chromium() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    if let Some(why) = missing_tools(&dir) {
        assert!(
            std::env::var_os("CI").is_none(),
            "browser test cannot run under CI: {why}"
        );
        eprintln!("note: browser test skipped: {why}");
        return;
    }
    on_each_database(|app| {
        let email = app.add_staff("provider", "chen@clinic.example");
        // The clinic's consent form (the patient signs it in the portal) and a photo to upload.
        clinic_db::consent::publish(
            &mut app.db.conn(),
            "Consent to micro-needling",
            "The clinic's own wording, written by its manager.",
            None,
            chrono::Utc::now().naive_utc(),
        )
        .unwrap();
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/screenshots")
            .join(app.db.backend_name().to_lowercase());
        std::fs::create_dir_all(&out).unwrap();
        let photo = out.join("upload.jpg");
        std::fs::write(&photo, clinic_e2e::small_jpeg(120, 90)).unwrap();
        let run = Command::new("node")
            .arg(dir.join("journey.mjs"))
            .current_dir(&dir)
            .env("BASE_URL", &app.address)
            .env("OUT_DIR", &out)
            .env("PROVIDER_EMAIL", &email)
            .env("PROVIDER_PASSWORD", STAFF_PASSWORD)
            .env("PHOTO_FILE", &photo)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(
            run.status.success(),
            "browser journey failed on {}:\n{stderr}\n{stdout}",
            app.db.backend_name()
        );
        assert!(stdout.contains("\"ok\":true"), "{stdout}");
        for shot in ["portal-phone.png", "portal-desktop.png"] {
            let bytes = std::fs::read(out.join(shot)).unwrap();
            assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "{shot}");
        }
    });
}
