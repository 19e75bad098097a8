//! The HTTP service: the accept loop ([`accept`]) with the limits one
//! client may take ([`limit`]), the front door and route table ([`app`])
//! joining the client APIs ([`crate::front`]) and operations
//! ([`crate::ops`]), and the running of it all with its background upkeep.

mod accept;
pub mod app;
pub mod limit;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::env::Env;
use crate::gateway::Live;
pub use crate::gateway::ServeSettings;
use app::app;
use limit::ClientLimits;

/// Builds the gateway: state store, providers, key pools, routing and the
/// HTTP client, ready to be reloaded.
pub fn build_gateway(settings: &ServeSettings, env: &dyn Env) -> anyhow::Result<Arc<Live>> {
    Live::start(settings.clone(), env)
}

/// Refuses to listen beyond loopback without an access token or a virtual
/// key (read the keys first: [`crate::team::Team::start`]).
pub fn check_listen(addr: &SocketAddr, live: &Live) -> anyhow::Result<()> {
    let guarded = !live.gateway().access_tokens.is_empty() || live.team().has_keys();
    if !addr.ip().is_loopback() && !guarded {
        anyhow::bail!(
            "refusing to listen on {addr} without an access token: set server.access_tokens in the config file or KEYRELAY_ACCESS_TOKENS, or create a virtual key (keyrelay vkeys create NAME)"
        );
    }
    Ok(())
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
/// The one way every gateway runs (`keyrelay serve`, `keyrelay claude`):
/// with it runs the background re-check of disabled keys.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Live>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Virtual keys are known before the first request is accepted.
    let team = gateway.team().clone();
    team.start().await;
    let recheck = tokio::spawn(recheck_disabled_keys(gateway.clone()));
    let upkeep = tokio::spawn(metrics_upkeep());
    // Connection limits are fixed at start; a reload keeps them.
    let limits = ClientLimits::of(&gateway.gateway().config.server);
    let gateway_telemetry = gateway.telemetry().cloned();
    let served = accept::serve_connections(listener, app(gateway), limits, shutdown).await;
    recheck.abort();
    upkeep.abort();
    team.flush().await;
    if let Some(telemetry) = gateway_telemetry {
        // The last requests' spans, unless the collector takes too long.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), telemetry.flush()).await;
    }
    served
}

/// Folds recorded histogram samples into their buckets now and then: the
/// recorder otherwise keeps every sample until `/metrics` is scraped, which
/// with no admin token (or no scraper) is never.
async fn metrics_upkeep() {
    let handle = crate::ops::observe::metrics_handle();
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        handle.run_upkeep();
    }
}

/// Disabled keys come back by themselves once a re-check finds them valid.
async fn recheck_disabled_keys(live: Arc<Live>) {
    let every = live.gateway().recheck_every;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // The pools of the moment: a reload may have replaced them.
        let gateway = live.gateway();
        crate::check::recheck_disabled(&gateway.registry, &gateway.caller).await;
    }
}

/// A gateway on a background task, for tests and `keyrelay claude`: bound to
/// 127.0.0.1 on a free port, stopped when dropped.
pub struct RunningGateway {
    pub addr: SocketAddr,
    pub live: Arc<Live>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningGateway {
    pub async fn start(settings: &ServeSettings, env: &dyn Env) -> anyhow::Result<RunningGateway> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let settings = ServeSettings {
            listen: Some(addr),
            ..settings.clone()
        };
        let live = build_gateway(&settings, env)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, live.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(RunningGateway {
            addr,
            live,
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
