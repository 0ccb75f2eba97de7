//! The user's tool cache: where DynamoDB Local and the Python tools are installed at first use.
//!
//! This module owns the cache location, the per-install file lock that lets concurrent test
//! processes install a tool exactly once, and the stage-then-rename step that keeps a killed
//! install from leaving a half-filled entry behind. It must not know what is installed: callers
//! pass the install step as a closure.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable that overrides the cache location.
pub const CACHE_DIR_ENV: &str = "IRSA_CACHE_DIR";

/// The prefix of staging directories; anything carrying it is leftover from an interrupted
/// install and is removed by the next install of the same entry.
const STAGING_PREFIX: &str = ".staging-";

/// Failures to locate, create or lock the cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// None of `IRSA_CACHE_DIR`, `XDG_CACHE_HOME` or `HOME` is set.
    #[error("cannot locate a cache directory: set `IRSA_CACHE_DIR`, `XDG_CACHE_HOME` or `HOME`")]
    NoLocation,
    /// A cache directory, staging directory or lock file could not be created or used.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was being done, e.g. `create directory`.
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// An entry name that is empty or would escape the cache directory.
    #[error("invalid cache entry name `{0}`")]
    InvalidName(String),
}

impl CacheError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CacheError {
        let path = path.to_path_buf();
        move |source| CacheError::Io {
            action,
            path,
            source,
        }
    }
}

/// The cache directory, created if missing: `IRSA_CACHE_DIR` if set, else
/// `$XDG_CACHE_HOME/irsa-harness`, else `$HOME/.cache/irsa-harness`.
pub fn cache_dir() -> Result<PathBuf, CacheError> {
    let dir = resolve_cache_dir(
        std::env::var_os(CACHE_DIR_ENV),
        std::env::var_os("XDG_CACHE_HOME"),
        std::env::var_os("HOME"),
    )?;
    fs::create_dir_all(&dir).map_err(CacheError::io("create directory", &dir))?;
    Ok(dir)
}

