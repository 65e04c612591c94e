//! Colours shared by the charts and the diagram: the Okabe–Ito palette, which stays
//! distinguishable with the common forms of colour blindness, on a light or dark ground.

use plotters::style::RGBColor;

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub bg: RGBColor,
    pub fg: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
    pub panel: RGBColor,
}

pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const GREEN: RGBColor = RGBColor(0, 158, 115);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const SKY: RGBColor = RGBColor(86, 180, 233);
pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
pub const YELLOW: RGBColor = RGBColor(240, 228, 66);

pub const LIGHT: Theme = Theme {
    bg: RGBColor(255, 255, 255),
    fg: RGBColor(31, 35, 40),
    muted: RGBColor(95, 103, 112),
    grid: RGBColor(228, 231, 235),
    panel: RGBColor(246, 248, 250),
};

pub const DARK: Theme = Theme {
    bg: RGBColor(22, 27, 34),
    fg: RGBColor(230, 237, 243),
    muted: RGBColor(150, 160, 170),
    grid: RGBColor(48, 54, 61),
    panel: RGBColor(30, 36, 44),
};

/// CSS `rgb()`/`rgba()` text for a colour.
pub fn css(c: RGBColor, alpha: f64) -> String {
    if alpha >= 1.0 {
        format!("rgb({},{},{})", c.0, c.1, c.2)
    } else {
        format!("rgba({},{},{},{alpha})", c.0, c.1, c.2)
    }
}
