//! Which requests are traced: the standard `OTEL_TRACES_SAMPLER` choices.

/// A sampling decision rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    AlwaysOn,
    AlwaysOff,
    /// This share of traces (0 to 1), by trace id.
    Ratio(f64),
    /// The client's `traceparent` decides when it sends one; else the inner rule.
    ParentBased(Root),
}

/// The rule for a trace that starts at keyrelay, under `parentbased_*`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Root {
    AlwaysOn,
    AlwaysOff,
    Ratio(f64),
}

impl Sampler {
    /// `name` (default `parentbased_always_on`) with `arg`, the ratio of
    /// the `traceidratio` samplers (default 1).
    pub fn parse(name: Option<&str>, arg: Option<f64>) -> Result<Sampler, String> {
        let ratio = match arg {
            None => 1.0,
            Some(r) if (0.0..=1.0).contains(&r) => r,
            Some(_) => return Err("the sampler's ratio is from 0 to 1".into()),
        };
        Ok(match name.unwrap_or("parentbased_always_on") {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::Ratio(ratio),
            "parentbased_always_on" => Sampler::ParentBased(Root::AlwaysOn),
            "parentbased_always_off" => Sampler::ParentBased(Root::AlwaysOff),
            "parentbased_traceidratio" => Sampler::ParentBased(Root::Ratio(ratio)),
            other => return Err(format!(
                "unknown sampler `{other}`: use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
            )),
        })
    }

    /// Whether a trace is recorded: `parent` is the client's sampled flag,
    /// when it sent a valid `traceparent`.
    pub fn samples(&self, trace_id: &[u8; 16], parent: Option<bool>) -> bool {
        match (self, parent) {
            (Sampler::AlwaysOn, _) => true,
            (Sampler::AlwaysOff, _) => false,
            (Sampler::Ratio(r), _) => by_ratio(*r, trace_id),
            (Sampler::ParentBased(_), Some(sampled)) => sampled,
            (Sampler::ParentBased(Root::AlwaysOn), None) => true,
            (Sampler::ParentBased(Root::AlwaysOff), None) => false,
            (Sampler::ParentBased(Root::Ratio(r)), None) => by_ratio(*r, trace_id),
        }
    }
}

/// The trace id's last 8 bytes, read as a number, below `ratio` of the
/// range: the same trace gets the same answer everywhere.
fn by_ratio(ratio: f64, trace_id: &[u8; 16]) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    let mut low = [0u8; 8];
    low.copy_from_slice(&trace_id[8..]);
    let n = u64::from_be_bytes(low) >> 1;
    (n as f64) < ratio * (1u64 << 63) as f64
}
