//! World files from disk: [`scenarios::world_file`] given the file's text and the file system to
//! read the `*_file` documents it names. The reader itself is pure and lives with the scenarios.

use std::path::Path;

use scenarios::world_file::{Problem, WorldFile, WorldFileError};

fn read(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Read and resolve the world file at `path`.
pub fn load(path: &Path) -> Result<WorldFile, WorldFileError> {
    let text = read(path).map_err(|e| WorldFileError {
        problems: vec![Problem {
            file: path.to_owned(),
            path: String::new(),
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    parse(&text, path)
}

/// Resolve a world document written in `file` (an inline world names its scenario file), reading
/// the documents it names from disk relative to that file.
pub fn parse(text: &str, file: &Path) -> Result<WorldFile, WorldFileError> {
    scenarios::world_file::parse(text, file, &read)
}
