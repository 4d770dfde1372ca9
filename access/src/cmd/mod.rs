//! One module per program: `run(args) -> Result<exit code, Fatal>`.

pub mod accessrules_cdb_from_fs;
pub mod accessrules_fs_from_cdb;
pub mod connlimit;
pub mod ipcserver_access;
