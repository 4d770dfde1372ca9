//! One module per program: `run(args) -> Result<exit code, Fatal>`.

pub mod ioconnect;
pub mod ipcclient;
pub mod ipcserver;
pub mod ipcserver_socketbinder;
pub mod ipcserverd;
