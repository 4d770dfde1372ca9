//! A concurrent load generator for Unix-socket super-servers, used by `bench/ipc.py`.
//!
//! `ipc_load SOCKET THREADS SECONDS EXPECT`: THREADS threads each connect to SOCKET, read
//! until the server closes the connection, check that the bytes read are EXPECT, and start
//! over, for SECONDS seconds. Prints one line:
//! `connections=N seconds=S rate=R p50_us=A p99_us=B errors=E`, where the latencies run from
//! `connect()` to EOF.
//!
//! It is a benchmark tool, not part of the suite: plain std, blocking sockets, one thread
//! per concurrent client, so the generator itself is never the bottleneck of a server that
//! forks a process per connection.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [socket, threads, seconds, expect] = &args[..] else {
        eprintln!("usage: ipc_load SOCKET THREADS SECONDS EXPECT");
        std::process::exit(100);
    };
    let socket = PathBuf::from(socket);
    let threads: usize = threads.parse().expect("THREADS");
    let seconds: f64 = seconds.parse().expect("SECONDS");
    let expect = expect.replace("\\n", "\n").into_bytes();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let socket = socket.clone();
            let expect = expect.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(1 << 16);
                let mut errors = 0u64;
                let mut buf = Vec::with_capacity(64);
                while Instant::now() < end {
                    let t0 = Instant::now();
                    let ok = UnixStream::connect(&socket).and_then(|mut s| {
                        s.set_read_timeout(Some(Duration::from_secs(10)))?;
                        buf.clear();
                        s.read_to_end(&mut buf)
                    });
                    match ok {
                        Ok(_) if buf == expect => lat.push(t0.elapsed()),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.join().expect("worker");
        lat.extend(l);
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0, |d| d.as_micros())
    };
    println!(
        "connections={} seconds={secs:.3} rate={:.1} p50_us={} p99_us={} errors={errors}",
        lat.len(),
        lat.len() as f64 / secs,
        pct(0.50),
        pct(0.99)
    );
}
