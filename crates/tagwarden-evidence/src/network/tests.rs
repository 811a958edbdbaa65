//! Tests over the synthetic lines of the research notes (section 3), one or more per format.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::NetworkLogs;
use crate::NetworkKind;
use crate::indicators::{Indicator, IndicatorSet};
use crate::{Collect, Evidence, EvidenceSource, Observed, Problem, SourceKind};

fn ind(kind: NetworkKind, value: &str, weak: bool) -> Indicator {
    Indicator {
        kind,
        value: value.into(),
        advisory_id: "kics-2026-04".into(),
        weak,
    }
}

fn kics() -> Arc<IndicatorSet> {
    Arc::new(IndicatorSet::new(vec![
        ind(NetworkKind::Domain, "audit.checkmarx.cx", false),
        ind(NetworkKind::Ip, "94.154.172.43", false),
        ind(
            NetworkKind::Url,
            "https://audit.checkmarx.cx/v1/telemetry",
            false,
        ),
        ind(NetworkKind::UserAgent, "KICS-Telemetry/2.0", false),
        ind(NetworkKind::Ip, "91.195.240.123", true),
        ind(NetworkKind::HttpHeader, "X-Filename: tpcp.tar.gz", false),
    ]))
}

/// The same set plus an IPv6 indicator, which turns the literal pre-filter off: every line is
/// parsed.
fn kics_every_line() -> Arc<IndicatorSet> {
    let mut all = kics().all().to_vec();
    all.push(ind(NetworkKind::Ip, "2001:db8::dead", false));
    Arc::new(IndicatorSet::new(all))
}

/// The same set plus a feed of domains the logs never contain, which makes the pre-filter
/// key the domains and addresses by their first dot instead of searching them as literals.
fn kics_keyed() -> Arc<IndicatorSet> {
    let mut all = kics().all().to_vec();
    all.extend((0..200).map(|i| ind(NetworkKind::Domain, &format!("feed{i}.example.net"), false)));
    Arc::new(IndicatorSet::new(all))
}

/// Runs with the literal pre-filter, the keyed one and none, checks all find the same, returns
/// the first run.
fn run_paths(paths: Vec<PathBuf>, set: Arc<IndicatorSet>) -> (Vec<Evidence>, Vec<Problem>) {
    let (ev, p) = run_once(paths.clone(), set);
    let (ev2, _) = run_once(paths.clone(), kics_every_line());
    assert_eq!(ev, ev2, "pre-filtered and per-line runs differ");
    let (ev3, _) = run_once(paths, kics_keyed());
    assert_eq!(ev, ev3, "keyed and literal pre-filters differ");
    (ev, p)
}

fn run_once(paths: Vec<PathBuf>, set: Arc<IndicatorSet>) -> (Vec<Evidence>, Vec<Problem>) {
    let sink = Collect::default();
    let source = NetworkLogs::new(paths, set, 2);
    // A source that could read nothing says why in its error: counted with the problems.
    let failed = source.collect(&sink).err();
    let (mut evidence, mut problems) = sink.into_parts();
    problems.extend(failed);
    evidence.sort_by(|a, b| (&a.location, a.line).cmp(&(&b.location, b.line)));
    (evidence, problems)
}

fn run_bytes(name: &str, bytes: &[u8]) -> (Vec<Evidence>, Vec<Problem>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    run_paths(vec![path], kics())
}

fn run(text: &str) -> (Vec<Evidence>, Vec<Problem>) {
    run_bytes("log", text.as_bytes())
}

