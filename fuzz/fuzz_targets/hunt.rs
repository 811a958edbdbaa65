//! What a hunt reads: any bytes as a network log, a CI log, a snapshot and a hunt's JSON give
//! evidence or a problem, never a panic; the keyed pre-filter (a feed's thousands of domains)
//! finds exactly what parsing every line finds; a hunt's JSON reads back as it was written.
#![no_main]

use std::io::Cursor;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tagwarden_evidence::{
    Collect, Evidence, Indicator, IndicatorSet, NetworkKind, SourceStats, ci, network, recognise,
    snapshot,
};

fn set(extra: &[Indicator]) -> IndicatorSet {
    let ind = |kind, value: &str| Indicator {
        kind,
        value: value.into(),
        advisory_id: "fuzz".into(),
        weak: false,
    };
    let mut all = vec![
        ind(NetworkKind::Domain, "audit.checkmarx.cx"),
        ind(NetworkKind::Domain, "a.io"),
        ind(NetworkKind::Ip, "94.154.172.43"),
        ind(NetworkKind::Ip, "8.8.4.4"),
        ind(NetworkKind::Url, "https://audit.checkmarx.cx/v1/telemetry"),
        ind(NetworkKind::UserAgent, "KICS-Telemetry/2.0"),
    ];
    all.extend(extra.iter().cloned());
    IndicatorSet::new(all)
}

/// The set keyed (many domains) and the same parsed line by line (an IPv6 address).
fn sets() -> &'static (IndicatorSet, IndicatorSet) {
    static SETS: OnceLock<(IndicatorSet, IndicatorSet)> = OnceLock::new();
    SETS.get_or_init(|| {
        let feed: Vec<Indicator> = (0..100)
            .map(|i| Indicator {
                kind: NetworkKind::Domain,
                value: format!("feed{i}.example.net"),
                advisory_id: "fuzz".into(),
                weak: false,
            })
            .collect();
        let mut v6 = feed.clone();
        v6.push(Indicator {
            kind: NetworkKind::Ip,
            value: "2001:db8::1".into(),
            advisory_id: "fuzz".into(),
            weak: false,
        });
        (set(&feed), set(&v6))
    })
}

fn search(set: &IndicatorSet, data: &[u8]) -> Vec<Evidence> {
    let sink = Collect::default();
    let reader = Box::new(Cursor::new(data.to_vec()));
    network::read_stream(set, "fuzz.log", reader, &sink, &mut SourceStats::default());
    let (mut evidence, _) = sink.into_parts();
    evidence.retain(|e| !matches!(&e.observed, tagwarden_evidence::Observed::Network { indicator, .. } if indicator.kind == NetworkKind::Ip && indicator.value.contains(':')));
    evidence.sort_by(|a, b| (a.line, format!("{:?}", a.observed)).cmp(&(b.line, format!("{:?}", b.observed))));
    evidence
}

fuzz_target!(|data: &[u8]| {
    let _ = recognise::recognise(data);
    // Escaped hosts (`audit\u002echeckmarx.cx`) are found only on lines the pre-filter passes.
    if !data.contains(&b'\\') {
        let (keyed, every_line) = sets();
        assert_eq!(search(keyed, data), search(every_line, data));
    }
    let sink = Collect::default();
    let _ = ci::scan(
        &mut Cursor::new(data),
        ci::FileContext::default(),
        ci::Carry::default(),
        &sink,
    );
    let text = String::from_utf8_lossy(data);
    let _ = snapshot::parse("fuzz.json", &text);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(outcome) = tagwarden_hunt::json::read(text)
    {
        let mut out = Vec::new();
        tagwarden_hunt::json::write(&outcome, &mut out).expect("write");
        let again = tagwarden_hunt::json::read(std::str::from_utf8(&out).expect("utf-8"))
            .expect("reads what it wrote");
        assert_eq!(again, outcome);
    }
});
