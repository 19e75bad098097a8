use super::*;

/// 2025-06-04T13:20:00Z.
const NOW: u64 = 1_749_043_200_000;

fn meter(limits: Limits) -> Arc<Meter> {
    Meter::new("a1b2c3d4e5f6", limits)
}

fn daily(usd_nanos: u64) -> Limits {
    Limits {
        budget: UsdBudget {
            day: Some(usd_nanos),
            ..UsdBudget::default()
        },
        ..Limits::default()
    }
}

#[test]
fn admits_until_the_budget_is_reached_then_names_it_and_its_reset() {
    let meter = meter(daily(10_000_000));
    for _ in 0..3 {
        let held = meter.admit(NOW, Estimate::default(), true).unwrap();
        meter.settle(held, Some(4_000_000), 100, NOW);
    }
    // 12,000,000 spent: the request that reached the budget was served.
    let refused = meter.admit(NOW, Estimate::default(), true).unwrap_err();
    assert_eq!(
        refused,
        Gate::Over(Over::Budget {
            period: Period::Day,
            spent_nanos: 12_000_000,
            limit_nanos: 10_000_000,
            resets_at_ms: Window::of(Period::Day, NOW).ends_ms,
        })
    );
    // The next UTC day starts afresh.
    let tomorrow = Window::of(Period::Day, NOW).ends_ms;
    assert!(meter.admit(tomorrow, Estimate::default(), true).is_ok());
}

#[test]
fn requests_in_flight_hold_what_the_key_usually_costs() {
    let meter = meter(daily(10_000_000));
    let first = meter.admit(NOW, Estimate::default(), true).unwrap();
    meter.settle(first, Some(3_000_000), 0, NOW);
    // Average 3,000,000: with 3,000,000 spent, two more fit in flight
    // (3 + 3 < 10, 3 + 6 < 10), the third would start past the budget.
    let a = meter.admit(NOW, Estimate::default(), true).unwrap();
    let b = meter.admit(NOW, Estimate::default(), true).unwrap();
    let c = meter.admit(NOW, Estimate::default(), true).unwrap();
    assert!(meter.admit(NOW, Estimate::default(), true).is_err());
    meter.release(c);
    meter.release(b);
    meter.release(a);
    assert!(meter.admit(NOW, Estimate::default(), true).is_ok());
}

#[test]
fn rpm_counts_the_last_minute_and_says_when_there_is_room() {
    let meter = meter(Limits {
        rpm: Some(3),
        ..Limits::default()
    });
    let start = NOW - NOW % BUCKET_MS;
    for n in 0..3 {
        let held = meter
            .admit(start + n * 20_000, Estimate::default(), true)
            .unwrap();
        meter.release(held);
    }
    let at = start + 45_000;
    match meter.admit(at, Estimate::default(), true).unwrap_err() {
        Gate::Over(Over::Rpm {
            limit,
            retry_after_ms,
        }) => {
            assert_eq!(limit, 3);
            // The first request's bucket leaves the window 70 s after it began.
            assert_eq!(retry_after_ms, 70_000 - 45_000);
        }
        other => panic!("{other:?}"),
    }
    assert!(meter
        .admit(start + 70_000, Estimate::default(), true)
        .is_ok());
}

#[test]
fn tpm_counts_settled_and_reserved_tokens_but_lets_a_lone_large_request_go() {
    let meter = meter(Limits {
        tpm: Some(1_000),
        ..Limits::default()
    });
    let big = Estimate {
        nanos: 0,
        tokens: 5_000,
        unlimited: false,
    };
    let held = meter.admit(NOW, big, true).unwrap();
    meter.settle(held, None, 900, NOW);
    let more = Estimate {
        nanos: 0,
        tokens: 200,
        unlimited: false,
    };
    assert!(matches!(
        meter.admit(NOW, more, true),
        Err(Gate::Over(Over::Tpm { limit: 1_000, .. }))
    ));
}