/// (kind, value, matched) of each evidence.
fn summary(evidence: &[Evidence]) -> Vec<(u64, &'static str, String, String)> {
    let mut out: Vec<_> = evidence
        .iter()
        .map(|e| match &e.observed {
            Observed::Network {
                indicator, matched, ..
            } => (
                e.line.unwrap_or(0),
                indicator.kind.as_str(),
                indicator.value.clone(),
                matched.clone(),
            ),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    out.sort();
    out
}

fn remote(e: &Evidence) -> Option<String> {
    match &e.observed {
        Observed::Network { remote_ip, .. } => remote_ip.map(|ip| ip.to_string()),
        _ => None,
    }
}

fn ts(e: &Evidence) -> String {
    e.timestamp.map(|t| t.to_string()).unwrap_or_default()
}

const ZEEK_DNS: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tdns
#open\t2026-04-22-12-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool
1776861361.512345\tCkD3sA1bXyZ9pQ2rT4\t10.0.5.23\t48213\t10.0.0.2\t53\tudp\t41235\t0.012031\taudit.checkmarx.cx\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t94.154.172.43\t300.000000\tF
1776861361.600000\tCkD3sA1bXyZ9pQ2rT5\t10.0.5.23\t48214\t10.0.0.2\t53\tudp\t41236\t0.012031\tnotcheckmarx.cx\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t1.2.3.4\t300.000000\tF
1776861361.700000\tCkD3sA1bXyZ9pQ2rT6\t10.0.5.23\t48215\t10.0.0.2\t53\tudp\t41237\t0.012031\tcheckmarx.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t-\t-\tF
#close\t2026-04-22-13-00-00
";

#[test]
fn zeek_dns_tsv() {
    let (ev, problems) = run(ZEEK_DNS);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        summary(&ev),
        [
            (
                9,
                "domain",
                "audit.checkmarx.cx".into(),
                "audit.checkmarx.cx".into()
            ),
            (9, "ip", "94.154.172.43".into(), "94.154.172.43".into()),
        ]
    );
    for e in &ev {
        assert_eq!(e.source, SourceKind::ZeekDns);
        assert_eq!(ts(e), "2026-04-22T12:36:01.512345Z");
        assert_eq!(e.host.as_deref(), Some("10.0.5.23"));
        assert!(e.excerpt.as_deref().unwrap().contains("CkD3sA1bXyZ9pQ2rT4"));
    }
    let ip = ev
        .iter()
        .find(|e| remote(e).as_deref() == Some("94.154.172.43"));
    assert!(ip.is_some());
}

#[test]
fn zeek_headers_mid_file_reorder_columns() {
    // A second log appended after rotation, with its columns in another order.
    let second = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tdns
#fields\tquery\tts\tid.orig_h\tid.resp_h\tanswers
#types\tstring\ttime\taddr\taddr\tvector[string]
audit.checkmarx.cx\t1776861400.000000\t10.0.5.99\t10.0.0.2\t-
";
    let (ev, problems) = run(&format!("{ZEEK_DNS}{second}"));
    assert!(problems.is_empty(), "{problems:?}");
    let last = ev
        .iter()
        .find(|e| e.line == Some(20))
        .expect("hit after headers");
    assert_eq!(last.host.as_deref(), Some("10.0.5.99"));
    assert_eq!(ts(last), "2026-04-22T12:36:40Z");
}

#[test]
fn zeek_ssl_conn_http_tsv() {
    let ssl = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tssl
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\tserver_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history\tcert_chain_fps\tclient_cert_chain_fps\tsni_matches_cert
#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tstring\tstring\tbool\tstring\tvector[string]\tvector[string]\tbool
1776861362.020511\tCV1m7u2yQ3lJ0cF2bd\t10.0.5.23\t48644\t94.154.172.43\t443\tTLSv13\tTLS_AES_128_GCM_SHA256\tx25519\taudit.checkmarx.cx\tF\t-\t-\tT\tCsiI\t-\t-\t-
1776861362.020511\tCV1m7u2yQ3lJ0cF2be\t10.0.5.23\t48645\t1.1.1.1\t443\tTLSv13\tTLS_AES_128_GCM_SHA256\tx25519\tnotcheckmarx.cx\tF\t-\t-\tT\tCsiI\t-\t-\t-
";
    let (ev, p) = run(ssl);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(ev.len(), 2);
    assert!(
        ev.iter()
            .all(|e| e.source == SourceKind::ZeekSsl && e.line == Some(8))
    );
    assert!(
        ev.iter()
            .all(|e| remote(e).as_deref() == Some("94.154.172.43"))
    );

    let conn = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
1776861362.001944\tCV1m7u2yQ3lJ0cF2bd\t10.0.5.23\t48644\t94.154.172.43\t443\ttcp\tssl\t1.348210\t48211\t5120\tSF\tT\tF\t0\tShADadFf\t41\t50347\t22\t6280\t-
1776861362.001944\tCV1m7u2yQ3lJ0cF2bd\t10.0.5.23\t48644\t94.154.172.4\t443\ttcp\tssl\t1.348210\t48211\t5120\tSF\tT\tF\t0\tShADadFf\t41\t50347\t22\t6280\t-
";
    let (ev, p) = run(conn);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        summary(&ev),
        [(8, "ip", "94.154.172.43".into(), "94.154.172.43".into())]
    );
    assert_eq!(ev[0].source, SourceKind::ZeekConn);
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:02.001944Z");

    let http = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\thttp
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\tstatus_code\tstatus_msg\tinfo_code\tinfo_msg\ttags\tusername\tpassword\tproxied\torig_fuids\torig_filenames\torig_mime_types\tresp_fuids\tresp_filenames\tresp_mime_types
#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\tstring\tstring\tstring\tcount\tcount\tcount\tstring\tcount\tstring\tset[enum]\tstring\tstring\tset[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]
1776861362.004101\tCrX9w41AbcdEf0gh1\t10.0.5.23\t48650\t10.0.0.8\t3128\t1\tCONNECT\taudit.checkmarx.cx:443\taudit.checkmarx.cx:443\t-\t1.1\tGo-http-client/1.1\t-\t0\t0\t200\tConnection established\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-\t-\t-\t-
1776861362.114020\tCpQ7e2ZkLm3No4pQr5\t10.0.5.23\t48650\t94.154.172.43\t443\t1\tPOST\taudit.checkmarx.cx\t/v1/telemetry\t-\t1.1\tKICS-Telemetry/2.0\t-\t47923\t2\t200\tOK\t-\t-\t(empty)\t-\t-\t-\tFhL2x13KbOwQ3tF6e3\t-\tapplication/octet-stream\t-\t-\t-
1776861362.114020\tCpQ7e2ZkLm3No4pQr6\t10.0.5.23\t48651\t8.8.8.8\t443\t1\tGET\tcheckmarx.com\t/v1/telemetry\t-\t1.1\tcurl/8\t-\t0\t2\t200\tOK\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-\t-\t-\t-
";
    let (ev, p) = run(http);
    assert!(p.is_empty(), "{p:?}");
    let s = summary(&ev);
    assert_eq!(
        s,
        [
            (
                8,
                "domain",
                "audit.checkmarx.cx".into(),
                "audit.checkmarx.cx:443".into()
            ),
            (
                9,
                "domain",
                "audit.checkmarx.cx".into(),
                "audit.checkmarx.cx".into()
            ),
            (9, "ip", "94.154.172.43".into(), "94.154.172.43".into()),
            (
                9,
                "url",
                "https://audit.checkmarx.cx/v1/telemetry".into(),
                "audit.checkmarx.cx/v1/telemetry".into()
            ),
            (
                9,
                "user_agent",
                "KICS-Telemetry/2.0".into(),
                "KICS-Telemetry/2.0".into()
            ),
        ]
    );
    assert!(ev.iter().all(|e| e.source == SourceKind::ZeekHttp));
}

