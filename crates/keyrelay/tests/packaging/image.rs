//! The static binary alone in an empty root beside a CA bundle, run as the
//! Dockerfile says: what the `FROM scratch` image holds, without docker.

use testkit::Reply;

use super::*;

/// What the Dockerfile's final stage sets: its USER, ENV pairs, ENTRYPOINT
/// + CMD, and the HEALTHCHECK command.
struct Image {
    user: Option<String>,
    env: Vec<(String, String)>,
    command: Vec<String>,
    healthcheck: Vec<String>,
}

impl Image {
    fn from_dockerfile(text: &str) -> Image {
        let joined = text.replace("\\\n", " ");
        let mut image = Image {
            user: None,
            env: Vec::new(),
            command: Vec::new(),
            healthcheck: Vec::new(),
        };
        let mut entrypoint = Vec::new();
        let mut cmd = Vec::new();
        let array = |text: &str| -> Vec<String> {
            serde_json::from_str(text.trim())
                .unwrap_or_else(|e| panic!("not a JSON array in the Dockerfile: {text}: {e}"))
        };
        let mut in_final_stage = false;
        for line in joined.lines().map(str::trim) {
            let (instruction, rest) = line.split_once(' ').unwrap_or((line, ""));
            match instruction {
                "FROM" => in_final_stage = rest.trim() == "scratch",
                "ENV" if in_final_stage => {
                    for pair in rest.split_whitespace() {
                        let (name, value) = pair.split_once('=').unwrap();
                        image.env.push((name.to_owned(), value.to_owned()));
                    }
                }
                "USER" if in_final_stage => image.user = Some(rest.trim().to_owned()),
                "ENTRYPOINT" if in_final_stage => entrypoint = array(rest),
                "CMD" if in_final_stage => cmd = array(rest),
                "HEALTHCHECK" if in_final_stage => {
                    let (_, command) = rest.split_once("CMD ").expect("HEALTHCHECK … CMD […]");
                    image.healthcheck = array(command);
                }
                _ => {}
            }
        }
        image.command = entrypoint.into_iter().chain(cmd).collect();
        image
    }
}

fn running_as_root() -> bool {
    let id = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&id.stdout).trim() == "0"
}

/// How a test runs a program with `root` as its root directory.
struct EmptyRoot {
    root: PathBuf,
    /// The image's `USER`, taken on when the test runs as root.
    user: Option<String>,
}

impl EmptyRoot {
    /// `program args` run in the root with exactly `env`: as root, under
    /// `chroot` as the image's user (so the binary runs as an unprivileged
    /// user with no passwd file, as in the image); otherwise in a user
    /// namespace (`unshare`), as its root.
    fn command(&self, program_and_args: &[String], env: &[(String, String)]) -> Command {
        const INSTALL: &str =
            "install coreutils and util-linux (chroot and unshare run the binary in an empty root)";
        let chroot = require("chroot", INSTALL);
        let mut command = if running_as_root() {
            let mut command = Command::new(chroot);
            if let Some(user) = &self.user {
                command.arg(format!("--userspec={user}"));
            }
            command
        } else {
            let mut command = Command::new(require("unshare", INSTALL));
            command.args(["--user", "--map-root-user"]).arg(chroot);
            command
        };
        command.arg(&self.root).args(program_and_args).env_clear();
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }
}

#[tokio::test]
async fn the_static_binary_serves_alone_in_an_empty_root_as_in_the_image() {
    let dist = dist().await;
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let image = Image::from_dockerfile(&dockerfile);
    assert_eq!(image.command, ["/keyrelay", "serve"]);
    assert_eq!(image.healthcheck, ["/keyrelay", "health"]);
    assert!(
        dockerfile.contains("COPY --chmod=0755 dist/image/linux-${TARGETARCH}/keyrelay /keyrelay"),
        "the Dockerfile copies the binary scripts/package leaves in dist/image"
    );

    // The root holds what the image does: the binary, a CA bundle and /data.
    let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
    assert!(
        bundle.is_file(),
        "{} is missing: install ca-certificates",
        bundle.display()
    );
    let dir = scratch("root");
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc/ssl/certs")).unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::copy(
        dist.join(format!("image/linux-{}/keyrelay", platform().image_arch)),
        root.join("keyrelay"),
    )
    .unwrap();
    std::fs::copy(bundle, root.join("etc/ssl/certs/ca-certificates.crt")).unwrap();
    let empty_root = EmptyRoot {
        root: root.clone(),
        user: image.user.clone(),
    };
    if let (true, Some(user)) = (running_as_root(), &image.user) {
        // COPY --chown: /data belongs to the image's user.
        let (uid, gid) = user.split_once(':').expect("USER uid:gid");
        std::os::unix::fs::chown(
            root.join("data"),
            Some(uid.parse().unwrap()),
            Some(gid.parse().unwrap()),
        )
        .unwrap();
    }
    let in_root = |program_and_args: &[String], env: &[(String, String)]| {
        empty_root.command(program_and_args, env)
    };

    let probe = in_root(&["/keyrelay".into(), "--version".into()], &[])
        .output()
        .await
        .unwrap();
    assert!(
        probe.status.success(),
        "the binary does not run alone in a chroot (unprivileged, unshare needs user namespaces; or run as root): {}",
        String::from_utf8_lossy(&probe.stderr)
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let upstream = FakeUpstream::start().await;
    upstream.on_key(UPSTREAM_KEY, [Reply::anthropic_message("hello")]);
    let mut env: Vec<(String, String)> = image
        .env
        .iter()
        .filter(|(name, _)| name != "KEYRELAY_LISTEN")
        .cloned()
        .collect();
    env.push(("KEYRELAY_LISTEN".into(), format!("0.0.0.0:{port}")));
    env.push(("ANTHROPIC_API_KEYS".into(), UPSTREAM_KEY.into()));
    env.push(("ANTHROPIC_UPSTREAM_BASE_URL".into(), upstream.base_url()));

    // On 0.0.0.0, keyrelay's rule holds: no access token, no gateway.
    let refused = in_root(&image.command, &env).output().await.unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("without an access token"),
        "{refused:?}"
    );

    env.push(("KEYRELAY_ACCESS_TOKENS".into(), ACCESS_TOKEN.into()));
    let served = served::start(in_root(&image.command, &env)).await;
    assert_eq!(send_message(&served.url, None).await.status(), 401);
    let answer = send_message(&served.url, Some(ACCESS_TOKEN)).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "hello", "{body}");
    assert_eq!(health_of(&served.url).await["status"], "ok");

    let check = in_root(&image.healthcheck, &env).output().await.unwrap();
    assert!(check.status.success(), "the health check fails: {check:?}");
    assert!(String::from_utf8_lossy(&check.stdout).contains("\"status\":\"ok\""));
    served.stop().await;

    let check = in_root(&image.healthcheck, &env).output().await.unwrap();
    assert_eq!(
        check.status.code(),
        Some(1),
        "the health check sees the gateway gone: {check:?}"
    );
    assert!(
        root.join("data/state.db").is_file(),
        "the key state is kept under the /data volume"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
