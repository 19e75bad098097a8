use super::*;

const T0: u64 = 1_768_478_400_000;

fn attempt(health: &KeyHealth, class: OutcomeClass, reason: Option<&str>, at_ms: u64) -> KeyRecord {
    KeyRecord::attempt(&KeyUpdate {
        id: "k1",
        health,
        class,
        reason,
        at_ms,
    })
}

#[test]
fn attempts_add_and_the_latest_one_names_the_last_class_whatever_the_order() {
    let healthy = KeyHealth::default();
    let later = attempt(
        &healthy,
        OutcomeClass::RateLimited,
        Some("slow down"),
        T0 + 10,
    );
    let earlier = attempt(&healthy, OutcomeClass::Success, None, T0);

    let mut record = KeyRecord::default();
    record.absorb(&later.as_change());
    record.absorb(&earlier.as_change());

    assert_eq!(record.requests, 2);
    assert_eq!(record.outcomes.get(OutcomeClass::Success), 1);
    assert_eq!(record.outcomes.get(OutcomeClass::RateLimited), 1);
    assert_eq!(record.outcomes.failures(), 1);
    assert_eq!(record.last_class, Some(OutcomeClass::RateLimited));
    assert_eq!(record.last_reason.as_deref(), Some("slow down"));
    assert_eq!(record.last_used_ms, T0 + 10);
}

#[test]
fn a_health_change_keeps_the_later_deadline_and_counts_no_attempt() {
    let mut cooling = KeyHealth::default();
    cooling.cool_until(T0 + 60_000, OutcomeClass::RateLimited);
    let mut record = attempt(&cooling, OutcomeClass::RateLimited, None, T0);

    let mut shorter = KeyHealth::default();
    shorter.cool_until(T0 + 1_000, OutcomeClass::Transient);
    record.absorb(&RecordChange::health_only(&shorter));

    assert_eq!(record.requests, 1);
    assert_eq!(record.health.cooling_until_ms, T0 + 60_000);
    assert_eq!(record.health.cooling_class, Some(OutcomeClass::RateLimited));
    assert_eq!(record.last_used_ms, T0);
}

#[test]
fn usage_adds_up_and_touches_nothing_else() {
    let bucket = |requests, tokens| UsageBucket {
        span: budget::Span::TenSeconds,
        index: T0 / budget::Span::TenSeconds.width_ms(),
        requests,
        tokens,
    };
    let healthy = KeyHealth::default();
    let mut record = KeyRecord::health_only("k1", &healthy);
    record.absorb(&RecordChange::usage_only(&healthy, &[bucket(1, 100)]));
    record.absorb(&RecordChange::usage_only(&healthy, &[bucket(2, 50)]));

    assert_eq!(record.usage, vec![bucket(3, 150)]);
    assert_eq!(record.requests, 0);
    assert_eq!(record.last_class, None);
}
