//! The sandbox's optional state file: its customers as JSON, read when the
//! sandbox starts and written again after changes, so the in-app sandbox
//! keeps them across restarts of the app.
//!
//! A named thread writes the file a short time after a change, with
//! every change made meanwhile in one write, through a temporary file that
//! is renamed over the old one. A crash therefore leaves the previous or
//! the new state, never half of one. The file contains customers only: no
//! token, and no request counts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::store::{Store, Stored};

/// Time from a change to the write that records it. Changes within it share
/// one write, which bounds the cost of a busy sandbox (an upload of
/// thousands of rows) to two writes a second.
// NOTE: a process killed within this time of a change loses that change
// from the file, though a client may have seen it succeed.
pub const WRITE_DELAY: Duration = Duration::from_millis(500);

/// Format version stored in the file, so a later format can be detected.
const FORMAT_VERSION: u32 = 1;

/// The contents of a state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Snapshot {
    /// Sequence number the next customer gets.
    pub next_sequence: u64,
    /// Every customer, oldest first.
    pub customers: Vec<Stored>,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    #[serde(flatten)]
    snapshot: Snapshot,
}

/// A failure to read a state file.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error("failed to read the sandbox state file {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the sandbox state file {path} is not valid")]
    Invalid {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the sandbox state file {path} has format version {version}, newer than this app")]
    TooNew { path: String, version: u32 },
}

/// Reads a state file; `Ok(None)` when there is none yet.
pub(super) fn read(path: &Path) -> Result<Option<Snapshot>, ReadError> {
    let display = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ReadError::Io {
                path: display,
                source,
            });
        }
    };
    let file: StateFile = serde_json::from_slice(&bytes).map_err(|source| ReadError::Invalid {
        path: display.clone(),
        source,
    })?;
    if file.version > FORMAT_VERSION {
        return Err(ReadError::TooNew {
            path: display,
            version: file.version,
        });
    }
    Ok(Some(file.snapshot))
}

/// Writes a state file through a temporary file in the same folder.
fn write(path: &Path, snapshot: Snapshot) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = StateFile {
        version: FORMAT_VERSION,
        snapshot,
    };
    let bytes = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
    let temporary = temporary_path(path);
    {
        let mut out = std::fs::File::create(&temporary)?;
        std::io::Write::write_all(&mut out, &bytes)?;
        out.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Moves an unreadable state file aside, so the sandbox can start empty
/// without destroying what the file held. Returns the new path.
pub(super) fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".unreadable");
    let aside = path.with_file_name(name);
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

#[derive(Debug, Default)]
struct Flags {
    /// A change has not been written yet.
    dirty: bool,
    /// The sandbox stopped: write what is left, then end.
    stop: bool,
}

/// Wakes the writer thread: the store calls it on every change.
#[derive(Debug, Default)]
pub(super) struct ChangeSignal {
    flags: Mutex<Flags>,
    wake: Condvar,
}

impl ChangeSignal {
    fn lock(&self) -> MutexGuard<'_, Flags> {
        // The flags are plain booleans set in single steps, so a poisoned
        // lock still holds usable values.
        self.flags
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn notify(&self) {
        self.lock().dirty = true;
        self.wake.notify_one();
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_one();
    }
}

/// The thread that keeps a state file up to date.
#[derive(Debug)]
pub(super) struct StateWriter {
    signal: Arc<ChangeSignal>,
    thread: Option<JoinHandle<()>>,
}

impl StateWriter {
    /// Starts the thread that writes `store` to `path` after each change.
    pub fn spawn(
        path: PathBuf,
        store: Arc<Store>,
        signal: Arc<ChangeSignal>,
    ) -> std::io::Result<Self> {
        let thread_signal = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("importer-sandbox-state".to_owned())
            .spawn(move || write_loop(&path, &store, &thread_signal))?;
        Ok(Self {
            signal,
            thread: Some(thread),
        })
    }

    /// Writes the changes not written yet and waits for the thread to end.
    /// Blocks on the disk.
    pub fn finish(mut self) {
        self.signal.stop();
        if let Some(thread) = self.thread.take() {
            // A panic of the thread has already lost its write; there is
            // nothing left to wait for.
            thread.join().ok();
        }
    }
}

impl Drop for StateWriter {
    /// Asks the thread to write what is left and end, without waiting.
    fn drop(&mut self) {
        self.signal.stop();
    }
}

fn write_loop(path: &Path, store: &Store, signal: &ChangeSignal) {
    loop {
        let mut flags = signal.lock();
        while !flags.dirty && !flags.stop {
            flags = signal
                .wake
                .wait(flags)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if !flags.dirty {
            return;
        }
        if !flags.stop {
            // Let the changes that follow this one join its write.
            flags = signal
                .wake
                .wait_timeout_while(flags, WRITE_DELAY, |flags| !flags.stop)
                .map_or_else(|poisoned| poisoned.into_inner().0, |(flags, _)| flags);
        }
        flags.dirty = false;
        drop(flags);
        match write(path, store.snapshot()) {
            Ok(()) => tracing::trace!(path = %path.display(), "sandbox state written"),
            Err(err) => tracing::warn!(
                path = %path.display(),
                error = %err,
                "failed to write the sandbox state; its customers will be lost when it stops"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_reads_as_none() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let read = read(&dir.path().join("sandbox.json")).expect("no error");
        assert!(read.is_none());
    }

    #[test]
    fn written_snapshot_reads_back() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("data").join("sandbox.json");
        let snapshot = Snapshot {
            next_sequence: 7,
            customers: Vec::new(),
        };
        write(&path, snapshot.clone()).expect("written");
        assert_eq!(read(&path).expect("read"), Some(snapshot));
        assert!(
            !temporary_path(&path).exists(),
            "the temporary file was renamed"
        );
    }

    #[test]
    fn newer_or_broken_file_is_an_error() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("sandbox.json");
        std::fs::write(&path, r#"{"version":99,"next_sequence":1,"customers":[]}"#)
            .expect("written");
        assert!(matches!(
            read(&path),
            Err(ReadError::TooNew { version: 99, .. })
        ));
        std::fs::write(&path, "{not json").expect("written");
        assert!(matches!(read(&path), Err(ReadError::Invalid { .. })));
        let aside = move_aside(&path).expect("moved");
        assert!(aside.exists());
        assert!(!path.exists());
    }
}