#[test]
fn zeek_json() {
    let text = r#"{"ts":1776861361.512345,"uid":"CkD3sA1bXyZ9pQ2rT4","id.orig_h":"10.0.5.23","id.orig_p":48213,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","trans_id":41235,"rtt":0.012031,"query":"audit.checkmarx.cx","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["94.154.172.43"],"TTLs":[300.0],"rejected":false}
{"ts":"2026-04-22T12:36:05.000000Z","uid":"X","id.orig_h":"10.0.5.24","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"query":"notcheckmarx.cx","answers":["1.2.3.4"]}
{"ts":"2026-04-22T12:36:06.250000Z","uid":"Y","id.orig_h":"10.0.5.25","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"query":"AUDIT.checkmarx.cx"}
"#;
    let (ev, p) = run(text);
    assert!(p.is_empty(), "{p:?}");
    let s = summary(&ev);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(ev.iter().all(|e| e.source == SourceKind::ZeekDns));
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:01.512345Z");
    let third = ev.iter().find(|e| e.line == Some(3)).unwrap();
    assert_eq!(ts(third), "2026-04-22T12:36:06.25Z");
    assert_eq!(third.host.as_deref(), Some("10.0.5.25"));

    let http = r#"{"ts":1776861362.11402,"uid":"CpQ7e2ZkLm3No4pQr5","id.orig_h":"10.0.5.23","id.orig_p":48650,"id.resp_h":"94.154.172.43","id.resp_p":443,"trans_depth":1,"method":"POST","host":"audit.checkmarx.cx","uri":"/v1/telemetry","version":"1.1","user_agent":"KICS-Telemetry/2.0","request_body_len":47923,"response_body_len":2,"status_code":200,"status_msg":"OK","tags":[],"resp_fuids":["FhL2x13KbOwQ3tF6e3"],"resp_mime_types":["application/octet-stream"]}"#;
    let (ev, p) = run(http);
    assert!(p.is_empty(), "{p:?}");
    let kinds: Vec<_> = summary(&ev).into_iter().map(|s| s.1).collect();
    assert_eq!(kinds, ["domain", "ip", "url", "user_agent"]);
    assert!(ev.iter().all(|e| e.source == SourceKind::ZeekHttp));
}

#[test]
fn squid_native_combined_and_ua() {
    let native = "1776861362.114   1350 10.0.5.23 TCP_TUNNEL/200 48211 CONNECT audit.checkmarx.cx:443 - HIER_DIRECT/94.154.172.43 -
1510956761.029 181845 192.168.1.103 TCP_TUNNEL/200 16464 CONNECT etherpad.fr:443 - ORIGINAL_DST/195.154.57.241 -
1776861362.301    412 10.0.5.23 TCP_MISS/200 312 POST https://audit.checkmarx.cx/v1/telemetry - HIER_DIRECT/94.154.172.43 application/json \"KICS-Telemetry/2.0\"
1776861362.400    412 10.0.5.23 TCP_MISS/200 312 GET https://notcheckmarx.cx/v1/telemetry - HIER_DIRECT/1.2.3.4 application/json \"curl/8\"
";
    let (ev, p) = run(native);
    assert!(p.is_empty(), "{p:?}");
    let s = summary(&ev);
    assert_eq!(
        s.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        [
            (1, "domain"),
            (1, "ip"),
            (3, "domain"),
            (3, "ip"),
            (3, "url"),
            (3, "user_agent")
        ]
    );
    assert!(ev.iter().all(|e| e.source == SourceKind::Squid));
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:02.114Z");
    assert_eq!(ev[0].host.as_deref(), Some("10.0.5.23"));
    assert!(
        ev.iter()
            .all(|e| remote(e).as_deref() == Some("94.154.172.43"))
    );

    let combined = "10.0.5.23 - - [22/Apr/2026:12:36:02 +0000] \"POST https://audit.checkmarx.cx/v1/telemetry HTTP/1.1\" 200 312 \"-\" \"KICS-Telemetry/2.0\" TCP_MISS:HIER_DIRECT\n";
    let (ev, p) = run(combined);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(ev.len(), 3);
    assert!(ev.iter().all(|e| e.source == SourceKind::Squid));
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:02Z");
}

#[test]
fn access_log_combined() {
    let text = "10.0.5.23 - - [22/Apr/2026:14:36:02 +0200] \"POST /v1/telemetry HTTP/1.1\" 200 2 \"-\" \"KICS-Telemetry/2.0\"
10.0.5.24 - - [22/Apr/2026:12:37:00 +0000] \"GET https://checkmarx.com/v1/telemetry HTTP/1.1\" 200 2 \"-\" \"curl/8\"
10.0.5.25 - - [22/Apr/2026:12:38:00 +0000] \"GET http://audit.checkmarx.cx/v1/telemetry?x=1 HTTP/1.1\" 200 - \"-\" \"say \\\"hi\\\"\"
10.0.5.26 - - [22/Apr/2026:12:39:00 +0000] \"CONNECT 94.154.172.43:443 HTTP/1.1\" 200 0
";
    let (ev, p) = run(text);
    assert!(p.is_empty(), "{p:?}");
    let s = summary(&ev);
    assert_eq!(
        s.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        [(1, "user_agent"), (3, "domain"), (3, "url"), (4, "ip")]
    );
    assert!(ev.iter().all(|e| e.source == SourceKind::AccessLog));
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:02Z");
    assert_eq!(ev[0].host.as_deref(), Some("10.0.5.23"));
}

#[test]
fn route53_resolver() {
    let text = r#"{"version":"1.100000","account_id":"123456789012","region":"us-east-1","vpc_id":"vpc-0abc1234def567890","query_timestamp":"2026-04-22T12:36:01Z","query_name":"audit.checkmarx.cx.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"94.154.172.43","Type":"A","Class":"IN"}],"srcaddr":"10.0.5.23","srcport":"48213","transport":"UDP","srcids":{"instance":"i-0123456789abcdef0"}}
{"version":"1.100000","account_id":"123456789012","region":"us-east-1","vpc_id":"vpc-0abc1234def567890","query_timestamp":"2026-04-22T12:36:02Z","query_name":"checkmarx.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"1.2.3.4","Type":"A","Class":"IN"}],"srcaddr":"10.0.5.23","srcport":"48213","transport":"UDP"}
"#;
    let (ev, p) = run(text);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        summary(&ev),
        [
            (
                1,
                "domain",
                "audit.checkmarx.cx".into(),
                "audit.checkmarx.cx.".into()
            ),
            (1, "ip", "94.154.172.43".into(), "94.154.172.43".into()),
        ]
    );
    assert!(ev.iter().all(|e| e.source == SourceKind::Route53Resolver
        && ts(e) == "2026-04-22T12:36:01Z"
        && e.host.as_deref() == Some("10.0.5.23")));
}

#[test]
fn coredns_text_and_json() {
    let text = "[INFO] plugin/reload: Running configuration SHA512 = abc
[INFO] 10.244.1.17:43512 - 51234 \"A IN audit.checkmarx.cx. udp 47 false 512\" NOERROR qr,rd,ra 98 0.012345678s
2026-04-22T12:36:01.5Z [INFO] [::1]:50759 - 29008 \"AAAA IN x.audit.checkmarx.cx. udp 41 false 4096\" NOERROR qr,rd,ra,ad 68 0.037990251s
[INFO] 10.244.1.18:43512 - 51235 \"A IN notcheckmarx.cx. udp 47 false 512\" NOERROR qr,rd,ra 98 0.01s
[ERROR] plugin/errors: 2 audit.checkmarx.cx. A: read udp 10.244.1.2:5353->94.154.172.43:53: i/o timeout
";
    let (ev, p) = run(text);
    assert!(p.is_empty(), "{p:?}");
    let s = summary(&ev);
    assert_eq!(
        s.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        [(2, "domain"), (3, "domain"), (5, "domain"), (5, "ip")]
    );
    assert!(ev.iter().all(|e| e.source == SourceKind::CoreDns));
    assert_eq!(ev[0].host.as_deref(), Some("10.244.1.17"));
    assert!(ev[0].timestamp.is_none());
    assert_eq!(ts(&ev[1]), "2026-04-22T12:36:01.5Z");
    assert_eq!(ev[1].host.as_deref(), Some("::1"));

    let json = r#"{"client_ip":"10.244.1.17","client_port":"43512","qname":"audit.checkmarx.cx.","qtype":"A","qclass":"IN","protocol":"udp","id":51234,"rcode":"NOERROR","duration_seconds":0.01}"#;
    let (ev, p) = run(json);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].source, SourceKind::CoreDns);
    assert_eq!(ev[0].host.as_deref(), Some("10.244.1.17"));
}

