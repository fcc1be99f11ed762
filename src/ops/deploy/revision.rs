//! What REVISION means for a role: a GitHub commit, an S3 key, or a local bundle to upload.
//!
//! Everything here runs before any AWS call, so a bad revision stops with exit 2 and nothing
//! sent. Local bundles are content-addressed (`PREFIX/APP-SHA256.zip`): a re-deploy of the same
//! build finds the object already in the bucket and skips the upload.

use crate::aws::codedeploy::Bundle;
use crate::config::merge::Settings;
use crate::error::{Error, Result};
use crate::failure::Failure;
use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A revision resolved from udo.yml and the command line, ready for AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    GitHub {
        repo: String,
        commit: String,
    },
    /// An object the bucket already holds (its ETag is read before deploying).
    S3Key {
        bucket: String,
        key: String,
        bundle: Bundle,
    },
    /// A local bundle: uploaded unless the bucket already has this content.
    Upload {
        bucket: String,
        key: String,
        bundle: Bundle,
        bytes: std::sync::Arc<Vec<u8>>,
        from: PathBuf,
    },
}

fn is_full_commit(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

fn bundle_of(name: &str) -> Option<Bundle> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        Some(Bundle::Zip)
    } else if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") {
        Some(Bundle::Tgz)
    } else if lower.ends_with(".tar") {
        Some(Bundle::Tar)
    } else {
        None
    }
}

fn extension(b: Bundle) -> &'static str {
    match b {
        Bundle::Zip => "zip",
        Bundle::Tar => "tar",
        Bundle::Tgz => "tgz",
    }
}

/// Resolves REVISION against a role's `deploy` settings. `cwd` anchors relative paths.
pub fn resolve(settings: &Settings, name: &str, revision: &str, cwd: &Path) -> Result<Source> {
    let repo = settings.str("deploy.github.repo");
    let bucket = settings.str("deploy.s3.bucket");
    let path = cwd.join(revision);
    let local = !revision.is_empty() && path.exists();
    if repo.is_none() && bucket.is_none() {
        return Err(Error::usage(
            "no revision source is configured",
            "set `deploy.github.repo` (deploy GitHub commits) or `deploy.s3.bucket` (deploy S3 bundles) in udo.yml",
        ));
    }
    if let (Some(repo), false) = (repo, local)
        && (is_full_commit(revision) || bucket.is_none())
    {
        if !is_full_commit(revision) {
            return Err(Error::usage(
                format!(
                    "`{revision}` is not a full commit id: CodeDeploy needs all 40 hex characters of a GitHub commit"
                ),
                format!("pass the full id, e.g. `git rev-parse {revision}`"),
            ));
        }
        return Ok(Source::GitHub {
            repo: repo.to_string(),
            commit: revision.to_ascii_lowercase(),
        });
    }
    let Some(bucket) = bucket else {
        return Err(Error::usage(
            format!("`{revision}` is a local path, but no S3 bucket is configured to upload it to"),
            "set `deploy.s3.bucket` (and optionally `deploy.s3.prefix`) in udo.yml",
        ));
    };
    let prefix = settings
        .str("deploy.s3.prefix")
        .unwrap_or_default()
        .trim_matches('/');
    if !local {
        let key = revision
            .strip_prefix(&format!("s3://{bucket}/"))
            .unwrap_or(revision);
        let bundle = bundle_of(key).ok_or_else(|| {
            Error::usage(
                format!("`{revision}` is neither a local directory or file nor an S3 key ending in .zip, .tar or .tgz"),
                "pass a directory holding appspec.yml, a bundle file, or the key of a bundle in the bucket",
            )
        })?;
        return Ok(Source::S3Key {
            bucket: bucket.to_string(),
            key: key.to_string(),
            bundle,
        });
    }
    let (bytes, bundle) = if path.is_dir() {
        if !path.join("appspec.yml").is_file() {
            return Err(Error::usage(
                format!("{} holds no appspec.yml", path.display()),
                "CodeDeploy needs appspec.yml at the bundle's root; see examples/app/appspec.yml",
            ));
        }
        (zip_dir(&path)?, Bundle::Zip)
    } else {
        let bundle = bundle_of(revision).ok_or_else(|| {
            Error::usage(
                format!("{} is not a .zip, .tar or .tgz bundle", path.display()),
                "pass a directory holding appspec.yml, or a .zip, .tar or .tgz file",
            )
        })?;
        let bytes = std::fs::read(&path)
            .map_err(|e| Failure::local(format!("cannot read {}", path.display()), e))?;
        (bytes, bundle)
    };
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let file = format!("{name}-{hex}.{}", extension(bundle));
    let key = if prefix.is_empty() {
        file
    } else {
        format!("{prefix}/{file}")
    };
    Ok(Source::Upload {
        bucket: bucket.to_string(),
        key,
        bundle,
        bytes: std::sync::Arc::new(bytes),
        from: path,
    })
}

