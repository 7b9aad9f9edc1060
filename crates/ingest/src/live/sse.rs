//! A server-sent events reader: bytes in, events and heartbeats out.

/// One thing read from an event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseItem {
    /// An event: its name (`message` when none is given) and its data lines joined by `\n`.
    Event { event: String, data: String },
    /// A comment line (`:thump`): a heartbeat.
    Comment,
}

/// Splits a byte stream into lines and lines into events.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    pending: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    /// Feeds bytes; returns what they complete.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<SseItem> {
        self.pending.extend_from_slice(bytes);
        let mut items = Vec::new();
        let mut start = 0;
        while let Some(offset) = memchr::memchr(b'\n', &self.pending[start..]) {
            let end = start + offset;
            let mut line = &self.pending[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let line = String::from_utf8_lossy(line).into_owned();
            start = end + 1;
            self.line(&line, &mut items);
        }
        self.pending.drain(..start);
        items
    }

    fn line(&mut self, line: &str, items: &mut Vec<SseItem>) {
        if line.is_empty() {
            if self.event.is_some() || self.data.is_some() {
                let event = self.event.take().unwrap_or_else(|| "message".to_owned());
                let data = self.data.take().unwrap_or_default();
                items.push(SseItem::Event { event, data });
            }
            return;
        }
        if line.starts_with(':') {
            items.push(SseItem::Comment);
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_comments_and_multi_line_data_across_chunks() {
        let mut parser = SseParser::default();
        let mut items = parser.feed(b":thump\n\nevent: update\ndata: {\"a\":\ndata:  1}\r\n");
        items.extend(parser.feed(b"\r\nevent: delete\nda"));
        items.extend(parser.feed(b"ta: 42\n\ndata: x\nid: 3\n\n"));
        assert_eq!(
            items,
            vec![
                SseItem::Comment,
                SseItem::Event { event: "update".into(), data: "{\"a\":\n 1}".into() },
                SseItem::Event { event: "delete".into(), data: "42".into() },
                SseItem::Event { event: "message".into(), data: "x".into() },
            ]
        );
    }
}