#[test]
fn vpc_flow_default_header_and_custom() {
    let text = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789012 eni-0a1b2c3d4e5f67890 10.0.5.23 94.154.172.43 48644 443 6 41 50347 1776861360 1776861420 ACCEPT OK
2 123456789012 eni-0a1b2c3d4e5f67890 10.0.5.23 94.154.172.44 48644 443 6 41 50347 1776861360 1776861420 ACCEPT OK
2 123456789012 eni-0a1b2c3d4e5f67890 - - - - - - - 1776861360 1776861420 - NODATA
";
    let (ev, p) = run(text);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        summary(&ev),
        [(2, "ip", "94.154.172.43".into(), "94.154.172.43".into())]
    );
    assert_eq!(ev[0].source, SourceKind::VpcFlow);
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:00Z");
    assert_eq!(ev[0].host.as_deref(), Some("10.0.5.23"));

    // Without a header, default layout.
    let (ev, _) = run(text.split_once('\n').unwrap().1);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].line, Some(1));

    // A custom layout read from its header.
    let custom = "start srcaddr pkt-dstaddr dstaddr action
1776861360 10.0.5.23 94.154.172.43 10.0.9.9 ACCEPT
1776861360 10.0.5.23 94.154.172.42 10.0.9.9 ACCEPT
";
    let (ev, p) = run(custom);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        summary(&ev),
        [(2, "ip", "94.154.172.43".into(), "94.154.172.43".into())]
    );
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:00Z");
}

