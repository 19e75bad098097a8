//! `[telemetry]` in the config file and the standard `OTEL_*` variables,
//! resolved into where and how spans are exported. A variable wins over the
//! file for the same setting (as keyrelay's other variables do); `enabled =
//! false` in the file turns tracing off whatever the environment says.
//!
//! Header values may carry a collector's token: they never appear in
//! `Debug`, in errors or in `keyrelay config check` (which hides them).

use std::collections::BTreeMap;
use std::time::Duration;

use dialects::client::percent_decode;
use http::{HeaderName, HeaderValue, Uri};
use serde::{Deserialize, Serialize};

use super::sampler::Sampler;
use crate::env::Env;

/// `[telemetry]`: OpenTelemetry traces over OTLP/HTTP (protobuf). Off
/// unless an endpoint is given (here or in `OTEL_EXPORTER_OTLP_ENDPOINT`)
/// or `enabled = true`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `false` turns tracing off, whatever the environment says; `true`
    /// turns it on (to `http://localhost:4318` without an endpoint).
    pub enabled: Option<bool>,
    /// The collector's OTLP/HTTP base URL (`/v1/traces` is added), as
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: Option<String>,
    /// Headers sent with every export (a collector's token), as
    /// `OTEL_EXPORTER_OTLP_HEADERS`.
    pub headers: BTreeMap<String, String>,
    /// `service.name` of the spans (default `keyrelay`), as `OTEL_SERVICE_NAME`.
    pub service_name: Option<String>,
    /// Which requests are traced, as `OTEL_TRACES_SAMPLER`: `always_on`,
    /// `always_off`, `traceidratio`, `parentbased_always_on` (the default),
    /// `parentbased_always_off`, `parentbased_traceidratio`.
    pub sampler: Option<String>,
    /// The ratio of the `traceidratio` samplers, 0 to 1, as `OTEL_TRACES_SAMPLER_ARG`.
    pub sampler_arg: Option<f64>,
}

impl std::fmt::Debug for TelemetrySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetrySettings")
            .field("enabled", &self.enabled)
            .field("endpoint", &self.endpoint)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("service_name", &self.service_name)
            .field("sampler", &self.sampler)
            .field("sampler_arg", &self.sampler_arg)
            .finish()
    }
}

/// Where spans go and how they are batched, once tracing is on. Header
/// values are marked sensitive: `Debug` shows none.
#[derive(Debug, Clone)]
pub struct Export {
    /// The full traces URL (`…/v1/traces`).
    pub url: Uri,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub service_name: String,
    pub sampler: Sampler,
    pub batch: Batch,
}

/// The batch exporter's bounds (`OTEL_BSP_*`).
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    /// Spans waiting at most; more are dropped (and counted).
    pub max_queue: usize,
    /// Spans in one export at most.
    pub max_batch: usize,
    /// How long spans wait for more before they are sent.
    pub delay: Duration,
    /// One export's time limit, connecting included.
    pub timeout: Duration,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            max_queue: 2048,
            max_batch: 512,
            delay: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The collector's default OTLP/HTTP address.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";