/// Zips a directory reproducibly: entries sorted, fixed timestamps, so the same files give the
/// same bytes (and the same content-addressed key).
pub fn zip_dir(dir: &Path) -> Result<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| {
        Error::from(Failure::local(
            format!("cannot bundle {}", dir.display()),
            e,
        ))
    };
    let mut files = Vec::new();
    collect(dir, dir, &mut files).map_err(|e| fail(&e))?;
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for rel in files {
        let full = dir.join(&rel);
        let mode = file_mode(&full);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(mode);
        let name = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        zip.start_file(name, options).map_err(|e| fail(&e))?;
        let data = std::fs::read(&full).map_err(|e| fail(&e))?;
        zip.write_all(&data).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            collect(root, &path, out)?;
        } else if ty.is_file() {
            out.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
    Ok(())
}

#[cfg(unix)]
fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> u32 {
    0o644
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml: &str) -> Settings {
        let text = format!(
            "app_name: a\nregion: us-east-1\n{yaml}\nclusters:\n  dev:\n    roles:\n      web: {{}}\n"
        );
        let cfg = crate::config::parse(Path::new("udo.yml"), text).unwrap();
        cfg.clusters[0].roles[0].settings.clone()
    }

    #[test]
    fn github_needs_the_full_commit() {
        let s = settings("deploy: {application: A, github: {repo: o/r}}");
        let tmp = std::env::temp_dir();
        let full = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";
        assert_eq!(
            resolve(&s, "a", full, &tmp).unwrap(),
            Source::GitHub {
                repo: "o/r".into(),
                commit: full.into()
            }
        );
        let e = resolve(&s, "a", "1a2b3c4", &tmp).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("40 hex"), "{e}");
        assert!(resolve(&s, "a", "main", &tmp).is_err());
    }

    #[test]
    fn s3_keys_and_directories() {
        let s = settings("deploy: {application: A, s3: {bucket: b, prefix: /rel/}}");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve(&s, "a", "builds/x.zip", dir.path()).unwrap(),
            Source::S3Key {
                bucket: "b".into(),
                key: "builds/x.zip".into(),
                bundle: Bundle::Zip
            }
        );
        std::fs::create_dir(dir.path().join("app")).unwrap();
        let e = resolve(&s, "a", "app", dir.path()).unwrap_err();
        assert!(e.to_string().contains("appspec.yml"), "{e}");
        std::fs::write(
            dir.path().join("app/appspec.yml"),
            "version: 0.0\nos: linux\n",
        )
        .unwrap();
        let Source::Upload { key, .. } = resolve(&s, "a", "app", dir.path()).unwrap() else {
            panic!("expected an upload")
        };
        assert!(key.starts_with("rel/a-") && key.ends_with(".zip"), "{key}");
        assert_eq!(key.len(), "rel/a-".len() + 64 + 4);
    }

    #[test]
    fn zips_are_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("appspec.yml"), "version: 0.0\n").unwrap();
        std::fs::create_dir(dir.path().join("scripts")).unwrap();
        std::fs::write(dir.path().join("scripts/start.sh"), "true\n").unwrap();
        let a = zip_dir(dir.path()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("scripts/start.sh"), "true\n").unwrap();
        assert_eq!(a, zip_dir(dir.path()).unwrap());
    }
}
