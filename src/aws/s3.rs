//! S3: the object a deployment bundle lives in.

use super::{Clients, error};
use crate::error::Result;
use aws_sdk_s3::primitives::ByteStream;

/// The object's ETag, `None` when there is no such key.
pub async fn etag(c: &Clients, bucket: &str, key: &str) -> Result<Option<String>> {
    match c.s3.head_object().bucket(bucket).key(key).send().await {
        Ok(o) => Ok(o.e_tag().map(|t| t.trim_matches('"').to_string())),
        Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(None),
        Err(e) => Err(error(format!("reading s3://{bucket}/{key}"), e)),
    }
}

/// Uploads `body` and returns the new object's ETag.
pub async fn put(c: &Clients, bucket: &str, key: &str, body: Vec<u8>) -> Result<String> {
    let out =
        c.s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| error(format!("uploading s3://{bucket}/{key}"), e))?;
    Ok(out
        .e_tag()
        .map(|t| t.trim_matches('"').to_string())
        .unwrap_or_default())
}

/// The object's bytes, `None` when there is no such key.
pub async fn get(c: &Clients, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
    match c.s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => {
            let body = o
                .body
                .collect()
                .await
                .map_err(|e| crate::failure::Failure::S3Read {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    reason: e.to_string(),
                })?;
            Ok(Some(body.into_bytes().to_vec()))
        }
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => Ok(None),
        Err(e) => Err(error(format!("reading s3://{bucket}/{key}"), e)),
    }
}
