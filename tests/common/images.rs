//! Logo images for the tests: a real 1×1 PNG, a safe SVG, and the files operators might
//! mistake for logos.

use credentialconnect::domain::logo::Logo;

/// A 1×1 PNG (signature, IHDR, IDAT, IEND).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x0f, 0x04, 0x00,
    0x09, 0xfb, 0x03, 0xfd, 0xe3, 0x55, 0xf2, 0x9c, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// A 1×1 GIF.
pub const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// A logo as a designer's tool exports it: gradient, inline style, internal references.
pub const SVG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="40" viewBox="0 0 120 40">
  <defs>
    <linearGradient id="g"><stop offset="0" stop-color="#123c69"/><stop offset="1" stop-color="#0b4f9c"/></linearGradient>
    <style>.word { font: bold 16px sans-serif; fill: url(#g); }</style>
  </defs>
  <rect id="box" width="36" height="36" x="2" y="2" rx="6" fill="url(#g)"/>
  <use xlink:href="#box" x="80"/>
  <text class="word" x="42" y="26">Bob</text>
</svg>
"##;

/// [`SVG`] with `inside` added before its end.
pub fn svg_with(inside: &str) -> String {
    SVG.replace("</svg>", &format!("{inside}\n</svg>"))
}

/// A checked logo, as `--logo` would give the services.
pub fn logo(bytes: &[u8]) -> Logo {
    Logo::check(bytes.to_vec()).expect("a valid logo")
}

/// Writes `bytes` to `name` in `dir`; returns the path as text.
pub fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.display().to_string()
}

/// A 50 MB file starting like a PNG, sparse: nothing is written but its header.
pub fn huge_png(dir: &std::path::Path) -> String {
    let path = dir.join("huge.png");
    std::fs::write(&path, PNG).expect("write");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open")
        .set_len(50 * 1024 * 1024)
        .expect("size");
    path.display().to_string()
}
