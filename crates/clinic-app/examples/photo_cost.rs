//! What a 12-megapixel photo costs to accept: decoding, turning upright, re-encoding without metadata
//! and the thumbnail (`clinic_app::photos::process`), in time and peak memory of this process.
//! Run: cargo run --release -p clinic-app --example photo_cost
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

fn peak_rss_mb() -> f64 {
    // VmHWM in /proc/self/status: the peak resident set, in kB.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    // 4000 × 3000, a camera's photo: a gradient with noise, so it does not compress to nothing.
    let (w, h) = (4000u32, 3000u32);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed & 31) as u8;
        image::Rgb([(x % 256) as u8 ^ n, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .unwrap();
    drop(img);
    let before = peak_rss_mb();
    println!(
        "input: {w} x {h} JPEG, {:.1} MB; peak RSS before: {before:.0} MB",
        jpeg.len() as f64 / 1e6
    );
    for round in 1..=3 {
        let started = Instant::now();
        let done = clinic_app::photos::process(&jpeg).unwrap();
        println!(
            "round {round}: {:.0} ms; stored {:.1} MB, thumbnail {:.0} kB; peak RSS {:.0} MB",
            started.elapsed().as_secs_f64() * 1000.0,
            done.image.len() as f64 / 1e6,
            done.thumbnail.len() as f64 / 1e3,
            peak_rss_mb()
        );
    }
}
