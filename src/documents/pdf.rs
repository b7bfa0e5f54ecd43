//! A4 pages drawn with printpdf: text in the embedded Japanese font, boxes, rules and QR codes.
//!
//! The font is IPAex Gothic, shipped in `assets/fonts` and compiled into the binary, so that
//! Japanese prints on a machine with no font installed. Each document embeds only the glyphs
//! it uses: printpdf subsets fonts only with its heavy layout feature, so this module subsets
//! with allsorts (which printpdf already builds on) before handing the font over. A page
//! costs kilobytes, not the font's 6 MB.
//!
//! Layout code works in millimetres from the **top-left** corner, as a form is drawn on paper;
//! this module turns that into PDF points from the bottom-left.

use std::collections::BTreeSet;

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rect, TextItem,
};

use super::fonts::{self, japanese_font};

pub const A4_WIDTH_MM: f32 = 210.0;
pub const A4_HEIGHT_MM: f32 = 297.0;

fn pt(mm: f32) -> Pt {
    Mm(mm).into()
}

/// The width of `text` at `size` points, in millimetres (glyph advances from the font).
pub fn text_width_mm(text: &str, size: f32) -> f32 {
    let font = japanese_font();
    let units: u32 = text
        .chars()
        .map(|c| {
            font.lookup_glyph_index(c as u32)
                .and_then(|gid| font.get_glyph_width(gid))
                .map(u32::from)
                .unwrap_or(u32::from(font.units_per_em))
        })
        .sum();
    let points = units as f32 / f32::from(font.units_per_em) * size;
    points * 25.4 / 72.0
}

/// Breaks `text` into lines no wider than `width_mm` (by character: Japanese has no spaces).
pub fn wrap(text: &str, width_mm: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if text_width_mm(&current, size) > width_mm && current.chars().count() > 1 {
            current.pop();
            lines.push(std::mem::take(&mut current));
            current.push(c);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// How text sits on its x coordinate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Centre,
    Right,
}

/// One page being drawn.
pub struct Page<'d> {
    ops: Vec<Op>,
    font: FontId,
    /// Every character the document prints, for the subset.
    used: &'d mut BTreeSet<char>,
}

impl Page<'_> {
    /// Writes `text` with its baseline `y` mm from the top.
    pub fn text(&mut self, x: f32, y: f32, size: f32, align: Align, text: &str) {
        if text.is_empty() {
            return;
        }
        self.used.extend(text.chars());
        let x = match align {
            Align::Left => x,
            Align::Centre => x - text_width_mm(text, size) / 2.0,
            Align::Right => x - text_width_mm(text, size),
        };
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(self.font.clone()),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point {
                    x: pt(x),
                    y: pt(A4_HEIGHT_MM - y),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }

    /// Writes `text` wrapped to `width` mm from baseline `y`; returns the y below the last line.
    pub fn paragraph(&mut self, x: f32, y: f32, width: f32, size: f32, text: &str) -> f32 {
        let leading = size * 0.45;
        let mut y = y;
        for line in wrap(text, width, size) {
            self.text(x, y, size, Align::Left, &line);
            y += leading;
        }
        y
    }

    /// An outlined box, `line` points thick.
    pub fn frame(&mut self, x: f32, y: f32, width: f32, height: f32, line: f32) {
        self.ops.push(Op::SetOutlineThickness { pt: Pt(line) });
        self.ops.push(Op::DrawRectangle {
            rectangle: self.rect(x, y, width, height, PaintMode::Stroke),
        });
    }

    /// A filled box in grey (`shade` 0 black … 1 white).
    pub fn fill(&mut self, x: f32, y: f32, width: f32, height: f32, shade: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale {
                percent: shade,
                icc_profile: None,
            }),
        });
        self.ops.push(Op::DrawRectangle {
            rectangle: self.rect(x, y, width, height, PaintMode::Fill),
        });
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale {
                percent: 0.0,
                icc_profile: None,
            }),
        });
    }

    /// A straight rule from (x1, y1) to (x2, y2).
    pub fn rule(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, line: f32) {
        let point = |x: f32, y: f32| LinePoint {
            p: Point {
                x: pt(x),
                y: pt(A4_HEIGHT_MM - y),
            },
            bezier: false,
        };
        self.ops.push(Op::SetOutlineThickness { pt: Pt(line) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![point(x1, y1), point(x2, y2)],
                is_closed: false,
            },
        });
    }

    /// A QR code of `data` (error correction M) in a square of `size` mm.
    pub fn qr(&mut self, x: f32, y: f32, size: f32, data: &str) {
        let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
            return; // digits only, far below the capacity: cannot fail in practice
        };
        let width = code.width();
        // Four modules of quiet zone on each side, as the standard asks.
        let module = size / (width + 8) as f32;
        let colors = code.to_colors();
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (row, column) = (i / width, i % width);
                let left = x + (column + 4) as f32 * module;
                let top = y + (row + 4) as f32 * module;
                self.ops.push(Op::DrawRectangle {
                    rectangle: self.rect(left, top, module, module, PaintMode::Fill),
                });
            }
        }
    }

    fn rect(&self, x: f32, y: f32, width: f32, height: f32, mode: PaintMode) -> Rect {
        let mut rect = Rect::from_xywh(pt(x), pt(A4_HEIGHT_MM - y - height), pt(width), pt(height));
        rect.mode = Some(mode);
        rect
    }
}

/// A document of A4 pages in the Japanese font.
pub struct Document {
    title: String,
    /// Stands for the subset font until the document is finished and the subset is known.
    font: FontId,
    pages: Vec<Vec<Op>>,
    used: BTreeSet<char>,
}

impl Document {
    pub fn new(title: &str) -> Document {
        Document {
            title: title.to_owned(),
            font: FontId::new(),
            pages: Vec::new(),
            used: BTreeSet::new(),
        }
    }

    /// Draws one more page.
    pub fn page(&mut self, draw: impl FnOnce(&mut Page)) {
        let mut page = Page {
            ops: Vec::new(),
            font: self.font.clone(),
            used: &mut self.used,
        };
        draw(&mut page);
        self.pages.push(page.ops);
    }

    /// The finished file, embedding the subset of the font that its text uses.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        let mut doc = PdfDocument::new(&self.title);
        let subset = subset_font(&self.used)?;
        let font = doc.add_font(&subset);
        let pages = self
            .pages
            .into_iter()
            .map(|mut ops| {
                for op in &mut ops {
                    if let Op::SetFont {
                        font: PdfFontHandle::External(id),
                        ..
                    } = op
                    {
                        *id = font.clone();
                    }
                }
                PdfPage::new(Mm(A4_WIDTH_MM), Mm(A4_HEIGHT_MM), ops)
            })
            .collect();
        doc.with_pages(pages);
        Ok(doc.save(&PdfSaveOptions::default(), &mut Vec::new()))
    }
}

/// The font cut down to the glyphs of `chars`, as a font printpdf can embed.
fn subset_font(chars: &BTreeSet<char>) -> Result<ParsedFont, String> {
    let bytes = fonts::subset(chars.iter().copied())?;
    ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
        .ok_or_else(|| "the font subset does not parse".to_owned())
}
