//! Reading an uploaded CSV: its text in UTF-8 (with or without the byte-order mark Excel
//! writes) or Shift_JIS (Excel's default "CSV" on a Japanese Windows), then its header and rows.

use std::collections::HashMap;

use crate::error::{AppError, AppResult, RowError, csv_line};

/// The file's text. UTF-8 when the bytes are valid UTF-8; otherwise Shift_JIS, which must then
/// decode without a single invalid byte (a file in neither is refused, never half-read).
pub fn decode(bytes: &[u8]) -> AppResult<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(AppError::invalid_field(
            "file",
            "the file is neither UTF-8 nor Shift_JIS text / ファイルの文字コードを読めません（UTF-8 または Shift_JIS で保存してください）",
        ));
    }
    Ok(text.into_owned())
}

/// A column the importer reads: its names as a header may give them (Japanese, English).
pub struct Column {
    pub key: &'static str,
    pub names: &'static [&'static str],
}

/// One data row: its line number in the file and its cells by column key.
pub struct Row {
    pub line: usize,
    cells: HashMap<&'static str, String>,
}

impl Row {
    /// The cell of `key`, trimmed; empty when the file has no such column.
    pub fn cell(&self, key: &str) -> &str {
        self.cells.get(key).map_or("", String::as_str)
    }
}

/// The rows of `text` under its header. Every column of `columns` must be named by the header
/// (an unknown column is refused too: a misspelt header would otherwise lose its data). Rows
/// whose cells are all empty (a template's unused lines) are counted, not returned. Unreadable
/// lines are row errors.
pub fn rows(text: &str, columns: &[Column]) -> AppResult<(Vec<Row>, usize, Vec<RowError>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|_| {
        AppError::invalid_field(
            "file",
            "the CSV has no readable header row / 見出し行が読めません",
        )
    })?;
    let mut positions = HashMap::new();
    for (index, header) in headers.iter().enumerate() {
        let header = header.trim();
        if header.is_empty() {
            continue;
        }
        let Some(column) = columns.iter().find(|c| c.names.contains(&header)) else {
            return Err(AppError::invalid_field(
                "file",
                format!("unknown column {header:?} / 不明な列です: {header}"),
            ));
        };
        positions.insert(column.key, index);
    }
    for column in columns {
        if !positions.contains_key(column.key) {
            return Err(AppError::invalid_field(
                "file",
                format!(
                    "the header lacks the column {:?} / 列「{}」がありません",
                    column.names[1], column.names[0]
                ),
            ));
        }
    }
    let mut rows = Vec::new();
    let mut empty = 0;
    let mut errors = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(_) => {
                errors.push(RowError {
                    row: index + 2,
                    field: None,
                    message: "the line cannot be read as CSV / CSVとして読めません".into(),
                });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            empty += 1;
            continue;
        }
        let line = record.position().map_or(index + 2, |p| csv_line(text, p));
        let cells = positions
            .iter()
            .map(|(key, &i)| (*key, record.get(i).unwrap_or("").to_owned()))
            .collect();
        rows.push(Row { line, cells });
    }
    Ok((rows, empty, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            key: "name",
            names: &["氏名", "name"],
        },
        Column {
            key: "age",
            names: &["年齢", "age"],
        },
    ];

    #[test]
    fn utf8_with_or_without_bom_and_shift_jis_decode_to_the_same_text() {
        let text = "氏名,年齢\n山田 太郎,40\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(text.as_bytes()).unwrap(), text);
        assert_eq!(decode(&bom).unwrap(), text);
        assert_eq!(decode(&sjis).unwrap(), text);
    }

    #[test]
    fn bytes_in_neither_encoding_are_refused() {
        // 0x81 0x20: a Shift_JIS lead byte followed by a byte that cannot trail it.
        let error = decode(b"\x81\x20abc").unwrap_err();
        assert_eq!(error.code(), crate::error::code::INVALID_INPUT);
    }

    #[test]
    fn rows_keep_their_line_numbers_and_empty_rows_are_counted() {
        let text = "name,年齢\n山田,40\n,\n\n佐藤,30\n";
        let (rows, empty, errors) = rows(text, COLUMNS).unwrap();
        assert!(errors.is_empty());
        assert_eq!(empty, 1);
        let lines: Vec<(usize, &str)> = rows.iter().map(|r| (r.line, r.cell("name"))).collect();
        assert_eq!(lines, [(2, "山田"), (5, "佐藤")]);
    }

    #[test]
    fn unknown_and_missing_columns_are_refused() {
        assert!(rows("name,age,extra\n", COLUMNS).is_err());
        assert!(rows("name\n", COLUMNS).is_err());
    }
}
