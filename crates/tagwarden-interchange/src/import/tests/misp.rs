//! MISP events.

use super::*;

#[test]
fn misp_event() {
    let i = run("misp_event.json", Format::Misp).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "misp-61af765e-943d-4957-b61e-f4c254c2cf26");
    assert_eq!(a.title, "Overwritten checkmarx/kics tags on Docker Hub");
    assert_eq!(
        a.imported.as_ref().unwrap().author.as_deref(),
        Some("Northwind Threat Research")
    );
    assert_eq!(a.published, date(2026, 4, 22));
    assert_eq!(a.updated, date(2026, 4, 23));
    assert!(a.summary.contains("tlp:clear"));
    assert_eq!(values(a, NetworkKind::Domain), ["audit.checkmarx.cx"]);
    assert_eq!(
        values(a, NetworkKind::Ip),
        ["94.154.172.43", "91.195.240.123"]
    );
    assert_eq!(values(a, NetworkKind::UserAgent), ["KICS-Telemetry/2.0"]);
    // to_ids false: weak, never a hit on its own.
    assert_eq!(weak(a), ["91.195.240.123"]);
    assert_eq!(
        a.network_indicators[0].provenance.note.as_deref(),
        Some("Receives the scan results")
    );
    assert_eq!(
        a.file_hashes[0].description,
        "kics executable with the stealer"
    );
    // The event's link is a source of every value.
    assert_eq!(a.sources.len(), 2);
    assert_eq!(a.network_indicators[0].provenance.sources.len(), 2);

    let d = &a.malicious_digests;
    assert_eq!(d.len(), 3);
    assert_eq!(d[0].digest.to_string(), KICS_LATEST);
    assert_eq!(d[0].kind, DigestKind::Index);
    assert_eq!(d[0].repositories, ["docker.io/checkmarx/kics"]);
    assert_eq!(d[0].tags, ["latest"]);
    // `os` names a distribution: a Linux platform manifest.
    assert_eq!(d[1].kind, DigestKind::Manifest);
    assert_eq!(d[1].platform.as_deref(), Some("linux/arm64"));
    // An architecture without an OS is a platform manifest all the same, never an index.
    assert_eq!(d[2].kind, DigestKind::Manifest);
    assert_eq!(d[2].platform, None);
    assert!(
        note(&d[2].provenance).contains("architecture amd64"),
        "{:?}",
        d[2].provenance.note
    );
    // Two objects for one tag and window: one exposure, one verdict.
    assert_eq!(a.image_exposures.len(), 1);
    let e = &a.image_exposures[0];
    assert_eq!(e.repositories, ["docker.io/checkmarx/kics"]);
    assert_eq!(e.tags, ["alpine"]);
    assert_eq!(e.window.value.start.to_string(), "2026-04-22T12:31:00Z");
    assert_eq!(e.window.value.end.to_string(), "2026-04-22T12:59:59Z");
    assert_eq!(verdicts(a, "checkmarx/kics:alpine"), ["affected_tag"]);
    assert!(i.unmapped.is_empty(), "{:?}", i.unmapped);
}

/// The benign path: `to_ids: false` ("not meant for detection") and false-positive marks never
/// make a value malicious. MISP has no "known good": such digests and hashes are kept out.
#[test]
fn misp_values_not_for_detection_are_never_malicious() {
    let i = run("misp_known_good.json", Format::Misp).unwrap();
    let a = &i.advisory;
    assert_eq!(malicious(a), [KICS_LATEST]);
    assert!(a.known_good_digests.is_empty());
    assert!(a.file_hashes.is_empty());
    assert_eq!(
        kept_out(a),
        [
            (
                "file_sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            (
                "file_sha256",
                "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
            ),
            ("image_digest", KICS_V2120_GOOD),
        ]
    );
    let image = &a.not_indicators[2];
    assert!(image.reason.contains("to_ids is false"), "{}", image.reason);
    assert!(image.reason.contains("docker.io/checkmarx/kics:v2.1.20"));
    assert!(a.not_indicators[1].reason.contains("false positive"));
    // The clean image's object has a time span, but a clean tag exposes nothing.
    assert!(a.image_exposures.is_empty());
    assert_eq!(weak(a), ["kics.io", "checkmarx.cx"]);
    assert!(verdicts(a, &format!("checkmarx/kics:v2.1.20@{KICS_V2120_GOOD}")).is_empty());
    let notices = kept_out_notices(&i);
    assert_eq!(notices.len(), 3, "{notices:#?}");
    assert!(
        notices[2].contains(&format!(
            "kept out of matching: image_digest {KICS_V2120_GOOD}"
        )),
        "{}",
        notices[2]
    );
}

#[test]
fn misp_malicious_wins_over_not_for_detection_and_says_so() {
    let object = |to_ids: bool| {
        format!(
            r#"{{"name": "container-image", "Attribute": [
       {{"object_relation": "image-name", "type": "text", "value": "checkmarx/kics"}},
       {{"object_relation": "digest", "type": "sha256", "to_ids": {to_ids}, "value": "{}"}}]}}"#,
            &KICS_LATEST[7..]
        )
    };
    for objects in [[object(false), object(true)], [object(true), object(false)]] {
        let text = format!(
            r#"{{"Event": {{"uuid": "e2", "info": "x", "date": "2026-04-22", "Object": [{}, {}]}}}}"#,
            objects[0], objects[1]
        );
        let i = import_text("c.json", &text, None).unwrap();
        assert_eq!(malicious(&i.advisory), [KICS_LATEST]);
        assert!(i.advisory.not_indicators.is_empty());
        assert!(
            i.unmapped
                .iter()
                .any(|u| !u.kept_out && u.message.contains("kept as malicious only")),
            "{:?}",
            i.unmapped
        );
    }
}

