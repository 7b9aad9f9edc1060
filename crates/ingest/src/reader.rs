//! Opening inputs (files, `.gz`, standard input) and reading them in chunks.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read};

use rayon::prelude::*;
use serde_json::Value;
use waterline_model::Position;

use crate::detect::{self, Format};
use crate::mapping::{Mapping, json_lookup};
use crate::output::{FieldError, Output};
use crate::{IngestError, formats, waterline};

/// An opened input whose format is known.
pub struct Input {
    name: String,
    format: Format,
    body: Body,
}

enum Body {
    Lines {
        reader: Box<dyn BufRead + Send>,
        line: u64,
        offset: u64,
        mapping: Option<Mapping>,
    },
    Document {
        output: Option<Output>,
    },
    Csv {
        reader: Box<csv::Reader<Box<dyn Read + Send>>>,
        mapping: Mapping,
        columns: HashMap<String, usize>,
    },
    Empty,
}

fn io_error(name: &str) -> impl Fn(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io { path: name.to_owned(), source }
}

/// Opens `path` (`-` for standard input), decompresses gzip, and detects the format.
/// `format` forces a format; `mapping` is needed for CSV and generic JSON lines.
pub fn open(
    path: &str,
    format: Option<Format>,
    mapping: Option<&Mapping>,
) -> Result<Input, IngestError> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        let metadata = std::fs::metadata(path).map_err(io_error(path))?;
        if metadata.is_dir() {
            return Err(IngestError::Io {
                path: path.to_owned(),
                source: std::io::Error::other(
                    "is a directory (give files or a glob such as DIR/*.jsonl)",
                ),
            });
        }
        Box::new(std::fs::File::open(path).map_err(io_error(path))?)
    };
    let mut buffered = BufReader::with_capacity(1 << 20, raw);
    let is_gzip = buffered.fill_buf().map_err(io_error(path))?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead + Send> = if is_gzip {
        Box::new(BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
    };

    // Read the first non-blank line whole (it may be very long) to decide the format.
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let read = reader.read_until(b'\n', &mut line).map_err(io_error(path))?;
        head.extend_from_slice(&line);
        if read == 0 || !line.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    if head.iter().all(u8::is_ascii_whitespace) {
        return Ok(Input {
            name: path.to_owned(),
            format: format.unwrap_or(Format::Waterline),
            body: Body::Empty,
        });
    }
    if !detect::looks_like_text(&head) {
        return Err(IngestError::UnknownFormat {
            path: path.to_owned(),
            hint: "the content is binary, not JSON or CSV text".to_owned(),
        });
    }
    let chained: Box<dyn BufRead + Send> =
        Box::new(BufReader::with_capacity(1 << 20, Cursor::new(head.clone()).chain(reader)));
    let first = detect::trim_start(&head);
    let first_value: Option<Value> = serde_json::from_slice(first).ok();
    let detected = match format {
        Some(format) => format,
        None => {
            if detect::is_x_archive(first) {
                Format::XArchive
            } else if let Some(value) = &first_value {
                match (detect::sniff_value(value), mapping) {
                    (_, Some(_)) if value.is_object() && detect::sniff_value(value).is_none() => {
                        Format::MappedJson
                    }
                    (Some(found), _) => found,
                    (None, Some(_)) => Format::MappedJson,
                    (None, None) => {
                        return Err(IngestError::UnknownFormat {
                            path: path.to_owned(),
                            hint: "JSON of no known platform format; give a column mapping (--mapping FILE or --map FIELD=PATH) to read it as generic JSON lines".to_owned(),
                        });
                    }
                }
            } else if first.starts_with(b"{") || first.starts_with(b"[") {
                // A pretty-printed document: its first line is not complete JSON.
                return open_document(path, chained, None, mapping);
            } else if mapping.is_some() {
                Format::Csv
            } else {
                let hint = if first.contains(&b',')
                    || first.contains(&b';')
                    || first.contains(&b'\t')
                {
                    "this looks like CSV: give a column mapping with --mapping FILE or --map FIELD=COLUMN (see docs/mappings.md)"
                } else {
                    "not JSON, JSON lines, an X archive or CSV"
                };
                return Err(IngestError::UnknownFormat {
                    path: path.to_owned(),
                    hint: hint.to_owned(),
                });
            }
        }
    };
    match detected {
        Format::Csv => open_csv(path, chained, mapping),
        Format::XArchive => open_document(path, chained, Some(Format::XArchive), mapping),
        Format::MappedJson | Format::Waterline | Format::Bluesky => Ok(Input {
            name: path.to_owned(),
            format: detected,
            body: Body::Lines { reader: chained, line: 0, offset: 0, mapping: mapping.cloned() },
        }),
        Format::X | Format::Mastodon | Format::Reddit => {
            // One JSON value per line, or one document spread over lines.
            if first_value.is_some() && first.starts_with(b"{") {
                Ok(Input {
                    name: path.to_owned(),
                    format: detected,
                    body: Body::Lines { reader: chained, line: 0, offset: 0, mapping: None },
                })
            } else {
                open_document(path, chained, Some(detected), mapping)
            }
        }
    }
}

