//! The reason fd holding exists: a service restarted while its listening socket is held
//! elsewhere refuses no client. A socket bound once is stored in our fd holder; the
//! service's run script retrieves it and serves it with s6-ipcserverd; it is restarted ten
//! times through s6-svc while a client keeps connecting, and every connection is answered.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;

#[test]
fn ten_restarts_of_a_held_socket_service_refuse_no_connection() {
    let t = TempDir::new("fdh-zero");
    let fdh = daemon(Impl::Ours, &t, "fdh", ALL, &[]);
    let web = t.join("web.sock");
    // Bind once, hand the listening socket to the holder.
    let mut c = Command::new(bin("s6-ipcserver-socketbinder"));
    c.arg(&web).arg(bin("s6-fdholder-store")).arg(&fdh.path).arg("web");
    let o = run(c, T);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let svc = t.join("svc");
    std::fs::create_dir(&svc).unwrap();
    script(
        &svc.join("run"),
        &format!(
            "#!/bin/sh\nexec {} {} web {} -- /bin/echo ok\n",
            bin("s6-fdholder-retrieve").display(),
            fdh.path.display(),
            bin("s6-ipcserverd").display()
        ),
    );
    let mut tree = Tree::new();
    let mut sup = Command::new(bin("s6-supervise"));
    sup.arg(&svc).stdin(Stdio::null()).stdout(Stdio::null());
    ignoring_signals(&mut sup, &[]);
    tree.spawn(sup);
    let ask = |web: &Path| -> Result<String, std::io::Error> {
        let mut s = UnixStream::connect(web)?;
        s.set_read_timeout(Some(T))?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    };
    // The socket exists from the start: clients wait in its backlog until the service is up.
    assert_eq!(ask(&web).unwrap(), "ok\n");
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (stop, web) = (stop.clone(), web.clone());
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(Ordering::SeqCst) {
                match ask(&web) {
                    Ok(s) if s == "ok\n" => ok += 1,
                    Ok(s) => failed.push(format!("answer {s:?}")),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            (ok, failed)
        })
    };
    for i in 0..10 {
        let o = run(
            {
                let mut c = Command::new(bin("s6-svc"));
                c.args(["-wr", "-T", "10000", "-r"]).arg(&svc);
                c
            },
            T + T,
        );
        assert_eq!(o.status.code(), Some(0), "restart {i}: {}", String::from_utf8_lossy(&o.stderr));
    }
    stop.store(true, Ordering::SeqCst);
    let (ok, failed) = client.join().unwrap();
    assert!(
        failed.is_empty(),
        "{} of {} connections failed: {failed:?}",
        failed.len(),
        ok as usize + failed.len()
    );
    assert!(ok >= 10, "only {ok} connections during the restarts");
    // Stop the service before the supervisor goes (its handlers too).
    let o = run(
        {
            let mut c = Command::new(bin("s6-svc"));
            c.args(["-wD", "-T", "10000", "-dx"]).arg(&svc);
            c
        },
        T + T,
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}