#[test]
fn generic_json_and_plain_text() {
    let json = r#"{"@timestamp":"2026-04-22T12:36:01Z","event":{"dest":"audit.checkmarx.cx"},"client":"10.0.5.23","agent":"KICS-Telemetry/2.0"}
{"@timestamp":"2026-04-22T12:36:01Z","msg":"connect to checkmarx.com and notcheckmarx.cx"}
{"@timestamp":"2026-04-22T12:36:01Z","msg":"upload with X-Filename: tpcp.tar.gz"}
"#;
    let (ev, p) = run(json);
    assert!(p.is_empty(), "{p:?}");
    let s = summary(&ev);
    assert_eq!(
        s.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        [(1, "domain"), (1, "user_agent"), (3, "http_header")]
    );
    assert!(ev.iter().all(|e| e.source == SourceKind::JsonLines));
    assert_eq!(ev[0].host.as_deref(), Some("10.0.5.23"));
    assert_eq!(ts(&ev[0]), "2026-04-22T12:36:01Z");

    let text = "some tool said: contacting AUDIT.checkmarx.cx. (94.154.172.43:443) ok\nnothing about checkmarx.com here\n";
    let (ev, p) = run(text);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        summary(&ev),
        [
            (
                1,
                "domain",
                "audit.checkmarx.cx".into(),
                "AUDIT.checkmarx.cx".into()
            ),
            (1, "ip", "94.154.172.43".into(), "94.154.172.43".into())
        ]
    );
    assert_eq!(remote(&ev[1]).as_deref(), Some("94.154.172.43"));
    assert!(ev.iter().all(|e| e.source == SourceKind::PlainText));
}

