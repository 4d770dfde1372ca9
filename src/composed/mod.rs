//! Composed programs: a program that wires two areas together lives here, in the root
//! package's library, where every crate it needs is visible, and not in one of the crates
//! it wires. The crates expose hooks (ipc's [`ConnCheck`](s6rs_ipc::check::ConnCheck),
//! [`serve`](s6rs_ipc::cmd::ipcserverd::serve),
//! [`command_line`](s6rs_ipc::cmd::ipcserver::command_line)) and the pieces to plug into
//! them (access's [`Checker`](s6rs_access::check::Checker)), never each other's options:
//! the options that switch a composition on belong to the composition, here.
//!
//! Each module is one program with the usual `SPEC` and `run(args)`, reached by its binary.

pub mod ipcserver;
pub mod ipcserverd;
