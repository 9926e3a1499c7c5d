//! QR codes as inline SVG (login cards, the appliance's address label).

use qrcode::QrCode;
use qrcode::render::svg;

/// An SVG QR code of `text` (medium error correction: survives a creased card).
pub fn svg(text: &str) -> String {
    match QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        // Only inputs longer than a QR code can hold fail; ours are short URLs.
        Err(_) => String::new(),
    }
}

/// A QR code drawn with Unicode half blocks, for the console at start.
pub fn terminal(text: &str) -> String {
    match QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build(),
        Err(_) => String::new(),
    }
}
