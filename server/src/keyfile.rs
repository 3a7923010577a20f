//! The server key: 32 random bytes in a file only the server may read.

use std::{fs, io::Write, path::Path};

use anyhow::{bail, Context};
use rand::RngCore;

/// Reads the key, creating it with mode 0600 if it does not exist yet.
pub fn load_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    match fs::read(path) {
        Ok(bytes) => bytes.try_into().map_err(|bytes: Vec<u8>| {
            anyhow::anyhow!(
                "{} holds {} bytes; a server key is exactly 32",
                path.display(),
                bytes.len()
            )
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(err) => {
            Err(err).with_context(|| format!("cannot read the server key at {}", path.display()))
        }
    }
}

fn create(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        // Another instance created it between our read and our create: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return load_existing(path),
        Err(err) => {
            return Err(err)
                .with_context(|| format!("cannot create the server key at {}", path.display()))
        }
    };
    file.write_all(&key)?;
    file.sync_all()?;
    tracing::warn!(path = %path.display(), "generated a new server key; back it up with the database");
    Ok(key)
}

fn load_existing(path: &Path) -> anyhow::Result<[u8; 32]> {
    let bytes = fs::read(path)?;
    match bytes.try_into() {
        Ok(key) => Ok(key),
        Err(_) => bail!("{} is not a 32-byte server key", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret.key");
        let first = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn a_key_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        fs::write(&path, b"short").unwrap();
        assert!(load_or_create(&path)
            .unwrap_err()
            .to_string()
            .contains("exactly 32"));
    }
}
