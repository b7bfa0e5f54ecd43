//! The one Japanese typeface of vsys, IPAex Gothic (`assets/fonts/`): embedded whole in the
//! binary, subset per PDF by `documents::pdf`, and cut into web fonts for the pages here.
//!
//! **Web fonts.** The pages must show Japanese on a machine with no Japanese font installed,
//! without downloading 6 MB for a page of kana. The font is cut into slices by Unicode range
//! (Latin, punctuation and kana in one small slice; the common kanji of JIS X 0208 level 1 in
//! another; the rarer ideographs in two more), and the pages' `@font-face` rules name each
//! slice's `unicode-range`, so a browser fetches only the slices whose characters the page
//! shows. Each slice is built on its first request and kept.
//!
//! **Licence.** A slice is a "Derived Program" under the IPA Font License Agreement v1.0
//! (Article 3.1): it is licensed under the same agreement (served beside it), it must not carry
//! the original's name as its font or file name (so its naming table is replaced: the family is
//! "vsys Gothic Web"), and the means to replace it with the original are given (the licence
//! page links the original). PDFs embed subsets only to render their own text (Article 2.5).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile};
use printpdf::ParsedFont;

/// IPAex Gothic 00401, as released by IPA (https://moji.or.jp/ipafont/).
pub(crate) const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/ipaexg.ttf");

/// The licence the font and its slices are under.
pub const LICENCE: &str = include_str!("../../assets/fonts/IPA_Font_License_v1.0.txt");

/// The family name of the web slices (Article 3.1(4): not the original's name).
pub const WEB_FAMILY: &str = "vsys Gothic Web";

/// A web slice: its file name and the characters it holds.
pub struct WebSlice {
    pub name: &'static str,
    /// The Unicode ranges it covers (inclusive).
    pub ranges: &'static [(u32, u32)],
    /// Only the common kanji of the ranges (JIS X 0208 level 1), or only the others.
    pub kanji: KanjiPart,
}

/// Which ideographs of its ranges a slice holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KanjiPart {
    /// Every character of the ranges.
    All,
    /// The 2,965 kanji of JIS X 0208 level 1: what names, addresses and notices mostly use.
    Common,
    /// The ideographs that are not level 1.
    Rare,
}

const IDEOGRAPHS: &[(u32, u32)] = &[(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)];

/// The slices. In the style sheet the common kanji come last: where faces' ranges overlap,
/// a browser tries the last defined first, and so fetches a rare slice only for a character
/// the common one lacks.
pub const WEB_SLICES: &[WebSlice] = &[
    WebSlice {
        name: "kana",
        ranges: &[
            (0x0020, 0x007E),
            (0x00A0, 0x00FF),
            (0x2010, 0x206F),
            (0x2100, 0x22FF),
            (0x2460, 0x24FF),
            (0x2500, 0x27BF),
            (0x3000, 0x30FF),
            (0x31F0, 0x31FF),
            (0xFF00, 0xFFEF),
        ],
        kanji: KanjiPart::All,
    },
    WebSlice {
        name: "kanji-rare-1",
        ranges: &[(0x3400, 0x4DBF), (0x4E00, 0x7FFF)],
        kanji: KanjiPart::Rare,
    },
    WebSlice {
        name: "kanji-rare-2",
        ranges: &[(0x8000, 0x9FFF), (0xF900, 0xFAFF)],
        kanji: KanjiPart::Rare,
    },
    WebSlice {
        name: "kanji-common",
        ranges: IDEOGRAPHS,
        kanji: KanjiPart::Common,
    },
];

