use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::sql_types::{BigInt, Nullable};

/// Reads a nullable id column into `Option<SomeId>` (diesel's `deserialize_as` needs a conversion
/// that `Option<i64>` to `Option<SomeId>` cannot have).
#[derive(diesel::deserialize::FromSqlRow)]
pub struct NullableId(Option<i64>);

impl<DB: Backend> FromSql<Nullable<BigInt>, DB> for NullableId
where
    i64: FromSql<BigInt, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        i64::from_sql(bytes).map(|v| Self(Some(v)))
    }

    fn from_nullable_sql(bytes: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        bytes.map_or(Ok(Self(None)), Self::from_sql)
    }
}

impl<I: From<i64>> From<NullableId> for Option<I> {
    fn from(v: NullableId) -> Self {
        v.0.map(I::from)
    }
}
