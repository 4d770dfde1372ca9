//! s6-svscan as process 1 of a PID namespace: it must reap orphans it never started, and
//! still supervise and shut down normally.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

const T: Duration = Duration::from_secs(10);

#[test]
fn svscan_as_pid1_reaps_orphans() {
    let t = TempDir::new("pid1");
    let scan = t.join("scan");
    let svc = scan.join("orphaner");
    std::fs::create_dir_all(&svc).unwrap();
    // The inner shell records its pid as the host sees it (the shell itself opens
    // /proc/self/stat, and /proc is the host's), then its parent exits at once: it becomes
    // an orphan of the namespace's pid 1, our s6-svscan, which must reap it.
    let marker = t.join("orphan.pid");
    script(
        &svc.join("run"),
        &format!(
            "#!/bin/sh\n( sh -c 'read -r p rest < /proc/self/stat; echo $p > {m}.tmp; mv {m}.tmp {m}; exec sleep 0.3' & )\nexec sleep 100000\n",
            m = marker.display()
        ),
    );
    let mut tree = Tree::new();
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--kill-child"]).arg(bin("s6-svscan")).arg(&scan);
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let unshare = tree.spawn(cmd);

    assert!(wait_until(T, || marker.exists()), "the service never ran");
    let orphan: i32 = std::fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
    tree.adopt(orphan);
    // A zombie keeps its /proc entry until reaped: the entry vanishing proves the reap.
    assert!(
        wait_until(T, || !std::path::Path::new(&format!("/proc/{orphan}")).exists()),
        "orphan {orphan} was not reaped by s6-svscan as pid 1"
    );

    // Normal shutdown still works as pid 1.
    let mut ctl = Command::new(bin("s6-svscanctl"));
    ctl.arg("-t").arg(&scan);
    assert_eq!(run(ctl, T).status.code(), Some(0));
    let st = tree.wait_exit(unshare, T).expect("s6-svscan as pid 1 did not exit after -t");
    assert_eq!(st.code(), Some(0));
}
