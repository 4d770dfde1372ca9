//! The machinery of s6-svscan (upstream doc/s6-svscan.html, doc/scandir.html): the slot
//! table of supervised directories and the scanner that fills it. The program itself, with
//! its event loop, signals and control fifo, is `cmd::svscan`.

pub(crate) mod scan;
pub(crate) mod table;