/// The notes of one run (lines searched as plain text are a caveat, not a problem).
fn notes_of(path: &Path, set: Arc<IndicatorSet>) -> (Vec<Evidence>, Vec<Problem>) {
    let sink = Collect::default();
    NetworkLogs::new(vec![path.to_path_buf()], set, 1)
        .collect(&sink)
        .unwrap();
    let notes = sink.notes();
    let (evidence, problems) = sink.into_parts();
    assert!(problems.is_empty(), "{problems:?}");
    (evidence, notes)
}

#[test]
fn unparseable_lines_are_counted_and_searched() {
    let text = format!("{ZEEK_DNS}garbage line about audit.checkmarx.cx\nmore garbage\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dns.log");
    std::fs::write(&path, &text).unwrap();
    let (ev, notes) = notes_of(&path, kics());
    assert_eq!(notes.len(), 1, "{notes:?}");
    // The pre-filter parses only lines that hold a piece of an indicator.
    assert!(
        notes[0].message.contains("1 line(s)"),
        "{}",
        notes[0].message
    );
    assert!(notes[0].message.contains("line 13"), "{}", notes[0].message);
    assert!(ev.iter().any(|e| e.line == Some(13)));
    let (_, notes) = notes_of(&path, kics_every_line());
    assert!(
        notes[0].message.contains("2 line(s)"),
        "{}",
        notes[0].message
    );
    // A JSON file with a broken line.
    std::fs::write(
        &path,
        "{\"query\":\"x\"}\n{\"host\":\"audit.checkmarx.cx\"\n",
    )
    .unwrap();
    let (ev, notes) = notes_of(&path, kics());
    assert_eq!(notes.len(), 1);
    assert_eq!(ev.len(), 1);
}

fn gzip(parts: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for part in parts {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part.as_bytes()).unwrap();
        bytes.extend(e.finish().unwrap());
    }
    bytes
}

const SQUID_HIT: &str = "1776861362.114   1350 10.0.5.23 TCP_TUNNEL/200 48211 CONNECT audit.checkmarx.cx:443 - HIER_DIRECT/94.154.172.43 -\n";

#[test]
fn compressed_files() {
    // Two gzip members, as logrotate's delaycompress + cat produce.
    let (ev, p) = run_bytes("access.log.1", &gzip(&[SQUID_HIT, SQUID_HIT]));
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(ev.len(), 4);
    assert_eq!(ev[3].line, Some(2));

    let zst = zstd::encode_all(ZEEK_DNS.as_bytes(), 3).unwrap();
    let (ev, p) = run_bytes("dns.log.zst", &zst);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].source, SourceKind::ZeekDns);
}

#[test]
fn truncated_gzip_keeps_earlier_hits() {
    let body: String = std::iter::repeat_n(SQUID_HIT, 2000).collect();
    let mut bytes = gzip(&[&body]);
    bytes.truncate(bytes.len() / 2);
    let (ev, p) = run_bytes("squid.log.gz", &bytes);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("read error"), "{}", p[0].message);
    assert_eq!(p[0].source, SourceKind::Squid);
    assert!(!ev.is_empty());
}

