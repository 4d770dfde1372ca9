//! One module per program: `run(args) -> Result<exit code, Fatal>`. s6-ipcserverd and
//! s6-ipcserver have none: their binaries are compositions in the root package, built on
//! the parser, [`ipcserverd::serve`] and [`ipcserver::command_line`] these modules expose.

pub mod ioconnect;
pub mod ipcclient;
pub mod ipcserver;
pub mod ipcserver_socketbinder;
pub mod ipcserverd;
