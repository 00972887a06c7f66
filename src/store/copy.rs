//! Rows for `COPY … FROM STDIN` in PostgreSQL's text format, the cheapest bulk path into a table: no statement
//! to plan, no array to unpack, no speculative insertion.

use std::fmt::{Display, Write as _};

use sqlx::PgConnection;

use super::Result;

/// Rows are sent in chunks of about this many bytes.
const CHUNK: usize = 256 * 1024;

/// A `COPY` in progress: fields are appended to a buffer that is sent whenever it fills up.
pub struct CopyIn<'c> {
    copy: sqlx::postgres::PgCopyIn<&'c mut PgConnection>,
    buf: Vec<u8>,
    first: bool,
}

impl<'c> CopyIn<'c> {
    /// Starts `statement` (a `COPY table (columns) FROM STDIN`) on `conn`.
    pub async fn start(conn: &'c mut PgConnection, statement: &'static str) -> Result<Self> {
        Ok(Self {
            copy: conn.copy_in_raw(statement).await?,
            buf: Vec::with_capacity(CHUNK + 4096),
            first: true,
        })
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
    }

    /// A field whose text form needs no escaping (numbers, booleans, hex).
    pub fn plain(&mut self, value: impl Display) -> &mut Self {
        self.sep();
        let _ = write!(ByteWriter(&mut self.buf), "{value}");
        self
    }

    /// A text field, escaped.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        escape_into(&mut self.buf, value.as_bytes());
        self
    }

    /// An optional text field (`\N` for NULL).
    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// An optional plain field (`\N` for NULL).
    pub fn opt_plain(&mut self, value: Option<impl Display>) -> &mut Self {
        match value {
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    /// An optional `bytea` field in hex form (`\N` for NULL).
    pub fn opt_bytes(&mut self, value: Option<&[u8]>) -> &mut Self {
        match value {
            Some(v) => {
                self.sep();
                // `\x` is bytea's hex prefix; COPY's text format needs its backslash doubled.
                self.buf.extend_from_slice(b"\\\\x");
                self.buf.extend_from_slice(alloy::hex::encode(v).as_bytes());
                self
            }
            None => self.null(),
        }
    }

    /// NULL.
    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    /// Ends the current row; sends the buffer once it is large enough.
    pub async fn end_row(&mut self) -> Result<()> {
        self.buf.push(b'\n');
        self.first = true;
        if self.buf.len() >= CHUNK {
            self.copy.send(self.buf.as_slice()).await?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Sends what is left and completes the `COPY`; returns the number of rows PostgreSQL stored.
    pub async fn finish(mut self) -> Result<u64> {
        if !self.buf.is_empty() {
            self.copy.send(self.buf.as_slice()).await?;
        }
        Ok(self.copy.finish().await?)
    }
}

struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Escapes a field for the text format: backslash, tab, newline and carriage return. Runs of other bytes are
/// copied whole.
pub fn escape_into(buf: &mut Vec<u8>, field: &[u8]) {
    let mut start = 0;
    while let Some(found) = special(&field[start..]) {
        let i = start + found;
        buf.extend_from_slice(&field[start..i]);
        buf.extend_from_slice(match field[i] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => b"\\r",
        });
        start = i + 1;
    }
    buf.extend_from_slice(&field[start..]);
}

/// The position of the first byte the text format escapes.
fn special(bytes: &[u8]) -> Option<usize> {
    match (
        memchr::memchr2(b'\\', b'\t', bytes),
        memchr::memchr2(b'\n', b'\r', bytes),
    ) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn escapes_only_what_copy_text_needs() {
        let mut buf = Vec::new();
        escape_into(&mut buf, "a\\b\tc\nd\re é\r\\".as_bytes());
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "a\\\\b\\tc\\nd\\re é\\r\\\\"
        );
        let mut buf = Vec::new();
        escape_into(&mut buf, b"plain");
        assert_eq!(buf, b"plain");
    }
}