#[test]
fn unreadable_files_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let dangling = dir.path().join("gone.log");
    std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
    let (ev, p) = run_paths(vec![dangling.clone()], kics());
    assert!(ev.is_empty());
    assert_eq!(p.len(), 1);
    assert!(p[0].location.contains("gone.log"));

    let locked = dir.path().join("locked.log");
    std::fs::write(&locked, SQUID_HIT).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_ok() {
        // Root reads anything: nothing to check here.
        return;
    }
    let (ev, p) = run_paths(vec![locked], kics());
    assert!(ev.is_empty());
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("cannot read"));
}

#[test]
fn directory_walked_and_weak_carried() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/squid.log"), SQUID_HIT).unwrap();
    std::fs::write(dir.path().join("a/b/dns.log"), ZEEK_DNS).unwrap();
    std::fs::write(
        dir.path().join("a/b/vpc.log"),
        "2 123456789012 eni-0a1b2c3d4e5f67890 10.0.5.23 91.195.240.123 48644 443 6 41 50347 1776861360 1776861420 ACCEPT OK\n",
    )
    .unwrap();
    let sink = Collect::default();
    let stats = NetworkLogs::new(vec![dir.path().to_path_buf()], kics(), 3)
        .collect(&sink)
        .unwrap();
    assert_eq!(stats.files, 3);
    assert!(stats.bytes > 0);
    let (ev, p) = sink.into_parts();
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(ev.len(), 5);
    let weak: Vec<_> = ev
        .iter()
        .filter(|e| matches!(&e.observed, Observed::Network { indicator, .. } if indicator.weak))
        .collect();
    assert_eq!(weak.len(), 1);
    assert_eq!(weak[0].source, SourceKind::VpcFlow);
    assert!(weak[0].location.ends_with("vpc.log"));
}

#[test]
fn nothing_searchable_is_an_error() {
    let sink = Collect::default();
    let r = NetworkLogs::new(vec![PathBuf::from("/nonexistent/tw-net")], kics(), 1).collect(&sink);
    assert!(r.is_err());
}