impl TelemetrySettings {
    /// Where spans go, or `None` when tracing is off; an error names the
    /// setting that is wrong, never a header's value.
    pub fn resolve(&self, env: &dyn Env) -> Result<Option<Export>, String> {
        let disabled = env
            .non_empty("OTEL_SDK_DISABLED")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let exporter = env.non_empty("OTEL_TRACES_EXPORTER");
        match exporter.as_deref().map(str::trim) {
            None | Some("otlp") => {}
            Some("none") => return Ok(None),
            Some(other) => {
                return Err(format!(
                    "OTEL_TRACES_EXPORTER={other}: keyrelay exports traces over OTLP only (`otlp` or `none`)"
                ))
            }
        }
        if disabled || self.enabled == Some(false) {
            return Ok(None);
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(protocol) = env.non_empty(var) {
                if protocol.trim() != "http/protobuf" {
                    return Err(format!(
                        "{var}={}: keyrelay exports OTLP over HTTP with protobuf only (`http/protobuf`)",
                        protocol.trim()
                    ));
                }
                break;
            }
        }
        let url = if let Some(url) = env.non_empty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            parse_url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.trim())?
        } else if let Some(base) = env.non_empty("OTEL_EXPORTER_OTLP_ENDPOINT") {
            parse_url("OTEL_EXPORTER_OTLP_ENDPOINT", &traces_url(base.trim()))?
        } else if let Some(base) = self.endpoint.as_deref().filter(|e| !e.trim().is_empty()) {
            parse_url("telemetry.endpoint", &traces_url(base.trim()))?
        } else if self.enabled == Some(true) {
            parse_url("the default endpoint", &traces_url(DEFAULT_ENDPOINT))?
        } else {
            return Ok(None);
        };
        let mut headers = BTreeMap::new();
        for (name, value) in &self.headers {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
        for var in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            if let Some(list) = env.non_empty(var) {
                headers.extend(parse_header_list(var, &list)?);
            }
        }
        let headers = headers
            .into_iter()
            .map(|(name, value)| header(&name, &value))
            .collect::<Result<Vec<_>, String>>()?;
        let service_name = env
            .non_empty("OTEL_SERVICE_NAME")
            .or_else(|| self.service_name.clone())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "keyrelay".to_owned());
        let (sampler_name, sampler_var) = match env.non_empty("OTEL_TRACES_SAMPLER") {
            Some(name) => (Some(name), "OTEL_TRACES_SAMPLER"),
            None => (self.sampler.clone(), "telemetry.sampler"),
        };
        let arg = match env.non_empty("OTEL_TRACES_SAMPLER_ARG") {
            Some(arg) => Some(arg.trim().parse::<f64>().map_err(|_| {
                "OTEL_TRACES_SAMPLER_ARG: not a number (a ratio from 0 to 1)".to_owned()
            })?),
            None => self.sampler_arg,
        };
        let sampler = Sampler::parse(sampler_name.as_deref().map(str::trim), arg)
            .map_err(|why| format!("{sampler_var}: {why}"))?;
        Ok(Some(Export {
            url,
            headers,
            service_name,
            sampler,
            batch: batch(env)?,
        }))
    }
}

/// The endpoint as logged: scheme, host, port and path, never a user
/// name, password or query that the URL may carry.
pub fn shown(url: &Uri) -> String {
    let port = url.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}",
        url.scheme_str().unwrap_or("http"),
        url.host().unwrap_or(""),
        url.path()
    )
}

/// `base` with `/v1/traces` added, unless it already ends so.
fn traces_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

fn parse_url(setting: &str, url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| format!("{setting}: not a URL (`http://host:4318`)"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.authority().is_some() => Ok(uri),
        _ => Err(format!(
            "{setting}: an OTLP/HTTP endpoint is an http:// or https:// URL with a host"
        )),
    }
}

/// `name=value,name2=value2` with values percent-encoded (the OTLP
/// exporter's format). An error names the entry's place, not its text.
fn parse_header_list(var: &str, list: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, entry) in list.split(',').enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = entry.split_once('=') else {
            return Err(format!("{var}: entry {} is not `name=value`", n + 1));
        };
        let value = percent_decode(value.trim())
            .ok_or_else(|| format!("{var}: entry {} has a bad percent-encoding", n + 1))?;
        out.push((name.trim().to_ascii_lowercase(), value));
    }
    Ok(out)
}

/// A header to send; the error names the header, never its value.
fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("telemetry header `{name}` is not a header name"))?;
    let mut header_value = HeaderValue::from_str(value)
        .map_err(|_| format!("telemetry header `{name}`: its value is not a header value"))?;
    header_value.set_sensitive(true);
    Ok((header_name, header_value))
}

/// `OTEL_BSP_*` and `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`, in milliseconds.
fn batch(env: &dyn Env) -> Result<Batch, String> {
    let number = |var: &str| -> Result<Option<u64>, String> {
        env.non_empty(var)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("{var}: not a whole number"))
            })
            .transpose()
    };
    let mut batch = Batch::default();
    if let Some(n) = number("OTEL_BSP_MAX_QUEUE_SIZE")? {
        batch.max_queue = usize::try_from(n).unwrap_or(usize::MAX).max(1);
    }
    if let Some(n) = number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")? {
        batch.max_batch = usize::try_from(n).unwrap_or(usize::MAX).max(1);
    }
    batch.max_batch = batch.max_batch.min(batch.max_queue);
    if let Some(ms) = number("OTEL_BSP_SCHEDULE_DELAY")? {
        batch.delay = Duration::from_millis(ms.max(1));
    }
    let timeout = match number("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")? {
        Some(ms) => Some(ms),
        None => match number("OTEL_EXPORTER_OTLP_TIMEOUT")? {
            Some(ms) => Some(ms),
            None => number("OTEL_BSP_EXPORT_TIMEOUT")?,
        },
    };
    if let Some(ms) = timeout {
        batch.timeout = Duration::from_millis(ms.max(1));
    }
    Ok(batch)
}
