//! TCP_NODELAY on the connections to PostgreSQL. sqlx 0.9.0 no longer sets it (transact-rs/sqlx#4335; the fix,
//! #4336, is merged upstream but not released). Without it, a message written right after another one that is
//! still unacknowledged waits for the server's delayed ACK: `CopyDone` after the last `CopyData` of a `COPY`
//! stalled about 40 ms, several times per indexed batch. libpq sets TCP_NODELAY on every connection; this does
//! the same for ours, from the pool's `after_connect` hook, which runs on every new connection.

/// Sets TCP_NODELAY on every TCP socket of this process connected to `port` (the database's). Idempotent, and
/// harmless for any other connection to that port. A socket that vanishes meanwhile is skipped.
#[cfg(target_os = "linux")]
pub fn set_on_connections_to(port: u16) {
    use std::os::fd::BorrowedFd;
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is only borrowed for the calls below and never closed here. Should it have been
        // closed and reused since the directory was read, the calls fail or see another socket, whose peer port
        // is checked before anything is set.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let to_database = socket
            .peer_addr()
            .ok()
            .and_then(|addr| addr.as_socket())
            .is_some_and(|addr| addr.port() == port);
        if to_database {
            let _ = socket.set_tcp_nodelay(true);
        }
    }
}

/// Elsewhere: nothing (the delay remains).
#[cfg(not(target_os = "linux"))]
pub fn set_on_connections_to(_port: u16) {}