#[test]
fn misp_platforms_from_os_and_architecture() {
    let object = |os: &str, arch: &str| {
        let os = if os.is_empty() {
            String::new()
        } else {
            format!(r#"{{"object_relation": "os", "type": "text", "value": "{os}"}},"#)
        };
        format!(
            r#"{{"Event": {{"uuid": "e3", "info": "x", "Object": [{{"name": "container-image", "Attribute": [
       {os}
       {{"object_relation": "architecture", "type": "text", "value": "{arch}"}},
       {{"object_relation": "digest", "type": "sha256", "value": "{}"}}]}}]}}}}"#,
            &KICS_LATEST[7..]
        )
    };
    for (os, arch, platform) in [
        ("linux", "arm/v7", Some("linux/arm/v7")),
        ("debian", "x86_64", Some("linux/amd64")),
        ("Windows Server 2022", "amd64", Some("windows/amd64")),
        ("", "aarch64", None),
    ] {
        let i = import_text("p.json", &object(os, arch), None).unwrap();
        let d = &i.advisory.malicious_digests[0];
        assert_eq!(d.kind, DigestKind::Manifest, "{os} {arch}");
        assert_eq!(d.platform.as_deref(), platform, "{os} {arch}");
    }
}

#[test]
fn misp_weak_windows_and_unmapped() {
    let text = r#"{"Event": {"uuid": "e1", "info": "x", "date": "2026-04-22", "Attribute": [
  {"type": "ip-dst|port", "to_ids": false, "value": "91.195.240.123|443"},
  {"type": "md5", "to_ids": true, "value": "e1023db24a29ab0229d99764e2c8deba"},
  {"type": "domain", "value": "audit.checkmarx.cx", "deleted": true}
 ], "Object": [
  {"name": "container-image", "first_seen": "2026-04-22T12:31:00+00:00", "last_seen": "2026-04-22T12:59:59Z",
   "Attribute": [
     {"object_relation": "image-name", "type": "text", "value": "checkmarx/kics"},
     {"object_relation": "tag", "type": "text", "value": "alpine"},
     {"object_relation": "digest", "type": "sha256", "value": "sha256:2588a44890263a8185bd5d9fadb6bc9220b60245dbcbc4da35e1b62a6f8c230d"}]},
  {"name": "file", "Attribute": [
     {"object_relation": "sha256", "type": "sha256", "value": "2A6A35F06118FF7D61BFD36A5788557B695095E7C9A609B4A01956883F146F50"},
     {"object_relation": "md5", "type": "md5", "value": "e1023db24a29ab0229d99764e2c8deba"},
     {"object_relation": "filename", "type": "filename", "value": "kics"}]}
 ]}}"#;
    let i = import_all(
        &[Input {
            path: "e.json",
            text,
            format: Some(Format::Misp),
        }],
        &options(),
    )
    .unwrap();
    let a = &i.advisory;
    assert_eq!(a.network_indicators.len(), 1);
    assert!(a.network_indicators[0].weak);
    assert_eq!(a.network_indicators[0].value, "91.195.240.123");
    let e = &a.image_exposures[0];
    assert_eq!(
        (e.repositories[0].as_str(), e.tags[0].as_str()),
        ("docker.io/checkmarx/kics", "alpine")
    );
    assert_eq!(e.window.value.start.to_string(), "2026-04-22T12:31:00Z");
    let f = &a.file_hashes[0];
    assert_eq!(f.md5.as_deref(), Some("e1023db24a29ab0229d99764e2c8deba"));
    assert_eq!(f.description, "kics");
    let messages: Vec<String> = i.unmapped.iter().map(|u| u.to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("e.json:3:3: not imported: MISP md5 attribute"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("deleted"));
}

#[test]
fn misp_reversed_windows_are_reported_not_fatal() {
    // last_seen before first_seen: that exposure is left out and said so; the rest imports.
    let text = format!(
        r#"{{"Event": {{"uuid": "e4", "info": "x", "Object": [
  {{"name": "container-image", "first_seen": "2026-04-22T13:00:00Z", "last_seen": "2026-04-22T12:00:00Z",
   "Attribute": [
     {{"object_relation": "image-name", "type": "text", "value": "checkmarx/kics"}},
     {{"object_relation": "tag", "type": "text", "value": "alpine"}},
     {{"object_relation": "digest", "type": "sha256", "value": "{}"}}]}}]}}}}"#,
        &KICS_LATEST[7..]
    );
    let i = import_text("r.json", &text, None).unwrap();
    assert_eq!(malicious(&i.advisory), [KICS_LATEST]);
    assert!(i.advisory.image_exposures.is_empty());
    assert!(
        i.unmapped[0].message.contains("ends before it starts"),
        "{:?}",
        i.unmapped
    );
}
