//! Photos (SPEC §6.7): only real JPEG, PNG or WebP within 40 megapixels and 15 MB; stored upright and
//! without metadata; seen by staff, by the patient only when the clinic allows; withdrawn and kept; every
//! view audited; verified by `clinic_app::photos::check`.

use clinic_e2e::{Reply, STAFF_PASSWORD, TestApp, on_each_database};
use serde_json::json;

/// A JPEG of `w`×`h` with an EXIF block saying "rotate 90° clockwise" and a GPS latitude.
fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .encode_image(&img)
        .unwrap();
    // TIFF, big-endian: IFD0 with Orientation = 6 and a GPS IFD pointer; the GPS IFD with LatitudeRef N.
    let mut tiff: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend([0, 2]); // two entries
    tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation SHORT 6
    tiff.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]); // GPS IFD at 38
    tiff.extend([0, 0, 0, 0]); // no next IFD
    tiff.extend([0, 1]); // GPS IFD: one entry
    tiff.extend([0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    tiff.extend([0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1, len[0], len[1]];
    out.extend(&app1);
    out.extend(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A tiny PNG whose header claims 100,000 × 100,000 pixels: a decompression bomb.
fn png_bomb() -> Vec<u8> {
    let mut small = Vec::new();
    image::RgbImage::new(1, 1)
        .write_to(&mut std::io::Cursor::new(&mut small), image::ImageFormat::Png)
        .unwrap();
    // IHDR starts at 8 (length) + 4 ("IHDR"); width and height are its first 8 bytes.
    small[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    small[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&small[12..29]);
    small[29..33].copy_from_slice(&crc.to_be_bytes());
    small
}

fn upload(app: &TestApp, token: &str, session: i64, kind: &str, file: &[u8]) -> Reply {
    app.upload_photo(token, session, kind, file)
}

fn bytes_of(app: &TestApp, token: &str, path: &str) -> (u16, Vec<u8>) {
    let mut r = app
        .agent
        .get(&app.url(path))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    (status, bytes)
}

#[test]
fn photos_are_checked_stripped_upright_and_seen_only_by_those_allowed() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let provider = app.token(&chen, STAFF_PASSWORD);
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        let bruno = app.add_patient("Bruno", Some("bruno@mail.example"));
        let ana_token = app.patient_token(&provider, ana, "ana own passphrase");
        let bruno_token = app.patient_token(&provider, bruno, "bruno own passphrase");
        let session = app.first_session(&provider, ana);

        // A real photo, 64 × 32 with "rotate 90°" and GPS in its EXIF.
        let sent = jpeg_with_exif(64, 32);
        assert!(sent.windows(4).any(|w| w == b"Exif"));
        let r = upload(app, &provider, session, "before", &sent);
        assert_eq!(r.status, 201, "{}", r.body);
        let photo = r.json();
        assert_eq!(
            (photo["width"].as_i64(), photo["height"].as_i64()),
            (Some(32), Some(64)),
            "turned upright"
        );
        let id = photo["id"].as_i64().unwrap();
        let (status, stored) = bytes_of(app, &provider, &format!("/api/v1/photos/{id}"));
        assert_eq!(status, 200);
        assert!(
            !stored.windows(4).any(|w| w == b"Exif"),
            "no EXIF (and so no GPS) in what is stored"
        );
        let decoded = image::load_from_memory(&stored).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (32, 64));
        assert_eq!(photo["sha256"], clinic_app::photos::sha256_hex(&stored).as_str());
        let (status, thumb) = bytes_of(app, &provider, &format!("/api/v1/photos/{id}/thumbnail"));
        assert_eq!(status, 200);
        assert!(image::load_from_memory(&thumb).is_ok());
        assert_eq!(
            upload(app, &provider, session, "after", &jpeg_with_exif(40, 40)).status,
            201
        );

        // The patient page shows them side by side, and uploads from a form.
        let browser = app.browser();
        app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &chen), ("password", STAFF_PASSWORD)],
        );
        let page = app.send(browser.get(&app.url(&format!("/patients/{ana}"))));
        assert!(page.body.contains("class=\"before-after\""), "{}", page.body);
        assert!(page.body.contains(&format!("src=\"/photos/{id}/thumbnail\"")));
        // The view is one audit row naming what the page showed: the chart, messages, photos.
        let of_ana: Vec<_> = clinic_db::audit::list(&mut app.db.conn(), Some(clinic_domain::PatientId(ana)), 1_000)
            .unwrap()
            .into_iter()
            .filter(|r| r.action != "photo.upload" && r.action != "photo.view")
            .collect();
        let viewed: Vec<_> = of_ana
            .iter()
            .filter(|r| r.detail.as_deref().is_some_and(|d| d.starts_with("patient page:")))
            .collect();
        assert_eq!(viewed.len(), 1, "{of_ana:?}");
        assert_eq!(viewed[0].action, "patient.read");
        assert!(viewed[0].detail.as_deref().is_some_and(|d| d.ends_with(", photos 2")));
        assert!(
            !of_ana
                .iter()
                .any(|r| r.action == "photo.list" || r.action == "messages.list"),
            "{of_ana:?}"
        );
        let (status, _) = {
            let mut r = browser
                .get(&app.url(&format!("/photos/{id}/thumbnail")))
                .call()
                .unwrap();
            (r.status().as_u16(), r.body_mut().read_to_vec().unwrap_or_default())
        };
        assert_eq!(status, 200);

        // Anything else is refused: a renamed text file, a truncated JPEG, a bomb, a wrong kind, too big.
        let refused = |file: &[u8], kind: &str| {
            let r = upload(app, &provider, session, kind, file);
            (
                r.status,
                r.json()["error"].as_str().map(str::to_owned),
                r.json()["field"].as_str().map(str::to_owned),
            )
        };
        let unsupported = (422, Some("unsupported_image".to_owned()), None);
        assert_eq!(refused(b"just some text, named photo.jpg", "before"), unsupported);
        assert_eq!(refused(&sent[..sent.len() / 2], "before"), unsupported, "truncated");
        assert_eq!(refused(&png_bomb(), "before"), unsupported, "decompression bomb");
        assert_eq!(refused(&sent, "during").2.as_deref(), Some("kind"));
        let huge = vec![0u8; 16 * 1024 * 1024];
        assert_eq!(refused(&huge, "before").0, 413);
        assert_eq!(
            upload(app, &ana_token, session, "before", &sent).status,
            403,
            "patients do not upload"
        );

        // Who sees what.
        let list = app
            .api("GET", &format!("/api/v1/patients/{ana}/photos"), Some(&provider), None)
            .json();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(
            bytes_of(app, &ana_token, &format!("/api/v1/photos/{id}")).0,
            404,
            "the clinic does not allow it yet"
        );
        let allow = json!({"name": "Clinic", "time_zone": "UTC", "patients_see_photos": true});
        let boss = app.add_staff("manager", "boss@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        assert_eq!(
            app.api("PUT", "/api/v1/clinic", Some(&manager), Some(&allow)).status,
            200
        );
        assert_eq!(
            bytes_of(app, &ana_token, &format!("/api/v1/photos/{id}")).0,
            200,
            "now her own"
        );
        assert_eq!(
            bytes_of(app, &bruno_token, &format!("/api/v1/photos/{id}")).0,
            404,
            "never another patient's"
        );

        // Withdrawn: hidden, kept.
        let w = app.api(
            "POST",
            &format!("/api/v1/photos/{id}/withdraw"),
            Some(&provider),
            Some(&json!({"reason": "wrong patient"})),
        );
        assert_eq!(w.status, 200, "{}", w.body);
        assert_eq!(bytes_of(app, &provider, &format!("/api/v1/photos/{id}")).0, 404);
        let w = app.api(
            "POST",
            &format!("/api/v1/photos/{id}/withdraw"),
            Some(&provider),
            Some(&json!({"reason": "again"})),
        );
        assert_eq!(w.json()["error"], "photo_withdrawn");
        let list = app
            .api("GET", &format!("/api/v1/patients/{ana}/photos"), Some(&provider), None)
            .json();
        assert_eq!(list.as_array().unwrap().len(), 1);

        let views = app
            .audit_rows()
            .into_iter()
            .filter(|r| r.action == "photo.view")
            .count();
        assert_eq!(
            views, 4,
            "every view shown is audited: the photo and two thumbnails to staff, hers to Ana"
        );
        let check = clinic_app::photos::check(&mut app.db.conn()).unwrap();
        assert_eq!((check.photos, check.problems.len()), (2, 0), "{:?}", check.problems);
    });
}
