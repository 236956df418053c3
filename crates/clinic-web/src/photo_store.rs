//! Where photo bytes live: in the database (the default: a content-addressed blob table written in the
//! photo row's transaction) or in S3-compatible object storage (`CLINIC_PHOTO_STORE=s3://bucket/prefix`,
//! through `object_store`). With object storage the bytes are written first, under their SHA-256, and
//! the row after: a crash can leave an object no row names (harmless, and the same bytes are reused by
//! the next upload of them), never a row naming bytes that are not there.

use clinic_app::Error;
use clinic_app::photos::{Check, sha256_hex};
use clinic_db::photos::Photo;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Object storage settings (the standard AWS variables, read by the server's configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PhotoStoreConfig {
    #[default]
    Database,
    S3(S3Settings),
}

impl PhotoStoreConfig {
    /// `CLINIC_PHOTO_STORE`: unset or `database`, or `s3://bucket[/prefix]`.
    pub fn parse(raw: Option<&str>, aws: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty() && *r != "database") else {
            return Ok(Self::Database);
        };
        let rest = raw
            .strip_prefix("s3://")
            .ok_or_else(|| format!("CLINIC_PHOTO_STORE {raw:?} is neither `database` nor s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("CLINIC_PHOTO_STORE {raw:?} names no bucket"));
        }
        Ok(Self::S3(S3Settings {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            endpoint: aws("AWS_ENDPOINT_URL").or_else(|| aws("AWS_ENDPOINT")),
            region: aws("AWS_REGION")
                .or_else(|| aws("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_owned()),
            access_key_id: aws("AWS_ACCESS_KEY_ID"),
            secret_access_key: aws("AWS_SECRET_ACCESS_KEY"),
        }))
    }
}

/// The store in use.
#[derive(Clone)]
pub enum PhotoStore {
    Database,
    Objects {
        store: Arc<dyn ObjectStore>,
        prefix: String,
    },
}

fn failed(context: &'static str) -> impl Fn(object_store::Error) -> Error {
    move |e| match e {
        object_store::Error::NotFound { .. } => Error::bug("a photo's bytes are missing from object storage"),
        other => Error::internal(context, other),
    }
}

impl PhotoStore {
    pub fn open(config: &PhotoStoreConfig) -> Result<Self, String> {
        let PhotoStoreConfig::S3(s) = config else {
            return Ok(Self::Database);
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region);
        if let Some(endpoint) = &s.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| format!("CLINIC_PHOTO_STORE: {e}"))?;
        Ok(Self::Objects {
            store: Arc::new(store),
            prefix: s.prefix.clone(),
        })
    }

    /// True when the bytes go in the database with their row.
    pub fn in_database(&self) -> bool {
        matches!(self, Self::Database)
    }

    fn path(prefix: &str, key: &str) -> Path {
        if prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{prefix}/{key}"))
        }
    }

    /// Writes bytes under their key (object storage only; idempotent: same key, same bytes).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        if let Self::Objects { store, prefix } = self {
            store
                .put(&Self::path(prefix, key), bytes.into())
                .await
                .map_err(failed("writing a photo to object storage"))?;
        }
        Ok(())
    }

    /// The bytes under `key` (object storage only).
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, Error> {
        let Self::Objects { store, prefix } = self else {
            return Err(Error::bug(
                "photo bytes asked of object storage while they are in the database",
            ));
        };
        let found = store
            .get(&Self::path(prefix, key))
            .await
            .map_err(failed("reading a photo from object storage"))?;
        let bytes = found
            .bytes()
            .await
            .map_err(failed("reading a photo from object storage"))?;
        Ok(bytes.to_vec())
    }

    /// Every object under the prefix read back against its hash, and every photo's objects there.
    pub async fn check_objects(&self, photos: &[Photo]) -> Result<Check, Error> {
        let Self::Objects { store, prefix } = self else {
            return Err(Error::bug("an object-storage check of the database store"));
        };
        let mut found = Check::default();
        let mut keys = BTreeSet::new();
        let root = (!prefix.is_empty()).then(|| Path::from(prefix.as_str()));
        let mut listing = store.list(root.as_ref());
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(failed("listing object storage"))?;
            let key = meta.location.filename().unwrap_or_default().to_owned();
            found.blobs += 1;
            let bytes = self.get(&key).await?;
            if sha256_hex(&bytes) != key {
                found
                    .problems
                    .push(format!("object {key}: its bytes do not match their hash"));
            }
            keys.insert(key);
        }
        for photo in photos {
            found.photos += 1;
            for key in [&photo.sha256, &photo.thumbnail_sha256] {
                if !keys.contains(key) {
                    found
                        .problems
                        .push(format!("photo {}: no stored object {key}", photo.id));
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_setting_is_checked() {
        let none = |_: &str| None;
        assert_eq!(PhotoStoreConfig::parse(None, none).unwrap(), PhotoStoreConfig::Database);
        assert_eq!(
            PhotoStoreConfig::parse(Some("database"), none).unwrap(),
            PhotoStoreConfig::Database
        );
        let aws = |k: &str| (k == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:9000".to_owned());
        let PhotoStoreConfig::S3(s) = PhotoStoreConfig::parse(Some("s3://clinic/photos/"), aws).unwrap() else {
            panic!("not s3");
        };
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("clinic", "photos"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(PhotoStoreConfig::parse(Some("ftp://x"), none).is_err());
        assert!(PhotoStoreConfig::parse(Some("s3://"), none).is_err());
    }
}
