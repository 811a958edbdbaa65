//! SQLite: one file in WAL mode, so that the page reads while the poller writes.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::conn::{Cell, Conn, Dialect, Row, StoreError, Value};

pub(crate) struct Sqlite {
    conn: rusqlite::Connection,
}

fn error(e: rusqlite::Error) -> StoreError {
    StoreError(format!("sqlite: {e}"))
}

impl Sqlite {
    pub(crate) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = rusqlite::Connection::open(path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(error)?;
        // WAL: readers never block the writer; NORMAL: a commit survives a crash of the process
        // (kill -9), and only an OS crash can lose the last commits, never corrupt the file.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(error)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Sqlite { conn })
    }
}

/// `$1` → `?1`: SQLite reads `$1` as a name, numbered by first appearance, not by its digits.
fn positional(sql: &str) -> String {
    sql.replace('$', "?")
}

struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Int(Some(n)) => ToSqlOutput::from(*n),
            Value::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Int(None) | Value::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

impl Conn for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(&positional(sql)).map_err(error)?;
        let params: Vec<Param<'_>> = params.iter().map(Param).collect();
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(error)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&positional(sql)).map_err(error)?;
        let columns = stmt.column_count();
        let params: Vec<Param<'_>> = params.iter().map(Param).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(error)? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                cells.push(match row.get_ref(i).map_err(error)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(n) => Cell::Int(n),
                    ValueRef::Real(f) => Cell::Int(f as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(error)
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN IMMEDIATE")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_become_positional() {
        assert_eq!(super::positional("a = $2 AND b = $1"), "a = ?2 AND b = ?1");
    }
}
