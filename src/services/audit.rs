//! Reading the audit log (entries are written by the services whose actions they record,
//! through `store::audit::append`, inside the action's own transaction).

use super::App;
use crate::domain::audit::{Entry, Filter};
use crate::store::{StoreError, audit};

/// Entries matching the filter, oldest first, at most `limit`, after the entry `after`.
pub async fn entries(
    app: &App,
    filter: Filter,
    after: Option<String>,
    limit: usize,
) -> Result<Vec<Entry>, StoreError> {
    app.store
        .read(move |conn| audit::list(conn, &filter, after.as_deref(), limit))
        .await
}
