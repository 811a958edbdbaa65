//! PostgreSQL, for several replicas sharing one history.

use std::collections::HashMap;

use postgres::Statement;
use postgres::types::{ToSql, Type};

use super::conn::{Cell, Conn, Dialect, Row, StoreError, Value};

pub(crate) struct Postgres {
    /// Always `Some` but while being dropped.
    client: Option<postgres::Client>,
    /// Prepared statements by text: the store runs the same few thousands of times a cycle.
    statements: HashMap<String, Statement>,
}

fn error(e: postgres::Error) -> StoreError {
    // The error's text never contains the connection string.
    match e.as_db_error() {
        Some(db) => StoreError(format!("postgres: {}: {}", db.code().code(), db.message())),
        None => StoreError(format!("postgres: {e}")),
    }
}

impl Postgres {
    /// Connects over a unix socket or TCP. TLS is not spoken: the server must be reached on a
    /// socket, loopback or a network the operator trusts (the README says so).
    pub(crate) fn connect(url: &str) -> Result<Postgres, StoreError> {
        let client = postgres::Client::connect(url, postgres::NoTls)
            .map_err(|e| StoreError(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Postgres {
            client: Some(client),
            statements: HashMap::new(),
        })
    }
}

impl Drop for Postgres {
    /// The synchronous client closes its connection by blocking on a runtime of its own, which
    /// panics on a thread that drives async tasks: close it on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl Postgres {
    fn client(&mut self) -> Result<&mut postgres::Client, StoreError> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError("postgres: the connection is closed".into()))
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client()?.prepare(sql).map_err(error)?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

fn params(values: &[Value]) -> Vec<Box<dyn ToSql + Sync>> {
    values
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                Value::Int(n) => Box::new(*n),
                Value::Text(t) => Box::new(t.clone()),
            }
        })
        .collect()
}

impl Conn for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        let owned = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        self.client()?.execute(&stmt, &refs).map_err(error)
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let owned = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        let rows = self.client()?.query(&stmt, &refs).map_err(error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let cell = match *column.type_() {
                    Type::INT8 => row
                        .try_get::<_, Option<i64>>(i)
                        .map_err(error)?
                        .map_or(Cell::Null, Cell::Int),
                    Type::INT4 => row
                        .try_get::<_, Option<i32>>(i)
                        .map_err(error)?
                        .map_or(Cell::Null, |n| Cell::Int(i64::from(n))),
                    _ => row
                        .try_get::<_, Option<String>>(i)
                        .map_err(error)?
                        .map_or(Cell::Null, Cell::Text),
                };
                cells.push(cell);
            }
            out.push(Row(cells));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client()?.batch_execute(sql).map_err(error)
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN")
    }
}