fn open_document(
    path: &str,
    mut reader: Box<dyn BufRead + Send>,
    format: Option<Format>,
    mapping: Option<&Mapping>,
) -> Result<Input, IngestError> {
    let mut bytes = Vec::new();
    let mut output = Output::default();
    if let Err(error) = reader.read_to_end(&mut bytes) {
        // What was decoded before the corruption is salvaged below; the corruption is one
        // rejected entry.
        let position =
            Position { line: None, byte_offset: Some(bytes.len() as u64), pointer: None };
        output.reject(position, corrupt(&error), "");
        // A character cut in two by the corruption is part of it.
        let valid = std::str::from_utf8(&bytes).map_or_else(|e| e.valid_up_to(), |_| bytes.len());
        bytes.truncate(valid);
    }
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(error) => {
            output.reject(
                Position {
                    line: None,
                    byte_offset: Some(error.valid_up_to() as u64),
                    pointer: None,
                },
                FieldError::new("$", format!("invalid UTF-8 at byte {}", error.valid_up_to())),
                "",
            );
            return Ok(Input {
                name: path.to_owned(),
                format: format.unwrap_or(Format::X),
                body: Body::Document { output: Some(output) },
            });
        }
    };
    if format == Some(Format::XArchive) || detect::is_x_archive(text.as_bytes()) {
        formats::x::parse_archive(text, &mut output);
        return Ok(Input {
            name: path.to_owned(),
            format: Format::XArchive,
            body: Body::Document { output: Some(output) },
        });
    }
    let values = match serde_json::from_str::<Value>(text) {
        Ok(value) => vec![(value, None)],
        Err(error) => salvage(text, &error, &mut output),
    };
    let detected = format
        .or_else(|| values.first().and_then(|(value, _)| detect::sniff_value(value)))
        .or(if mapping.is_some() { Some(Format::MappedJson) } else { None });
    let Some(detected) = detected else {
        if values.is_empty() {
            return Ok(Input {
                name: path.to_owned(),
                format: Format::X,
                body: Body::Document { output: Some(output) },
            });
        }
        return Err(IngestError::UnknownFormat {
            path: path.to_owned(),
            hint: "JSON of no known platform format; give a column mapping (--mapping FILE or --map FIELD=PATH)".to_owned(),
        });
    };
    for (value, pointer) in values {
        match pointer {
            None => dispatch(detected, &value, None, mapping, &mut output),
            Some(pointer) => {
                // An element salvaged from a damaged array: parse it as a document of its own
                // and prefix the positions with its place in the array.
                let mut element = Output::default();
                dispatch(detected, &value, None, mapping, &mut element);
                for mut record in element.records {
                    record.position.pointer =
                        Some(format!("{pointer}{}", record.position.pointer.unwrap_or_default()));
                    output.records.push(record);
                }
                for mut rejection in element.rejected {
                    rejection.position.pointer = Some(format!(
                        "{pointer}{}",
                        rejection.position.pointer.unwrap_or_default()
                    ));
                    output.rejected.push(rejection);
                }
            }
        }
    }
    Ok(Input {
        name: path.to_owned(),
        format: detected,
        body: Body::Document { output: Some(output) },
    })
}

