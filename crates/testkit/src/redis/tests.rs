use super::RedisServer;

/// A server launched on a port another test's server already holds fails to
/// bind and exits; until it has, that other server answers on the port, and
/// must not be taken for it (the two tests would share one database).
#[tokio::test]
async fn a_port_held_by_another_server_is_not_taken_for_ours() {
    let holder = RedisServer::start().await;
    let dir = holder.dir.with_extension("late");
    std::fs::create_dir_all(&dir).unwrap();
    let mut late = RedisServer {
        port: holder.port(),
        dir,
        child: None,
    };
    assert!(!late.launch().await);
    assert!(late.child.is_none());
}