/// Generates `size` bytes of Zeek dns.log-like and Squid-like lines and prints MB/s for a small
/// and a large indicator set. `cargo test --release -p tagwarden-evidence -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput() {
    // TW_NET_BENCH_DIR keeps the files (to compare with `rg -F -f` on the same bytes).
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("TW_NET_BENCH_DIR").map_or(temp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let size = 100 << 20;
    let zeek = dir.join("dns.log");
    let squid = dir.join("squid.log");
    write_generated(&zeek, size, |i, out| {
        if i == 0 {
            out.push_str(ZEEK_DNS.split("1776861361.512345").next().unwrap_or(""));
        }
        out.push_str(&format!(
            "1776861361.{:06}\tC{i:017}\t10.0.{}.{}\t{}\t10.0.0.2\t53\tudp\t{}\t0.012031\thost{}.example{}.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t{}.{}.{}.{}\t300.000000\tF\n",
            i % 1_000_000, (i / 256) % 256, i % 256, 1024 + i % 60000, i % 65536, i % 9973, i % 97,
            (i * 7) % 223 + 1, (i / 3) % 256, (i / 5) % 256, i % 256
        ));
    });
    write_generated(&squid, size, |i, out| {
        out.push_str(&format!(
            "1776861362.{:03}   1350 10.0.{}.{} TCP_MISS/200 48211 GET http://host{}.example{}.com/path/{i}?q=1 - HIER_DIRECT/{}.{}.{}.{} text/html\n",
            i % 1000, (i / 256) % 256, i % 256, i % 9973, i % 97, (i * 7) % 223 + 1, (i / 3) % 256, (i / 5) % 256, i % 256
        ));
    });
    let text = dir.join("app.log");
    write_generated(&text, size, |i, out| {
        out.push_str(&format!(
            "2026-04-22T12:{:02}:{:02}.{i:07}Z worker-{} fetched https://host{}.example{}.com/api/v1/items?id={i} from 10.1.{}.{} in {}ms (status=200, bytes={})\n",
            (i / 60) % 60, i % 60, i % 16, i % 9973, i % 97, (i / 256) % 256, i % 256, i % 1000, i * 7 % 100_000
        ));
    });
    let small = kics();
    let mut many: Vec<Indicator> = (0..10_000)
        .map(|i| {
            ind(
                NetworkKind::Domain,
                &format!("bad{i}.example{i}.net"),
                false,
            )
        })
        .collect();
    many.extend((0..1_000).map(|i| {
        ind(
            NetworkKind::Ip,
            &format!("203.0.{}.{}", i / 256, i % 256),
            false,
        )
    }));
    let lines: Vec<&str> = many.iter().map(|i| i.value.as_str()).collect();
    std::fs::write(dir.join("many.txt"), lines.join("\n")).unwrap();
    let lines: Vec<&str> = small.all().iter().map(|i| i.value.as_str()).collect();
    std::fs::write(dir.join("small.txt"), lines.join("\n")).unwrap();
    let many = Arc::new(IndicatorSet::new(many));
    let gz = dir.join("dns.log.gz");
    if !gz.exists() {
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        std::io::copy(&mut std::fs::File::open(&zeek).unwrap(), &mut e).unwrap();
        e.finish().unwrap();
    }
    // Decompression alone, for comparison with the gzip runs.
    let start = std::time::Instant::now();
    let cpu_start = cpu_seconds();
    let n = std::io::copy(&mut crate::input::open(&gz).unwrap(), &mut std::io::sink()).unwrap();
    println!(
        "gunzip alone: {:.0} MB/s wall, {:.0} MB/s per CPU second",
        n as f64 / start.elapsed().as_secs_f64() / 1e6,
        n as f64 / (cpu_seconds() - cpu_start).max(0.01) / 1e6
    );
    for (name, path) in [
        ("zeek dns.log", &zeek),
        ("squid native", &squid),
        ("zeek dns.log.gz", &gz),
        ("plain text", &text),
    ] {
        for (set_name, set) in [("small set", &small), ("10k domains + 1k IPs", &many)] {
            // TW_NET_BENCH_SET=small|10k runs one set only (for a profiler).
            if std::env::var("TW_NET_BENCH_SET").is_ok_and(|only| !set_name.contains(&only)) {
                continue;
            }
            for threads in [1, 2] {
                // Best of three: the machine is shared.
                let mut secs = f64::MAX;
                let mut cpu = f64::MAX;
                let mut last = None;
                for _ in 0..3 {
                    let sink = Collect::default();
                    let start = std::time::Instant::now();
                    let cpu_start = cpu_seconds();
                    let stats = NetworkLogs::new(vec![path.clone()], set.clone(), threads)
                        .collect(&sink)
                        .unwrap();
                    secs = secs.min(start.elapsed().as_secs_f64());
                    cpu = cpu.min(cpu_seconds() - cpu_start);
                    last = Some((stats, sink));
                }
                let (stats, sink) = last.unwrap();
                let (ev, p) = sink.into_parts();
                println!(
                    "{name}, {set_name}, 1 file, {threads} thread(s): {:.0} MB/s wall, {:.0} MB/s per CPU second ({} lines, {} evidence, {} problems)",
                    stats.bytes as f64 / secs / 1e6,
                    stats.bytes as f64 / cpu.max(0.01) / 1e6,
                    stats.records,
                    ev.len(),
                    p.len()
                );
            }
        }
    }
}

/// User + system time of this process (all threads, finished ones included), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted after the command name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

fn write_generated(path: &Path, size: usize, mut line: impl FnMut(usize, &mut String)) {
    if std::fs::metadata(path).is_ok_and(|m| m.len() as usize >= size) {
        return;
    }
    let mut out = String::with_capacity(size + 1024);
    let mut i = 0;
    while out.len() < size {
        line(i, &mut out);
        i += 1;
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn crlf_invalid_utf8_and_endless_lines() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"x\xff\xfe audit.checkmarx.cx\r\n");
    // Longer than the read buffer: searched whole in pieces, counted as one line.
    bytes.extend_from_slice(b"94.154.172.43 ");
    bytes.extend(std::iter::repeat_n(b'a', 5 << 20));
    bytes.extend_from_slice(b" audit.checkmarx.cx\n");
    bytes.extend_from_slice(b"last audit.checkmarx.cx\r\n");
    let (ev, p) = run_bytes("mixed.log", &bytes);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        summary(&ev).iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        [(1, "domain"), (2, "domain"), (2, "ip"), (3, "domain")]
    );
    assert!(!ev[0].excerpt.as_deref().unwrap().ends_with('\r'));
    assert!(ev[1].excerpt.as_deref().unwrap().len() <= crate::EXCERPT_MAX + 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, &bytes).unwrap();
    let (_, notes) = notes_of(&path, kics());
    assert!(
        notes.iter().any(|n| n
            .message
            .contains("1 line(s) longer than 256 KiB (the first: line 2)")),
        "{notes:?}"
    );
}
