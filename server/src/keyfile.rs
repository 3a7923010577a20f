//! The server key: 32 random bytes in a file only the server may read.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use rand::{rngs::SysRng, TryRng};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// A new key would make every sealed secret and token hash in the database useless,
    /// so a lost key is an operator's problem to solve, never the server's to paper over.
    #[error(
        "the server key {} is missing but the database has {accounts} accounts; \
         restore the key (see README, Backups)",
        path.display()
    )]
    MissingForExistingAccounts { path: PathBuf, accounts: i64 },
    #[error("{} holds {len} bytes; a server key is exactly 32", path.display())]
    WrongSize { path: PathBuf, len: usize },
    #[error("cannot {action} the server key at {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads the key. Only when the database holds no accounts yet (`accounts` is 0) is a
/// missing key created, with mode 0600.
pub fn load_or_create(path: &Path, accounts: i64) -> Result<[u8; 32], KeyFileError> {
    match fs::read(path) {
        Ok(bytes) => exactly_32(path, bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if accounts > 0 {
                return Err(KeyFileError::MissingForExistingAccounts {
                    path: path.to_owned(),
                    accounts,
                });
            }
            create(path)
        }
        Err(source) => Err(io_error("read", path, source)),
    }
}

/// Reads a key another instance is creating at this moment: its file exists before its
/// 32 bytes do, so a short read is given a moment to complete.
/// The key a rotation moves to: read if the operator made it, otherwise created now.
pub fn load_or_create_new(path: &Path) -> Result<[u8; 32], KeyFileError> {
    // No database is sealed under a key that does not exist yet, so creating one is safe.
    load_or_create(path, 0)
}

fn read_when_written(path: &Path) -> Result<[u8; 32], KeyFileError> {
    for _ in 0..40 {
        let bytes = fs::read(path).map_err(|e| io_error("read", path, e))?;
        if bytes.len() >= 32 {
            return exactly_32(path, bytes);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    exactly_32(path, fs::read(path).map_err(|e| io_error("read", path, e))?)
}

fn create(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        fs::create_dir_all(dir).map_err(|e| io_error("create the folder of", path, e))?;
    }
    let mut key = [0u8; 32];
    SysRng
        .try_fill_bytes(&mut key)
        .map_err(|e| io_error("generate", path, e.into()))?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        // Another instance created it between our read and our create: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return read_when_written(path)
        }
        Err(err) => return Err(io_error("create", path, err)),
    };
    file.write_all(&key)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("write", path, e))?;
    // The file's own fsync does not persist its name: without the directory's, a crash
    // could lose the key after accounts were sealed with it.
    #[cfg(unix)]
    fs::File::open(dir.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("sync the folder of", path, e))?;
    tracing::warn!(path = %path.display(), "generated a new server key; back it up with the database");
    Ok(key)
}

fn exactly_32(path: &Path, bytes: Vec<u8>) -> Result<[u8; 32], KeyFileError> {
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| KeyFileError::WrongSize {
            path: path.to_owned(),
            len: bytes.len(),
        })
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> KeyFileError {
    KeyFileError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/secret.key");
        let first = load_or_create(&path, 0).unwrap();
        assert_eq!(load_or_create(&path, 0).unwrap(), first);
        assert_eq!(
            load_or_create(&path, 3).unwrap(),
            first,
            "an existing key is used whatever the database holds"
        );
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
    fn a_missing_key_is_not_replaced_while_accounts_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let err = load_or_create(&path, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the server key {} is missing but the database has 2 accounts; \
                 restore the key (see README, Backups)",
                path.display()
            )
        );
        assert!(!path.exists());
    }

    #[test]
    fn a_key_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        fs::write(&path, b"short").unwrap();
        assert!(load_or_create(&path, 0)
            .unwrap_err()
            .to_string()
            .contains("exactly 32"));
    }
}