/// Recovers the complete elements of a damaged top-level JSON array; the damaged rest is
/// one rejected record.
fn salvage(
    text: &str,
    error: &serde_json::Error,
    output: &mut Output,
) -> Vec<(Value, Option<String>)> {
    let mut values = Vec::new();
    let bytes = text.as_bytes();
    let trimmed_start = bytes.len() - detect::trim_start(bytes).len();
    let reject_rest = |offset: usize, reason: String, output: &mut Output| {
        let line = text[..offset.min(text.len())].matches('\n').count() as u64 + 1;
        output.reject(
            Position { line: Some(line), byte_offset: Some(offset as u64), pointer: None },
            FieldError::new("$", reason),
            &text[offset.min(text.len())..],
        );
    };
    if bytes.get(trimmed_start) != Some(&b'[') {
        let reason = if error.is_eof() {
            "truncated JSON document".to_owned()
        } else {
            format!("invalid JSON: {error}")
        };
        reject_rest(trimmed_start, reason, output);
        return values;
    }
    let mut position = trimmed_start + 1;
    let mut index = 0usize;
    loop {
        while position < bytes.len()
            && (bytes[position].is_ascii_whitespace() || bytes[position] == b',')
        {
            position += 1;
        }
        if position >= bytes.len() {
            reject_rest(position, "truncated JSON array (no closing `]`)".to_owned(), output);
            break;
        }
        if bytes[position] == b']' {
            break;
        }
        let mut stream = serde_json::Deserializer::from_str(&text[position..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                values.push((value, Some(format!("/{index}"))));
                position += stream.byte_offset();
                index += 1;
            }
            Some(Err(element_error)) => {
                let reason = if element_error.is_eof() {
                    format!("truncated JSON in element {index}")
                } else {
                    format!("invalid JSON in element {index}: {element_error}")
                };
                reject_rest(position, reason, output);
                break;
            }
            None => break,
        }
    }
    values
}

/// The rejection of a read error partway through an input.
fn corrupt(error: &std::io::Error) -> FieldError {
    FieldError::new(
        "$",
        format!(
            "the input is corrupt or truncated here ({error}); nothing after this point could be read"
        ),
    )
}

fn dispatch(
    format: Format,
    value: &Value,
    line: Option<u64>,
    mapping: Option<&Mapping>,
    output: &mut Output,
) {
    let position = || match line {
        Some(line) => Position::line(line),
        None => Position::default(),
    };
    match format {
        Format::X => formats::x::parse_document(value, line, output),
        Format::XArchive => formats::x::parse_archive(&value.to_string(), output),
        Format::Mastodon => formats::mastodon::parse_document(value, line, output),
        Format::Bluesky => formats::bluesky::parse_document(value, line, output),
        Format::Reddit => formats::reddit::parse_document(value, line, output),
        Format::Waterline => match serde_json::to_vec(value) {
            Ok(bytes) => match waterline::parse_line(&bytes) {
                Ok(record) => output.push(position(), record),
                Err(error) => output.reject(position(), error, &value.to_string()),
            },
            Err(error) => output.reject(position(), FieldError::new("$", error.to_string()), ""),
        },
        Format::MappedJson | Format::Csv => {
            let Some(mapping) = mapping else {
                output.reject(
                    position(),
                    FieldError::new("$", "no column mapping given"),
                    &value.to_string(),
                );
                return;
            };
            match value {
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let position = Position::pointer(line, format!("/{index}"));
                        match mapping.build(&|path| json_lookup(item, path)) {
                            Ok(record) => output.push(position, record),
                            Err(error) => output.reject(position, error, &item.to_string()),
                        }
                    }
                }
                item => match mapping.build(&|path| json_lookup(item, path)) {
                    Ok(record) => output.push(position(), record),
                    Err(error) => output.reject(position(), error, &item.to_string()),
                },
            }
        }
    }
}