/// The kanji of JIS X 0208 level 1: rows 16 to 47, Shift_JIS 0x889F to 0x9872.
fn common_kanji() -> &'static BTreeSet<char> {
    static SET: OnceLock<BTreeSet<char>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = BTreeSet::new();
        for lead in 0x88u8..=0x98 {
            for trail in (0x40u8..=0x7E).chain(0x80..=0xFC) {
                if (lead == 0x88 && trail < 0x9F) || (lead == 0x98 && trail > 0x72) {
                    continue;
                }
                let bytes = [lead, trail];
                let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
                let Some(c) = text.chars().next() else {
                    continue;
                };
                let is_ideograph = IDEOGRAPHS
                    .iter()
                    .any(|&(a, b)| (a..=b).contains(&(c as u32)));
                if !bad && is_ideograph {
                    set.insert(c);
                }
            }
        }
        set
    })
}

impl WebSlice {
    /// Every character the slice holds.
    pub fn chars(&self) -> Vec<char> {
        let in_ranges = self
            .ranges
            .iter()
            .flat_map(|&(from, to)| (from..=to).filter_map(char::from_u32));
        match self.kanji {
            KanjiPart::All => in_ranges.collect(),
            KanjiPart::Common => in_ranges.filter(|c| common_kanji().contains(c)).collect(),
            KanjiPart::Rare => in_ranges.filter(|c| !common_kanji().contains(c)).collect(),
        }
    }

    /// The CSS `unicode-range` value: the ranges, or for the common kanji the exact
    /// characters, merged into runs.
    pub fn unicode_range(&self) -> String {
        self.unicode_range_from(0)
    }

