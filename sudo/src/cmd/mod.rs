//! One module per program: `SPEC` and `run(args) -> Result<exit code, Fatal>`.

pub mod sudo;
pub mod sudoc;
pub mod sudod;
