//! The registration URL as a QR code, as printed on the initial registration QR sheet: for
//! the terminal (Unicode half blocks), and as SVG and PNG files.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit in a QR code.
    #[error("cannot encode the URL as a QR code: {0}")]
    Encode(String),
    /// The PNG could not be written.
    #[error("cannot write the PNG: {0}")]
    Png(String),
}

fn code(text: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| QrError::Encode(e.to_string()))
}

/// The QR code as text for a terminal (two modules per character, with a quiet zone).
pub fn terminal(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// The QR code as an SVG document.
pub fn svg(text: &str) -> Result<String, QrError> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The QR code as a grayscale PNG, `scale` pixels per module, with a 4-module quiet zone.
pub fn png(text: &str, scale: usize) -> Result<Vec<u8>, QrError> {
    let code = code(text)?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let side = (width + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % width + quiet, i / width + quiet);
            for dy in 0..scale {
                let row = (y * scale + dy) * side;
                pixels[row + x * scale..row + (x + 1) * scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let side_u32 = u32::try_from(side).map_err(|_| QrError::Png("image too large".into()))?;
    let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer.finish().map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://localhost:8080/r/yU9zoEjmeg-EK92SKyQDQJEzVRjIIv9G";

    #[test]
    fn renders_the_url_three_ways() {
        let t = terminal(URL).unwrap();
        assert!(t.lines().count() > 15);
        let s = svg(URL).unwrap();
        assert!(s.starts_with("<?xml") && s.contains("<svg"));
        let p = png(URL, 4).unwrap();
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        // The PNG decodes to a square image of the expected size.
        let decoder = png::Decoder::new(std::io::Cursor::new(p));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        let modules = code(URL).unwrap().width() + 8;
        assert_eq!(
            (info.width as usize, info.height as usize),
            (modules * 4, modules * 4)
        );
    }

    #[test]
    fn an_independent_decoder_reads_the_png_back() {
        let p = png(URL, 4).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(p))
            .read_info()
            .unwrap();
        let mut pixels = vec![0u8; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, text) = grids[0].decode().unwrap();
        assert_eq!(text, URL);
    }

    #[test]
    fn too_long_text_is_a_typed_error() {
        assert!(matches!(svg(&"x".repeat(5000)), Err(QrError::Encode(_))));
    }
}
