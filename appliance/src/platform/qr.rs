//! QR codes: drawn as inline SVG (login cards, the appliance's address label) and read
//! from a picture (a teacher's computer joining its school by the label's photo).

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

/// Why a picture gave no QR code's text.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// Not a PNG or JPEG picture, or a broken one.
    #[error("not a readable PNG or JPEG picture: {0}")]
    Picture(String),
    /// A picture, with no QR code that decodes.
    #[error("no QR code in the picture")]
    NoCode,
}

/// Pictures larger than this (in pixels, each side) are refused before decoding: a
/// crafted header must not make the server allocate gigabytes.
const MAX_SIDE: usize = 8_000;
/// Pictures are looked at this size at most (a QR code photographed from a screen or a
/// sheet stays readable; a 12-megapixel photo would take seconds).
const LOOK_AT: usize = 1_600;

/// The text of the first QR code in a PNG or JPEG picture (a photo of the appliance's
/// label, a screenshot of its page).
pub fn read(picture: &[u8]) -> Result<String, Unreadable> {
    let (width, height, luma) = if picture.starts_with(b"\x89PNG") { png_luma(picture)? } else { jpeg_luma(picture)? };
    // Nearest-pixel sampling down to LOOK_AT: enough for the finder patterns.
    let step = width.max(height).div_ceil(LOOK_AT).max(1);
    let (w, h) = (width / step, height / step);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * step * width + x * step]);
    prepared.detect_grids().iter().find_map(|grid| grid.decode().ok()).map(|(_, text)| text).ok_or(Unreadable::NoCode)
}

fn too_large(width: usize, height: usize) -> Result<(), Unreadable> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Unreadable::Picture(format!("{width}×{height} pixels")));
    }
    Ok(())
}

/// A PNG's pixels as one luminance byte each.
fn png_luma(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), Unreadable> {
    let bad = |e: png::DecodingError| Unreadable::Picture(e.to_string());
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // 8-bit samples, palettes expanded: one layout to read below.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let header = decoder.read_header_info().map_err(bad)?;
    too_large(header.width as usize, header.height as usize)?;
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader.output_buffer_size().ok_or_else(|| Unreadable::Picture("too large".into()))?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(bad)?;
    let (width, height) = (frame.width as usize, frame.height as usize);
    let channels = frame.color_type.samples();
    let luma = buffer[..frame.buffer_size()]
        .chunks_exact(channels)
        .map(|p| match channels {
            // Grey, grey + alpha: the grey.
            1 | 2 => p[0],
            // RGB(A): Rec. 601 luma (integer weights summing to 256).
            _ => ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8) as u8,
        })
        .collect();
    Ok((width, height, luma))
}

/// A JPEG's pixels as one luminance byte each.
fn jpeg_luma(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), Unreadable> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(MAX_SIDE)
        .set_max_height(MAX_SIDE);
    let mut decoder =
        zune_jpeg::JpegDecoder::new_with_options(zune_jpeg::zune_core::bytestream::ZCursor::new(bytes), options);
    let luma = decoder.decode().map_err(|e| Unreadable::Picture(format!("{e:?}")))?;
    let info = decoder.info().ok_or_else(|| Unreadable::Picture("no JPEG header".into()))?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    too_large(width, height)?;
    if luma.len() < width * height {
        return Err(Unreadable::Picture("short JPEG".into()));
    }
    Ok((width, height, luma))
}
