//! The store on SQLite files: leases between two replicas, unique event keys, the outbox,
//! history and pruning. (The same queries run on PostgreSQL in the binary's watch tests.)

use tagwarden_findings::Severity;
use tagwarden_reference::Reference;

use super::*;
use crate::event::{EventKind, NewEvent, Observed};
use crate::target::{TagKind, Target};

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn seen(c: char) -> Outcome {
    Outcome::Seen {
        observed: Observed::Present {
            digest: digest(c),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            children: Vec::new(),
        },
        how: "head",
        malicious: Vec::new(),
        signature: None,
    }
}

fn target(tag: &str) -> (Target, bool) {
    let reference = Reference::parse(&format!("127.0.0.1:5000/acme/app:{tag}"))
        .unwrap_or_else(|e| panic!("{e}"));
    (
        Target {
            reference,
            kind: TagKind::of(tag),
            pins: Vec::new(),
            origins: vec!["test".into()],
        },
        false,
    )
}

fn open(dir: &std::path::Path, replica: &str) -> Store {
    Store::open(&Database::Sqlite(dir.join("w.db")), replica).unwrap_or_else(|e| panic!("{e}"))
}

fn record(store: &Store, tag: Claimed, at: i64, outcome: Outcome) -> Vec<StoredEvent> {
    let sinks = [("hook".to_string(), Severity::High)];
    store
        .record(
            &[PollResult {
                tag,
                at,
                next_due: at + 1000,
                outcome,
            }],
            &sinks,
        )
        .unwrap_or_else(|e| panic!("{e}"))
}

fn claim(store: &Store, now: i64) -> Vec<Claimed> {
    store
        .claim_due(now, 60_000, 100, None)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn leases_events_and_the_outbox() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let a = open(dir.path(), "a");
    let b = open(dir.path(), "b");
    a.sync_targets(&[target("v1.2.3"), target("latest")], 1)
        .unwrap_or_else(|e| panic!("{e}"));

    // A tag leased by one replica is not given to the other.
    let claimed = claim(&a, 1_000);
    assert_eq!(claimed.len(), 2);
    assert!(claim(&b, 1_000).is_empty());
    for tag in claimed {
        assert!(record(&a, tag, 1_000, seen('1')).is_empty(), "a baseline");
    }
    // Due again after the interval; the release tag moved.
    let claimed = claim(&b, 2_500);
    assert_eq!(claimed.len(), 2);
    let release = claimed
        .iter()
        .find(|c| c.target.tag() == "v1.2.3")
        .cloned()
        .unwrap_or_else(|| panic!("claimed"));
    for other in claimed.iter().filter(|c| c.target.tag() != "v1.2.3") {
        assert!(record(&b, other.clone(), 2_500, seen('1')).is_empty());
    }
    let events = record(&b, release.clone(), 2_500, seen('2'));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "tag-moved");
    assert_eq!(events[0].severity, Severity::High);
    // The same poll recorded again (its lease is gone) changes nothing and emits nothing.
    assert!(record(&b, release, 2_600, seen('3')).is_empty());

    // A replica that died: its lease expires and the tag is taken over.
    let held = claim(&a, 5_000);
    assert_eq!(held.len(), 2);
    assert!(claim(&b, 6_000).is_empty());
    let taken = claim(&b, 70_000);
    assert_eq!(taken.len(), 2);
    // The dead replica's late answer is dropped.
    for tag in held {
        assert!(record(&a, tag, 71_000, seen('9')).is_empty());
    }
    for tag in taken {
        let now = if tag.target.tag() == "v1.2.3" {
            '2'
        } else {
            '1'
        };
        assert!(record(&b, tag, 71_000, seen(now)).is_empty());
    }

    // One delivery queued for the high event; delivered once.
    let deliveries = a
        .claim_deliveries(80_000, 60_000, 10)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(deliveries.len(), 1);
    assert!(
        b.claim_deliveries(80_000, 60_000, 10)
            .is_ok_and(|d| d.is_empty())
    );
    a.finish_delivery(deliveries[0].id, 80_001, Ok(()), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        a.claim_deliveries(200_000, 60_000, 10)
            .is_ok_and(|d| d.is_empty())
    );

    // History: two observations of the release tag, the second seen twice.
    let id = a
        .find_tag(
            &Reference::parse("127.0.0.1:5000/acme/app:v1.2.3").unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("known"));
    let history = a
        .history(id)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("history"));
    let polls: Vec<(Option<String>, i64)> = history
        .observations
        .iter()
        .map(|o| (o.digest.clone(), o.polls))
        .collect();
    assert_eq!(polls, [(Some(digest('1')), 1), (Some(digest('2')), 2)]);
    assert_eq!(history.events.len(), 1);

    // Acknowledged once.
    assert!(
        a.acknowledge(events[0].id, "test", 90_000)
            .is_ok_and(|ok| ok)
    );
    assert!(
        a.acknowledge(events[0].id, "test", 90_001)
            .is_ok_and(|ok| !ok)
    );
    assert!(a.events(true, 10).is_ok_and(|e| e.is_empty()));

    // Pruning keeps each tag's latest observation.
    let pruned = a.prune(10_000_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        pruned,
        Pruned {
            observations: 1,
            events: 1
        }
    );
    assert_eq!(a.tags(None, false, 10).map(|t| t.len()).ok(), Some(2));
}

#[test]
fn an_event_key_is_recorded_once() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let a = open(dir.path(), "a");
    let b = open(dir.path(), "b");
    let event = NewEvent {
        kind: EventKind::RegistryUnhealthy,
        severity: Severity::Medium,
        key: "health:r:x:1".into(),
        message: "down".into(),
        digest_before: None,
        digest_after: None,
        detail: serde_json::json!({}),
    };
    assert!(a.add_event(&event, "r", 1, &[]).is_ok_and(|e| e.is_some()));
    assert!(b.add_event(&event, "r", 2, &[]).is_ok_and(|e| e.is_none()));
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    drop(open(dir.path(), "a"));
    let conn =
        rusqlite::Connection::open(dir.path().join("w.db")).unwrap_or_else(|e| panic!("{e}"));
    conn.execute("INSERT INTO schema_migrations VALUES (99, 0)", [])
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    let error = Store::open(&Database::Sqlite(dir.path().join("w.db")), "a").err();
    assert!(error.is_some_and(|e| e.to_string().contains("newer")));
}
