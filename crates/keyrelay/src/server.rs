//! Building a gateway from configuration and serving it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use keypool::StateStore;
use tokio::net::TcpListener;

use crate::call::Caller;
use crate::config::{Config, Timeouts};
use crate::env::Env;
use crate::front::{router, Gateway};
use crate::registry::Registry;
use crate::route::{Aliases, Fallbacks};

/// Everything `keyrelay serve` is started with, besides the environment.
#[derive(Debug, Clone, Default)]
pub struct ServeSettings {
    pub config: Config,
    /// `--model-alias` rules, tried before the config file's.
    pub aliases: Vec<(String, String)>,
    /// `--fallback` rules, tried before the config file's.
    pub fallbacks: Vec<(String, Vec<String>)>,
}

/// Builds the gateway: providers, key pools, routing and the HTTP client.
pub fn build_gateway(settings: &ServeSettings, env: &dyn Env) -> anyhow::Result<Arc<Gateway>> {
    let config = &settings.config;
    let store: Arc<dyn StateStore> =
        crate::store::open(&config.state, env).context("opening the key state store")?;
    let registry = Registry::build(config, env, store)?;
    let mut access_tokens = config.server.access_tokens.clone();
    if let Some(tokens) = env.non_empty("KEYRELAY_ACCESS_TOKENS") {
        access_tokens.extend(
            tokens
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        );
    }
    let aliases = Aliases::new(settings.aliases.clone(), config.aliases.clone());
    let fallbacks = Fallbacks::new(
        &registry,
        settings.fallbacks.clone(),
        config.fallbacks.clone(),
    )?;
    let caller = Caller::new(config, env).context("building the HTTP client")?;
    Ok(Arc::new(Gateway {
        registry,
        aliases,
        fallbacks,
        caller,
        access_tokens,
        max_body_bytes: config.server.max_body_bytes,
        recheck_every: Timeouts::duration(config.pool.recheck_disabled_every),
    }))
}

/// Refuses to listen beyond loopback without an access token.
pub fn check_listen(addr: &SocketAddr, gateway: &Gateway) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() && gateway.access_tokens.is_empty() {
        anyhow::bail!(
            "refusing to listen on {addr} without an access token: set server.access_tokens in the config file or KEYRELAY_ACCESS_TOKENS"
        );
    }
    Ok(())
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
/// The one way every gateway runs (`keyrelay serve`, `keyrelay claude`):
/// with it runs the background re-check of disabled keys.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let recheck = tokio::spawn(recheck_disabled_keys(gateway.clone()));
    let app = router(gateway);
    // Streamed events are small writes: without TCP_NODELAY, Nagle's
    // algorithm can hold one back until the client's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    recheck.abort();
    served
}

/// Disabled keys come back by themselves once a re-check finds them valid.
async fn recheck_disabled_keys(gateway: Arc<Gateway>) {
    let every = gateway.recheck_every;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        crate::check::recheck_disabled(&gateway.registry, &gateway.caller).await;
    }
}

/// A gateway on a background task, for tests and `keyrelay claude`: bound to
/// 127.0.0.1 on a free port, stopped when dropped.
pub struct RunningGateway {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningGateway {
    pub async fn start(settings: &ServeSettings, env: &dyn Env) -> anyhow::Result<RunningGateway> {
        let gateway = build_gateway(settings, env)?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, gateway.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(RunningGateway {
            addr,
            gateway,
            stop: Some(stop),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, waits for in-flight requests.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}