fn open_csv(
    path: &str,
    reader: Box<dyn BufRead + Send>,
    mapping: Option<&Mapping>,
) -> Result<Input, IngestError> {
    let Some(mapping) = mapping else {
        return Err(IngestError::UnknownFormat {
            path: path.to_owned(),
            hint: "CSV needs a column mapping".to_owned(),
        });
    };
    let mut reader = reader;
    let header_peek = reader.fill_buf().map_err(io_error(path))?;
    let header_line = header_peek.split(|byte| *byte == b'\n').next().unwrap_or_default();
    let delimiter = match mapping.delimiter {
        Some(delimiter) => u8::try_from(delimiter).unwrap_or(b','),
        None => detect::csv_delimiter(header_line),
    };
    let boxed: Box<dyn Read + Send> = Box::new(reader);
    let mut csv_reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(boxed);
    let headers = csv_reader.byte_headers().map_err(|error| IngestError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(error.to_string()),
    })?;
    let columns: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(index, name)| {
            (String::from_utf8_lossy(name).trim().trim_start_matches('\u{feff}').to_owned(), index)
        })
        .collect();
    for column in mapping.source_columns() {
        if !columns.contains_key(column) {
            let mut available: Vec<&String> = columns.keys().collect();
            available.sort_by_key(|name| columns.get(*name).copied().unwrap_or(0));
            return Err(IngestError::MissingColumn {
                path: path.to_owned(),
                column: column.to_owned(),
                available: available
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(Input {
        name: path.to_owned(),
        format: Format::Csv,
        body: Body::Csv { reader: Box::new(csv_reader), mapping: mapping.clone(), columns },
    })
}

impl Input {
    /// The input's name (its path, or `-`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The detected (or forced) format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Reads the next chunk of at most about `max_records` records; `None` at the end.
    /// A read error partway (a truncated or corrupt `.gz`, a failing disk) ends the input:
    /// the records decoded before it are in the chunk, the corruption itself is one rejected
    /// entry with its position, and the next call answers `None`.
    pub fn next_chunk(&mut self, max_records: usize) -> Result<Option<Output>, IngestError> {
        let mut ended = false;
        let chunk = self.read_chunk(max_records, &mut ended);
        if ended {
            self.body = Body::Empty;
        }
        chunk
    }

    fn read_chunk(
        &mut self,
        max_records: usize,
        ended: &mut bool,
    ) -> Result<Option<Output>, IngestError> {
        let format = self.format;
        match &mut self.body {
            Body::Empty => Ok(None),
            Body::Document { output } => Ok(output.take()),
            Body::Lines { reader, line, offset, mapping } => {
                // Read the chunk's lines, then parse them in parallel and keep their order.
                let mut lines: Vec<(Position, Vec<u8>)> =
                    Vec::with_capacity(max_records.min(1 << 16));
                let mut corruption = None;
                while lines.len() < max_records {
                    let mut buffer = Vec::with_capacity(512);
                    let read = match reader.read_until(b'\n', &mut buffer) {
                        Ok(read) => read,
                        Err(error) => {
                            let position = Position {
                                line: Some(*line + 1),
                                byte_offset: Some(*offset),
                                pointer: None,
                            };
                            corruption = Some((position, error, buffer));
                            *ended = true;
                            break;
                        }
                    };
                    if read == 0 {
                        break;
                    }
                    *line += 1;
                    let start = *offset;
                    *offset += read as u64;
                    if trim_line(&buffer).is_empty() {
                        continue;
                    }
                    lines.push((
                        Position { line: Some(*line), byte_offset: Some(start), pointer: None },
                        buffer,
                    ));
                }
                if lines.is_empty() && corruption.is_none() {
                    return Ok(None);
                }
                let mapping = mapping.as_ref();
                let parsed: Vec<Output> = lines
                    .par_iter()
                    .with_min_len(256)
                    .map(|(position, buffer)| {
                        let mut output = Output::default();
                        read_line(
                            format,
                            trim_line(buffer),
                            position.clone(),
                            mapping,
                            &mut output,
                        );
                        output
                    })
                    .collect();
                let mut output = Output::default();
                for part in parsed {
                    output.records.extend(part.records);
                    output.rejected.extend(part.rejected);
                }
                if let Some((position, error, partial)) = corruption {
                    output.reject(position, corrupt(&error), &String::from_utf8_lossy(&partial));
                }
                Ok(Some(output))
            }
            Body::Csv { reader, mapping, columns } => {
                let mut output = Output::default();
                let mut record = csv::ByteRecord::new();
                let expected = columns.len();
                while output.read() < max_records as u64 {
                    match reader.read_byte_record(&mut record) {
                        Ok(false) => break,
                        Ok(true) => {
                            let line = record.position().map_or(0, csv::Position::line);
                            let byte = record.position().map(csv::Position::byte);
                            let position =
                                Position { line: Some(line), byte_offset: byte, pointer: None };
                            let raw = String::from_utf8_lossy(record.as_slice()).into_owned();
                            if record.len() != expected {
                                output.reject(
                                    position,
                                    FieldError::new(
                                        "$",
                                        format!(
                                            "expected {expected} fields, found {}",
                                            record.len()
                                        ),
                                    ),
                                    &raw,
                                );
                                continue;
                            }
                            let mut bad_utf8 = None;
                            for (name, index) in columns.iter() {
                                if let Some(field) = record.get(*index)
                                    && std::str::from_utf8(field).is_err()
                                    && mapping.source_columns().contains(&name.as_str())
                                {
                                    bad_utf8 = Some(name.clone());
                                }
                            }
                            if let Some(column) = bad_utf8 {
                                output.reject(
                                    position,
                                    FieldError::new(column, "invalid UTF-8"),
                                    &raw,
                                );
                                continue;
                            }
                            let lookup = |column: &str| {
                                let index = columns.get(column)?;
                                let field = record.get(*index)?;
                                std::str::from_utf8(field).ok().map(str::to_owned)
                            };
                            match mapping.build(&lookup) {
                                Ok(built) => output.push(position, built),
                                Err(error) => output.reject(position, error, &raw),
                            }
                        }
                        Err(error) => {
                            let position = error
                                .position()
                                .map(|position| Position {
                                    line: Some(position.line()),
                                    byte_offset: Some(position.byte()),
                                    pointer: None,
                                })
                                .unwrap_or_default();
                            if let csv::ErrorKind::Io(io) = error.kind() {
                                output.reject(position, corrupt(io), "");
                                *ended = true;
                                break;
                            }
                            output.reject(position, FieldError::new("$", error.to_string()), "");
                        }
                    }
                }
                if output.read() == 0 { Ok(None) } else { Ok(Some(output)) }
            }
        }
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(line);
    let mut end = line.len();
    while end > 0 && line[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    let start = line[..end].iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(end);
    &line[start..end]
}

fn read_line(
    format: Format,
    content: &[u8],
    position: Position,
    mapping: Option<&Mapping>,
    output: &mut Output,
) {
    if let Err(error) = std::str::from_utf8(content) {
        output.reject(
            position,
            FieldError::new(
                "$",
                format!("invalid UTF-8 at byte {} of the line", error.valid_up_to()),
            ),
            &String::from_utf8_lossy(content),
        );
        return;
    }
    let raw = || String::from_utf8_lossy(content).into_owned();
    if format == Format::Waterline {
        match waterline::parse_line(content) {
            Ok(record) => output.push(position, record),
            Err(error) => output.reject(position, error, &raw()),
        }
        return;
    }
    match serde_json::from_slice::<Value>(content) {
        Ok(value) => {
            let line = position.line;
            let before = output.read();
            dispatch(format, &value, line, mapping, output);
            // Give every record of this line its byte offset too.
            let added_records = output.records.len();
            let _ = before;
            for record in output.records.iter_mut().rev().take(added_records) {
                if record.position.line == line && record.position.byte_offset.is_none() {
                    record.position.byte_offset = position.byte_offset;
                } else {
                    break;
                }
            }
        }
        Err(error) => {
            let reason = if error.is_eof() {
                "truncated JSON".to_owned()
            } else {
                format!("invalid JSON: {error}")
            };
            output.reject(position, FieldError::new("$", reason), &raw());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip_of_lines(count: usize) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for index in 0..count {
            writeln!(
                encoder,
                r#"{{"platform":"x","id":"{index}","author_handle":"a{}","created_at":"2026-03-02T09:00:00Z","text":"post number {index} with some words to compress less well {}"}}"#,
                index % 97,
                index * 7919 % 10007
            )
            .unwrap();
        }
        encoder.finish().unwrap()
    }

    #[test]
    fn a_truncated_gzip_accounts_for_every_record_decoded_before_the_corruption() {
        let whole = gzip_of_lines(50_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.jsonl.gz");
        std::fs::write(&path, &whole[..whole.len() * 2 / 3]).unwrap();
        let mut input = open(path.to_str().unwrap(), None, None).unwrap();
        let (mut records, mut rejected, mut chunks) = (0, Vec::new(), 0);
        while let Some(chunk) = input.next_chunk(20_000).unwrap() {
            chunks += 1;
            records += chunk.records.len();
            rejected.extend(chunk.rejected);
        }
        assert!(chunks >= 2, "read past the first batch");
        assert!(records > 20_000 && records < 50_000, "{records}");
        // The corruption is one rejected entry, after the last record decoded.
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        let corruption = &rejected[0];
        assert_eq!(corruption.position.line, Some(records as u64 + 1));
        assert!(corruption.error.reason.contains("corrupt or truncated"));
        // And the input has ended.
        assert!(input.next_chunk(20_000).unwrap().is_none());
    }
}