#[test]
fn increments_travel_to_the_store_and_come_back_as_stored() {
    let meter = meter(Limits {
        rpm: Some(100),
        ..daily(10_000_000)
    });
    let held = meter.admit(NOW, Estimate::default(), true).unwrap();
    meter.settle(held, Some(2_500), 10, NOW);
    let adds = meter.take_increments(NOW);
    let names: Vec<&str> = adds.iter().map(|a| a.name.as_str()).collect();
    assert!(names.contains(&"vk:a1b2c3d4e5f6:d:2025-06-04"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("vk:a1b2c3d4e5f6:r:")));
    assert!(adds.iter().all(|a| a.expires_at_ms > NOW));
    assert!(meter.take_increments(NOW).is_empty(), "sent once");
    // A sure failure sends them again; the figures never dipped meanwhile.
    meter.after_write(false, false);
    assert_eq!(meter.reading(NOW).spent[0].0, 2_500);
    let again = meter.take_increments(NOW);
    assert_eq!(again.len(), adds.len());
    meter.after_write(true, false);
    // The store answers with what every replica added.
    let read = meter.to_read(NOW);
    let values: Vec<u64> = read
        .iter()
        .map(|(slot, _)| match slot {
            Slot::Spend(..) => 7_500,
            _ => 0,
        })
        .collect();
    meter.after_read(&read, &values, NOW);
    assert_eq!(meter.reading(NOW).spent[0].0, 7_500);
}

#[test]
fn a_meter_without_limits_never_refuses_nor_reads() {
    let meter = meter(Limits::default());
    assert!(
        meter.admit(NOW, Estimate::default(), false).is_ok(),
        "nothing to read"
    );
    for _ in 0..1_000 {
        let held = meter.admit(NOW, Estimate::default(), true).unwrap();
        meter.settle(held, Some(1_000_000_000), 1_000_000, NOW);
    }
    assert!(meter.to_read(NOW).is_empty());
    assert!(meter.take_increments(NOW).is_empty());
}

#[test]
fn a_key_is_near_its_budget_in_its_last_tenth_or_eight_requests() {
    let meter = meter(daily(1_000_000_000));
    assert!(!meter.near(NOW), "nothing spent");
    let held = meter.admit(NOW, Estimate::default(), true).unwrap();
    meter.settle(held, Some(10_000_000), 0, NOW);
    // 1 % spent, eight more average requests would be 9 %.
    assert!(!meter.near(NOW));
    let held = meter.admit(NOW, Estimate::default(), true).unwrap();
    meter.settle(held, Some(890_000_000), 0, NOW);
    assert!(meter.near(NOW), "90 % spent");
    let small = self::meter(daily(100_000_000));
    let held = small.admit(NOW, Estimate::default(), true).unwrap();
    small.settle(held, Some(12_000_000), 0, NOW);
    assert!(
        small.near(NOW),
        "eight more requests of 12,000,000 would pass 100,000,000"
    );
    assert!(
        !self::meter(Limits::default()).near(NOW),
        "no budget, never near"
    );
}

#[test]
fn a_read_never_lowers_what_the_meter_counted() {
    let meter = meter(daily(1_000_000_000));
    let held = meter.admit(NOW, Estimate::default(), true).unwrap();
    meter.settle(held, Some(5_000), 0, NOW);
    meter.take_increments(NOW);
    meter.after_write(true, false);
    // The store has not seen this write yet: it says less than counted.
    let read = meter.to_read(NOW);
    meter.after_read(&read, &vec![0; read.len()], NOW);
    assert_eq!(meter.reading(NOW).spent[0].0, 5_000);
}

#[test]
fn a_meter_reads_the_store_before_its_first_request_and_near_a_budget() {
    let meter = meter(daily(100_000_000));
    assert_eq!(
        meter.admit(NOW, Estimate::default(), false).unwrap_err(),
        Gate::Read(Before::Load)
    );
    let read = meter.to_read(NOW);
    meter.after_read(&read, &vec![95_000_000; read.len()], NOW);
    assert_eq!(
        meter.admit(NOW, Estimate::default(), false).unwrap_err(),
        Gate::Read(Before::Refresh),
        "95 % spent elsewhere"
    );
    assert!(meter.admit(NOW, Estimate::default(), true).is_ok());
}