/// Picks the cache directory from the values of `IRSA_CACHE_DIR`, `XDG_CACHE_HOME` and `HOME`.
/// Empty values count as unset, as the XDG specification asks.
pub fn resolve_cache_dir(
    irsa_cache_dir: Option<OsString>,
    xdg_cache_home: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, CacheError> {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(irsa_cache_dir) {
        return Ok(dir);
    }
    if let Some(xdg) = set(xdg_cache_home) {
        return Ok(xdg.join("irsa-harness"));
    }
    if let Some(home) = set(home) {
        return Ok(home.join(".cache").join("irsa-harness"));
    }
    Err(CacheError::NoLocation)
}

/// Runs `f` while holding an exclusive lock on `<dir>/<name>.lock`, so that concurrent processes
/// installing the same entry run one after the other (the second then finds the entry present).
///
/// The lock is released when `f` returns, and by the kernel if the process dies.
/// This blocks the calling thread while waiting: call it from `spawn_blocking` in async code.
pub fn with_install_lock<T, E>(
    dir: &Path,
    name: &str,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, E>
where
    E: From<CacheError>,
{
    check_name(name)?;
    fs::create_dir_all(dir).map_err(CacheError::io("create directory", dir))?;
    let lock_path = dir.join(format!("{name}.lock"));
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(CacheError::io("open lock file", &lock_path))?;
    lock.lock().map_err(CacheError::io("lock", &lock_path))?;
    let result = f();
    // Closing the file releases the lock too; unlocking explicitly just makes it prompt.
    let _ = File::unlock(&lock);
    result
}

/// Returns `<dir>/<name>`, installing it first if it is absent.
///
/// Under the install lock for `name`: if `<dir>/<name>` exists it is returned untouched;
/// otherwise leftovers of interrupted installs are removed, `install` fills a fresh staging
/// directory inside `dir`, and the staging directory is renamed to `<dir>/<name>` (atomic on one
/// filesystem). A failed or killed install therefore never leaves `<dir>/<name>` behind.
///
/// Only for content that does not embed its own absolute path (a Python venv does; see
/// [`crate::backend::python`], which commits with a marker file instead).
pub fn install_once<E>(
    dir: &Path,
    name: &str,
    install: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<PathBuf, E>
where
    E: From<CacheError>,
{
    let target = dir.join(name);
    with_install_lock(dir, name, || {
        if target.exists() {
            return Ok(target.clone());
        }
        remove_staging_leftovers(dir, name)?;
        let staging = dir.join(staging_name(name));
        fs::create_dir_all(&staging).map_err(CacheError::io("create directory", &staging))?;
        if let Err(e) = install(&staging) {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        fs::rename(&staging, &target).map_err(CacheError::io("rename into place", &target))?;
        Ok(target.clone())
    })
}

/// Removes staging directories that earlier, interrupted installs of `name` left in `dir`.
/// Call only while holding the install lock for `name`.
pub fn remove_staging_leftovers(dir: &Path, name: &str) -> Result<(), CacheError> {
    let prefix = format!("{STAGING_PREFIX}{name}-");
    let entries = fs::read_dir(dir).map_err(CacheError::io("read directory", dir))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            fs::remove_dir_all(&path).map_err(CacheError::io("remove directory", &path))?;
        }
    }
    Ok(())
}

/// A fresh staging directory name for `name`.
pub fn staging_name(name: &str) -> String {
    format!("{STAGING_PREFIX}{name}-{}", uuid::Uuid::new_v4().simple())
}

fn check_name(name: &str) -> Result<(), CacheError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CacheError::InvalidName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("irsa-cache-test-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn irsa_cache_dir_wins_over_xdg_and_home() {
        let dir = resolve_cache_dir(Some("/a".into()), Some("/x".into()), Some("/home/u".into()))
            .unwrap();
        assert_eq!(dir, PathBuf::from("/a"));
    }

    #[test]
    fn xdg_cache_home_gets_an_irsa_harness_subdirectory() {
        let dir = resolve_cache_dir(None, Some("/x".into()), Some("/home/u".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/x/irsa-harness"));
    }

    #[test]
    fn home_falls_back_to_dot_cache() {
        let dir = resolve_cache_dir(Some("".into()), Some("".into()), Some("/home/u".into()));
        assert_eq!(dir.unwrap(), PathBuf::from("/home/u/.cache/irsa-harness"));
    }

    #[test]
    fn no_location_is_an_error() {
        assert!(matches!(
            resolve_cache_dir(None, None, None),
            Err(CacheError::NoLocation)
        ));
    }

    #[test]
    fn rejects_names_that_escape_the_cache() {
        let dir = scratch();
        for bad in ["", "../x", "a/b", ".hidden"] {
            let r: Result<(), CacheError> = with_install_lock(&dir, bad, || Ok(()));
            assert!(matches!(r, Err(CacheError::InvalidName(_))), "{bad}");
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_installs_run_the_install_step_once() {
        let dir = scratch();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (dir, runs, barrier) = (dir.clone(), runs.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    install_once::<CacheError>(&dir, "tool-1.0", |staging| {
                        runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        fs::write(staging.join("bin"), b"x").unwrap();
                        Ok(())
                    })
                    .unwrap()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), dir.join("tool-1.0"));
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(fs::read(dir.join("tool-1.0/bin")).unwrap(), b"x");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failed_install_leaves_no_entry_and_the_next_one_retries() {
        #[derive(Debug)]
        struct Failed;
        impl From<CacheError> for Failed {
            fn from(_: CacheError) -> Self {
                Failed
            }
        }
        let dir = scratch();
        let r = install_once(&dir, "tool", |staging| {
            fs::write(staging.join("half"), b"x").unwrap();
            Err(Failed)
        });
        assert!(r.is_err());
        assert!(!dir.join("tool").exists());
        // A staging directory from an install that was killed outright is swept up too.
        fs::create_dir_all(dir.join(staging_name("tool"))).unwrap();
        let path = install_once::<Failed>(&dir, "tool", |_| Ok(())).unwrap();
        assert!(path.is_dir());
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        fs::remove_dir_all(dir).unwrap();
    }
}