    /// The same, without the code points below `first` (empty when nothing is left).
    pub fn unicode_range_from(&self, first: u32) -> String {
        let runs: Vec<(u32, u32)> = if self.kanji == KanjiPart::Common {
            let mut runs: Vec<(u32, u32)> = Vec::new();
            for c in self.chars() {
                let code = c as u32;
                match runs.last_mut() {
                    Some((_, end)) if *end + 1 == code => *end = code,
                    _ => runs.push((code, code)),
                }
            }
            runs
        } else {
            self.ranges.to_vec()
        };
        runs.iter()
            .filter(|&&(_, to)| to >= first)
            .map(|&(from, to)| (from.max(first), to))
            .map(|(from, to)| {
                if from == to {
                    format!("U+{from:04X}")
                } else {
                    format!("U+{from:04X}-{to:04X}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The whole font, parsed once (glyph lookups for the subsets).
pub(crate) fn japanese_font() -> &'static ParsedFont {
    static FONT: OnceLock<ParsedFont> = OnceLock::new();
    FONT.get_or_init(|| {
        ParsedFont::from_bytes(FONT_BYTES, 0, &mut Vec::new())
            .expect("the bundled IPAex Gothic font parses")
    })
}

/// The font cut down to the glyphs of `chars` (with .notdef first), as TrueType bytes.
pub(crate) fn subset(chars: impl IntoIterator<Item = char>) -> Result<Vec<u8>, String> {
    let full = japanese_font();
    let mut glyphs: Vec<u16> = chars
        .into_iter()
        .filter_map(|c| full.lookup_glyph_index(c as u32))
        .filter(|gid| *gid != 0)
        .collect();
    glyphs.sort_unstable();
    glyphs.dedup();
    glyphs.insert(0, 0);
    let scope = ReadScope::new(FONT_BYTES);
    let file = scope.read::<FontData<'_>>().map_err(|e| e.to_string())?;
    let provider = file.table_provider(0).map_err(|e| e.to_string())?;
    allsorts::subset::subset(
        &provider,
        &glyphs,
        &SubsetProfile::Minimal,
        CmapTarget::Unicode,
    )
    .map_err(|e| e.to_string())
}

/// The web slice called `name`, built on first use: TrueType bytes named "vsys Gothic Web".
pub fn web_slice(name: &str) -> Option<&'static [u8]> {
    static BUILT: [OnceLock<Vec<u8>>; WEB_SLICES.len()] =
        [const { OnceLock::new() }; WEB_SLICES.len()];
    let index = WEB_SLICES.iter().position(|s| s.name == name)?;
    let slice = &WEB_SLICES[index];
    let bytes = BUILT[index].get_or_init(|| {
        let cut = subset(slice.chars()).expect("the bundled font subsets");
        renamed(&cut, slice.name).expect("a subset of the bundled font is a valid sfnt")
    });
    Some(bytes.as_slice())
}

/// The naming table of a slice: the new family, and where it comes from and under which terms.
fn naming_table(slice: &str) -> Vec<u8> {
    let postscript = format!("vsysGothicWeb-{}", slice.replace('-', ""));
    let records: [(u16, String); 8] = [
        (
            0,
            "Derived from IPAex Gothic, Copyright(c) Information-technology Promotion Agency, \
             Japan (IPA), 2003-2019."
                .into(),
        ),
        (1, WEB_FAMILY.into()),
        (2, "Regular".into()),
        (3, format!("{WEB_FAMILY} {slice}")),
        (4, WEB_FAMILY.into()),
        (5, "Version 1.0 (a subset of IPAex Gothic 00401 for vsys)".into()),
        (6, postscript),
        (
            13,
            "Licensed under the IPA Font License Agreement v1.0 (served at /assets/fonts/LICENSE.txt). \
             To use the original instead, install IPAex Gothic from https://moji.or.jp/ipafont/."
                .into(),
        ),
    ];
    let mut strings: Vec<u8> = Vec::new();
    let mut table: Vec<u8> = Vec::new();
    let count = records.len() as u16;
    table.extend_from_slice(&0u16.to_be_bytes());
    table.extend_from_slice(&count.to_be_bytes());
    table.extend_from_slice(&(6 + 12 * count).to_be_bytes());
    for (name_id, text) in &records {
        let encoded: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        // Windows platform, Unicode BMP, US English.
        for value in [3u16, 1, 0x0409, *name_id] {
            table.extend_from_slice(&value.to_be_bytes());
        }
        table.extend_from_slice(&(encoded.len() as u16).to_be_bytes());
        table.extend_from_slice(&(strings.len() as u16).to_be_bytes());
        strings.extend_from_slice(&encoded);
    }
    table.extend_from_slice(&strings);
    table
}

fn checksum(bytes: &[u8]) -> u32 {
    bytes.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// `font` with its naming table replaced, the table directory and checksums rebuilt.
fn renamed(font: &[u8], slice: &str) -> Option<Vec<u8>> {
    let be16 = |at: usize| Some(u16::from_be_bytes(font.get(at..at + 2)?.try_into().ok()?));
    let be32 = |at: usize| Some(u32::from_be_bytes(font.get(at..at + 4)?.try_into().ok()?));
    let count = be16(4)? as usize;
    let mut tables: Vec<([u8; 4], Vec<u8>)> = Vec::with_capacity(count);
    for i in 0..count {
        let record = 12 + 16 * i;
        let tag: [u8; 4] = font.get(record..record + 4)?.try_into().ok()?;
        let (offset, length) = (be32(record + 8)? as usize, be32(record + 12)? as usize);
        let data = if &tag == b"name" {
            naming_table(slice)
        } else {
            font.get(offset..offset + length)?.to_vec()
        };
        tables.push((tag, data));
    }
    tables.sort_by_key(|(tag, _)| *tag);
    let mut out = font.get(0..12)?.to_vec();
    let directory_end = 12 + 16 * tables.len();
    let mut offset = directory_end;
    let mut body: Vec<u8> = Vec::new();
    let mut head_at = None;
    for (tag, data) in &mut tables {
        if tag == b"head" {
            // checkSumAdjustment is computed over the font with this field zeroed.
            data.get_mut(8..12)?.copy_from_slice(&[0; 4]);
            head_at = Some(offset);
        }
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        body.extend_from_slice(data);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        offset = directory_end + body.len();
    }
    out.extend_from_slice(&body);
    let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    let at = head_at? + 8;
    out.get_mut(at..at + 4)?
        .copy_from_slice(&adjustment.to_be_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings of a font's naming table, with their name ids.
    fn names(font: &[u8]) -> Vec<(u16, String)> {
        let be16 = |at: usize| u16::from_be_bytes([font[at], font[at + 1]]) as usize;
        let be32 = |at: usize| u32::from_be_bytes(font[at..at + 4].try_into().unwrap()) as usize;
        let record = (0..be16(4))
            .map(|i| 12 + 16 * i)
            .find(|&r| &font[r..r + 4] == b"name")
            .expect("a naming table");
        let table = be32(record + 8);
        let strings = table + be16(table + 4);
        (0..be16(table + 2))
            .map(|i| {
                let r = table + 6 + 12 * i;
                let (length, offset) = (be16(r + 8), be16(r + 10));
                let units: Vec<u16> = font[strings + offset..strings + offset + length]
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                (be16(r + 6) as u16, String::from_utf16(&units).unwrap())
            })
            .collect()
    }

    fn parsed(font: &[u8]) -> ParsedFont {
        ParsedFont::from_bytes(font, 0, &mut Vec::new()).expect("the slice parses")
    }

    fn has_glyph(font: &ParsedFont, c: char) -> bool {
        font.lookup_glyph_index(c as u32).is_some_and(|g| g != 0)
    }

    #[test]
    fn a_slice_is_renamed_and_keeps_its_glyphs() {
        let kana = web_slice("kana").unwrap();
        let names = names(kana);
        assert!(
            names.iter().any(|(id, n)| *id == 1 && n == WEB_FAMILY),
            "{names:?}"
        );
        // Article 3.1(4): the original's name is no font name of the slice.
        for (id, text) in &names {
            if [1, 3, 4, 6].contains(id) {
                assert!(!text.contains("IPA"), "name {id}: {text}");
            }
        }
        let face = parsed(kana);
        for c in ['あ', 'ア', '〇', 'A', '、'] {
            assert!(has_glyph(&face, c), "{c} is in the kana slice");
        }
        assert!(!has_glyph(&face, '東'), "kanji are in other slices");
        assert!(
            kana.len() < 400_000,
            "the kana slice is small: {}",
            kana.len()
        );
    }

    #[test]
    fn the_slices_cover_the_ideographs_of_a_venue_name() {
        for c in "目黒区特設会場東京都横浜病院予約可能若干空き有り".chars()
        {
            let slice = WEB_SLICES
                .iter()
                .find(|s| s.chars().contains(&c))
                .unwrap_or_else(|| panic!("{c} is in no slice"));
            assert!(
                has_glyph(&parsed(web_slice(slice.name).unwrap()), c),
                "{c} in {}",
                slice.name
            );
        }
    }

    #[test]
    fn the_common_slice_holds_level_one_and_the_rare_ones_the_rest() {
        assert_eq!(common_kanji().len(), 2965, "JIS X 0208 level 1");
        let common = WEB_SLICES
            .iter()
            .find(|s| s.kanji == KanjiPart::Common)
            .unwrap();
        let chars = common.chars();
        assert!(chars.contains(&'東') && chars.contains(&'亜') && chars.contains(&'腕'));
        assert!(
            chars.contains(&'黒') && !chars.contains(&'弌'),
            "弌 opens level 2"
        );
        let rare: Vec<char> = WEB_SLICES
            .iter()
            .filter(|s| s.kanji == KanjiPart::Rare)
            .flat_map(WebSlice::chars)
            .collect();
        assert!(rare.contains(&'弌') && !rare.contains(&'東'));
        assert!(
            common.unicode_range().starts_with("U+4E00"),
            "{}",
            &common.unicode_range()[..20]
        );
    }

    #[test]
    fn the_checksums_hold() {
        let font = web_slice("kana").unwrap();
        assert_eq!(
            checksum(font),
            0xB1B0_AFBA,
            "the whole font sums to the magic"
        );
    }
}
