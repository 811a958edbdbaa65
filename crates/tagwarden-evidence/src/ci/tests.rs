use crate::recognise::Readers;
use std::io::Write;

use super::*;
use crate::{Collect, Evidence, ImageAction, Observed};

const KICS_LATEST: &str = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";

fn d(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn run(paths: Vec<PathBuf>) -> (Vec<Evidence>, Vec<Problem>, SourceStats) {
    let sink = Collect::default();
    // A source that could read nothing says why in its error: counted with the problems.
    let (stats, failed) = match CiLogs::new(paths, Readers::default()).collect(&sink) {
        Ok(stats) => (stats, None),
        Err(p) => (SourceStats::default(), Some(p)),
    };
    let (e, mut p) = sink.into_parts();
    p.extend(failed);
    (e, p, stats)
}

fn one_file(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    (dir, path)
}

fn scan_str(name: &str, content: &str) -> (Vec<Evidence>, Vec<Problem>) {
    let (_dir, path) = one_file(name, content.as_bytes());
    let (e, p, _) = run(vec![path]);
    (e, p)
}

fn image(e: &Evidence) -> (ImageAction, Option<&str>, Option<String>) {
    match &e.observed {
        Observed::Image {
            action,
            reference,
            digest,
        } => (
            *action,
            reference.as_deref(),
            digest.as_ref().map(|d| d.to_string()),
        ),
        other => panic!("not an image: {other:?}"),
    }
}

const SUPER_LINTER: &str = "\u{feff}2021-12-03T08:01:20.9615234Z Download action repository 'github/super-linter@v4' (SHA:563be7dc5568017515b9e700329e9c6d3862f2b7)
2021-12-03T08:01:21.7756859Z ##[group]Pull down action image 'ghcr.io/github/super-linter:slim-v4'
2021-12-03T08:01:21.7804879Z ##[command]/usr/bin/docker pull ghcr.io/github/super-linter:slim-v4
2021-12-03T08:01:22.9627383Z slim-v4: Pulling from github/super-linter
2021-12-03T08:02:21.4745663Z Digest: sha256:f1cc4d33f7a6f14e289591a86e389ef0cef681097e3d78d6b8001ec6162ac33f
2021-12-03T08:02:21.4760952Z Status: Downloaded newer image for ghcr.io/github/super-linter:slim-v4
2021-12-03T08:02:21.4788536Z ghcr.io/github/super-linter:slim-v4
2021-12-03T08:02:21.4799581Z ##[endgroup]
";

#[test]
fn github_super_linter_excerpt() {
    let (e, p) = scan_str("lint.txt", SUPER_LINTER);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(e[0].source, SourceKind::GithubActionsLog);
    assert_eq!(
        e[0].observed,
        Observed::Action {
            repository: "github/super-linter".into(),
            git_ref: "v4".into(),
            sha: Some("563be7dc5568017515b9e700329e9c6d3862f2b7".into()),
        }
    );
    assert_eq!(e[0].line, Some(1));
    assert_eq!(
        e[0].timestamp.unwrap().to_string(),
        "2021-12-03T08:01:20.9615234Z"
    );
    let (action, reference, digest) = image(&e[1]);
    assert_eq!(action, ImageAction::Pulled);
    assert_eq!(reference, Some("ghcr.io/github/super-linter:slim-v4"));
    assert_eq!(
        digest.as_deref(),
        Some("sha256:f1cc4d33f7a6f14e289591a86e389ef0cef681097e3d78d6b8001ec6162ac33f")
    );
    assert_eq!(e[1].line, Some(5));
    assert_eq!(
        e[1].timestamp.unwrap().to_string(),
        "2021-12-03T08:02:21.4745663Z"
    );
    assert_eq!(e[1].job.as_deref(), Some("lint"));
    assert!(
        e[1].excerpt
            .as_deref()
            .unwrap()
            .contains("Digest: sha256:f1cc")
    );
}

#[test]
fn github_synthetic_kics() {
    let log = format!(
        "2026-04-22T12:39:58.0000001Z Runner name: 'self-hosted-7'
2026-04-22T12:39:58.0000002Z Machine name: 'build-host-7'
2026-04-22T12:39:59.0000000Z Complete job name: scan (kics)
2026-04-22T12:40:05.1234567Z ##[group]Pull down action image 'checkmarx/kics:latest'
2026-04-22T12:40:05.1290021Z ##[command]/usr/bin/docker pull checkmarx/kics:latest
2026-04-22T12:40:09.4745663Z Digest: {KICS_LATEST}
2026-04-22T12:40:09.4760952Z Status: Downloaded newer image for checkmarx/kics:latest
"
    );
    let (e, _) = scan_str("job.log", &log);
    assert_eq!(e.len(), 1, "{e:#?}");
    let (_, reference, digest) = image(&e[0]);
    assert_eq!(reference, Some("checkmarx/kics:latest"));
    assert_eq!(digest.as_deref(), Some(KICS_LATEST));
    assert_eq!(e[0].host.as_deref(), Some("build-host-7"));
    assert_eq!(e[0].job.as_deref(), Some("scan (kics)"));
    let ts = e[0].timestamp.unwrap();
    assert_eq!(ts.to_string(), "2026-04-22T12:40:09.4745663Z");
    assert_eq!(ts.as_second(), 1776861609);
}

#[test]
fn immutable_action_digest_is_not_an_image() {
    let log = "2025-07-26T08:25:55.6454881Z ##[group]Download immutable action package 'actions/checkout@v4'
2025-07-26T08:25:55.6456174Z Version: 4.2.2
2025-07-26T08:25:55.6457155Z Digest: sha256:ccb2698953eaebd21c7bf6268a94f9c26518a7e38e27e0b83c1fe1ad049819b1
2025-07-26T08:25:55.6458309Z Source commit SHA: 11bd71901bbe5b1630ceea73d27597364c9af683
2025-07-26T08:25:55.6459114Z ##[endgroup]
2025-07-26T08:25:55.7266510Z Download action repository 'subosito/flutter-action@v2' (SHA:e938fdf56512cc96ef2f93601a5a40bde3801046)
";
    let (e, _) = scan_str("0_test.txt", log);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(
        e[0].observed,
        Observed::Action {
            repository: "actions/checkout".into(),
            git_ref: "v4".into(),
            sha: Some("11bd71901bbe5b1630ceea73d27597364c9af683".into()),
        }
    );
    assert_eq!(e[0].job.as_deref(), Some("test"));
    assert!(matches!(e[1].observed, Observed::Action { .. }));
}

#[test]
fn docker_run_output_and_image_ids() {
    let log = format!(
        "+ docker run --rm checkmarx/kics:latest scan -p .
Unable to find image 'checkmarx/kics:latest' locally
latest: Pulling from checkmarx/kics
4abcf2066143: Pull complete
Digest: {KICS_LATEST}
Status: Downloaded newer image for checkmarx/kics:latest
+ docker images
REPOSITORY       TAG       IMAGE ID       CREATED        SIZE
checkmarx/kics   latest    0123456789ab   2 hours ago    150MB
+ docker inspect --format '{{{{.Id}}}}' checkmarx/kics
{}
",
        d('c')
    );
    let (e, _) = scan_str("output.txt", &log);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].source, SourceKind::DockerPullLog);
    let (_, reference, digest) = image(&e[0]);
    assert_eq!(reference, Some("checkmarx/kics:latest"));
    assert_eq!(digest.as_deref(), Some(KICS_LATEST));
    assert_eq!(e[0].line, Some(5));
    assert_eq!(e[0].timestamp, None);
    assert_eq!(e[0].job, None);
}

#[test]
fn pulls_without_a_command_and_up_to_date() {
    let log = format!(
        "Step 1/3 : FROM alpine:3.19
3.19: Pulling from library/alpine
Digest: {}
Status: Image is up to date for alpine:3.19
docker pull quay.io/org/tool:1
Error response from daemon: manifest unknown
docker pull quay.io/org/other:2
2: Pulling from org/other
",
        d('a')
    );
    let (e, _) = scan_str("build.log", &log);
    let got: Vec<_> = e.iter().map(image).collect();
    assert_eq!(
        got,
        [
            (ImageAction::Pulled, Some("alpine:3.19"), Some(d('a'))),
            // Cut before its digest: still a pull of that tag.
            (ImageAction::Pulled, Some("quay.io/org/other:2"), None),
        ]
    );
}

#[test]
fn gitlab_trace() {
    let log = format!(
        "\u{1b}[0KRunning with gitlab-runner 16.11.0 (abc123)\u{1b}[0;m
\u{1b}[0K  on my-runner Zx9aBc1D, system ID: s_0123\u{1b}[0;m
section_start:1776861361:prepare_executor\r\u{1b}[0K\u{1b}[0K\u{1b}[36;1mPreparing the \"docker\" executor\u{1b}[0;m
\u{1b}[0KUsing Docker executor with image checkmarx/kics:latest ...\u{1b}[0;m
\u{1b}[0KStarting service postgres:16 ...\u{1b}[0;m
\u{1b}[0KPulling docker image postgres:16 ...\u{1b}[0;m
\u{1b}[0KUsing docker image {id1} for postgres:16 with digest postgres@{pg} ...\u{1b}[0;m
\u{1b}[0KPulling docker image checkmarx/kics:latest ...\u{1b}[0;m
\u{1b}[0KUsing docker image {id2} for checkmarx/kics:latest with digest checkmarx/kics@{KICS_LATEST} ...\u{1b}[0;m
section_end:1776861365:prepare_executor\r\u{1b}[0K
section_start:1776861365:prepare_script\r\u{1b}[0K\u{1b}[0K\u{1b}[36;1mPreparing environment\u{1b}[0;m
Running on runner-zx9abc1d-project-42-concurrent-0 via ci-host-3...
section_start:1776861370:step_script\r\u{1b}[0K
\u{1b}[0KUsing docker image {id2} for alpine:latest ...\u{1b}[0;m
",
        id1 = d('1'),
        id2 = d('2'),
        pg = d('b'),
    );
    let (e, _) = scan_str("job-1234.log", &log);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e.iter().all(|e| e.source == SourceKind::GitlabRunnerLog));
    let got: Vec<_> = e.iter().map(image).collect();
    assert_eq!(
        got,
        [
            (ImageAction::Pulled, Some("postgres:16"), Some(d('b'))),
            (
                ImageAction::Pulled,
                Some("checkmarx/kics:latest"),
                Some(KICS_LATEST.into())
            ),
            // Old runners print only the image ID: no digest, never the ID.
            (ImageAction::Pulled, Some("alpine:latest"), None),
        ]
    );
    assert_eq!(e[1].timestamp.unwrap().as_second(), 1776861361);
    let excerpt = e[1].excerpt.as_deref().unwrap();
    assert!(
        excerpt.starts_with("Using docker image sha256:2222"),
        "{excerpt:?}"
    );
    assert_eq!(e[1].job.as_deref(), Some("job-1234"));
    assert_eq!(e[1].host, None);
    assert_eq!(e[2].timestamp.unwrap().as_second(), 1776861370);
    assert_eq!(e[2].host.as_deref(), Some("ci-host-3"));
}

#[test]
fn gitlab_timestamped_trace() {
    let log = format!(
        "2026-04-22T12:40:01.123456Z 00O Running with gitlab-runner 17.2.0 (abc123)
2026-04-22T12:40:02.000000Z 00O section_start:1776861602:prepare_executor\r\u{1b}[0K\u{1b}[0K\u{1b}[36;1mPreparing the \"docker\" executor\u{1b}[0;m
2026-04-22T12:40:03.500000Z 00O Using docker image {} for checkmarx/kics:latest with digest checkmarx/kics@{KICS_LATEST} ...
",
        d('2')
    );
    let (e, _) = scan_str("trace.txt", &log);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].source, SourceKind::GitlabRunnerLog);
    assert_eq!(
        e[0].timestamp.unwrap().to_string(),
        "2026-04-22T12:40:03.5Z"
    );
}

#[test]
fn jenkins_console() {
    let log = format!(
        "Started by user admin
[Pipeline] Start of Pipeline
[Pipeline] node
Running on agent-7 in /home/jenkins/workspace/security-scan
[Pipeline] {{
[Pipeline] sh
[2026-04-22T12:45:00.000Z] + docker pull checkmarx/kics:latest
[2026-04-22T12:45:01.000Z] latest: Pulling from checkmarx/kics
[2026-04-22T12:45:03.000Z] Digest: {KICS_LATEST}
[2026-04-22T12:45:03.100Z] Status: Downloaded newer image for checkmarx/kics:latest
[2026-04-22T12:45:03.200Z] docker.io/checkmarx/kics:latest
"
    );
    let (e, _) = scan_str("console.txt", &log);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].source, SourceKind::JenkinsLog);
    assert_eq!(e[0].host.as_deref(), Some("agent-7"));
    assert_eq!(e[0].job.as_deref(), Some("security-scan"));
    assert_eq!(e[0].timestamp.unwrap().to_string(), "2026-04-22T12:45:03Z");
    assert_eq!(image(&e[0]).2.as_deref(), Some(KICS_LATEST));
}

#[test]
fn buildkit_tty_and_plain() {
    let a = d('a');
    let tty = format!(
        "[+] Building 1.2s (5/5) FINISHED
 => [internal] load metadata for docker.io/library/alpine:latest        0.5s
 => [1/2] FROM docker.io/library/alpine:latest@{a}  0.1s
 => => resolve docker.io/library/alpine:latest@{a}  0.0s
 => [1/2] FROM docker.io/library/alpine:latest@{a}  0.2s
"
    );
    let (e, _) = scan_str("tty.log", &tty);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].source, SourceKind::BuildkitLog);
    assert_eq!(
        image(&e[0]),
        (
            ImageAction::Pulled,
            Some(format!("docker.io/library/alpine:latest@{a}").as_str()),
            Some(a.clone())
        )
    );
    let plain = format!(
        "#3 [internal] load metadata for docker.io/checkmarx/kics:latest
#4 [1/2] FROM docker.io/checkmarx/kics:latest@{KICS_LATEST}
#4 resolve docker.io/checkmarx/kics:latest@{KICS_LATEST} 0.0s done
#4 sha256:{} 3.4MB / 3.4MB 0.2s done
",
        "c".repeat(64)
    );
    let (e, _) = scan_str("plain.log", &plain);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(image(&e[0]).2.as_deref(), Some(KICS_LATEST));
}

#[test]
fn generic_digest_tokens_and_docker_events() {
    let log = format!(
        "2026-04-22T12:41:00.123456789Z image pull checkmarx/kics:latest (name=checkmarx/kics)
docker run --rm docker.io/checkmarx/kics@{KICS_LATEST} version
kubectl set image deploy/x app=registry.example.com/app@{}
the commit abc@sha256:short is nothing
",
        d('e')
    );
    let (e, _) = scan_str("misc.log", &log);
    let got: Vec<_> = e.iter().map(image).collect();
    let kics = format!("docker.io/checkmarx/kics@{KICS_LATEST}");
    let app = format!("registry.example.com/app@{}", d('e'));
    assert_eq!(
        got,
        [
            (ImageAction::Pulled, Some("checkmarx/kics:latest"), None),
            (
                ImageAction::ContainerCreated,
                Some(kics.as_str()),
                Some(KICS_LATEST.into())
            ),
            (ImageAction::Referenced, Some(app.as_str()), Some(d('e'))),
        ]
    );
    assert_eq!(
        e[0].timestamp.unwrap().to_string(),
        "2026-04-22T12:41:00.123456789Z"
    );
}

fn job_log(job: &str, digest: &str) -> String {
    format!(
        "2026-04-22T12:40:00.0000000Z Complete job name: {job}
2026-04-22T12:40:05.1290021Z ##[command]/usr/bin/docker pull checkmarx/kics:latest
2026-04-22T12:40:09.4745663Z Digest: {digest}
2026-04-22T12:40:09.4760952Z Status: Downloaded newer image for checkmarx/kics:latest
"
    )
}

#[test]
fn github_run_zip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    // Whole-job logs, and one job's step folder (the same lines again: read once).
    for (name, body) in [
        ("1_scan.txt", job_log("scan", KICS_LATEST)),
        ("scan/1_Set up job.txt", job_log("scan", KICS_LATEST)),
        ("2_build.txt", job_log("build", &d('b'))),
        (
            "lint/2_Pull.txt",
            "2026-04-22T13:00:00.0000000Z ##[command]/usr/bin/docker pull alpine\n".into(),
        ),
        (
            "lint/1_Set up job.txt",
            "2026-04-22T12:59:00.0000000Z Machine name: 'lint-host'\n".into(),
        ),
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    let (e, p, stats) = run(vec![dir.path().to_path_buf()]);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(stats.files, 1);
    assert_eq!(e.len(), 3, "{e:#?}");
    let loc = path.display().to_string();
    assert_eq!(e[0].location, format!("{loc}!1_scan.txt"));
    assert_eq!(e[0].job.as_deref(), Some("scan"));
    assert_eq!(image(&e[0]).2.as_deref(), Some(KICS_LATEST));
    assert_eq!(e[1].location, format!("{loc}!2_build.txt"));
    assert_eq!(e[1].job.as_deref(), Some("build"));
    assert_eq!(image(&e[1]).2, Some(d('b')));
    // Step files: read in step order, the machine name carried from step 1 to step 2.
    assert_eq!(e[2].location, format!("{loc}!lint/2_Pull.txt"));
    assert_eq!(e[2].job.as_deref(), Some("lint"));
    assert_eq!(e[2].host.as_deref(), Some("lint-host"));
    assert_eq!(image(&e[2]).1, Some("alpine"));
}

#[test]
fn corrupt_zip_is_a_problem() {
    let (_dir, path) = one_file("run.zip", b"PK\x03\x04 this is not really a zip");
    let (e, p, _) = run(vec![path]);
    assert!(e.is_empty());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].source, SourceKind::GithubActionsLog);
}

#[test]
fn gzip_zstd_and_truncated_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let log = job_log("scan", KICS_LATEST);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(log.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(dir.path().join("a.log.gz"), &gz).unwrap();
    std::fs::write(
        dir.path().join("b.log.zst"),
        zstd::encode_all(log.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    let (e, p, stats) = run(vec![dir.path().to_path_buf()]);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(e.len(), 2);
    assert_eq!(stats.files, 2);
    assert!(e.iter().all(|e| image(e).2.as_deref() == Some(KICS_LATEST)));

    // Cut a gzip of many lines in the middle: the lines before the cut are kept.
    let mut big = String::new();
    for i in 0..2000 {
        big.push_str(&format!("docker pull example.com/img{i}:1\n"));
    }
    big.push_str(&log);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(big.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let (_d2, cut) = one_file("cut.log.gz", gz.get(..gz.len() / 2).unwrap());
    let (e, p, _) = run(vec![cut.clone()]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].location, cut.display().to_string());
    assert!(p[0].message.contains("truncated"), "{}", p[0].message);
    assert!(!e.is_empty());
}

#[test]
fn unreadable_paths_and_hostile_input() {
    let (e, p, _) = run(vec![PathBuf::from("/nonexistent/tagwarden/logs")]);
    assert!(e.is_empty());
    assert_eq!(p.len(), 1);
    // Binary noise, a long line, stray escapes: no panic, nothing invented.
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    junk.extend(b"\n\x1b[\x1b]\nDigest: sha256:\n".iter());
    junk.extend(std::iter::repeat_n(b'@', 3 << 20));
    let (_dir, path) = one_file("junk.bin", &junk);
    let (e, _, _) = run(vec![path]);
    assert!(e.is_empty(), "{e:#?}");
}

#[test]
fn format_detection() {
    assert_eq!(
        detect(&["2021-12-03T08:01:20.9615234Z x"]),
        LogFormat::GithubActions
    );
    assert_eq!(
        detect(&["2026-05-08T09:28:43.725057Z 00O Running with gitlab-runner 18.11.1"]),
        LogFormat::Gitlab
    );
    assert_eq!(
        detect(&["Running with gitlab-runner 16.11.0 (abc)"]),
        LogFormat::Gitlab
    );
    assert_eq!(
        detect(&["Started by user admin", "[Pipeline] Start of Pipeline"]),
        LogFormat::Jenkins
    );
    assert_eq!(detect(&["latest: Pulling from a/b"]), LogFormat::Plain);
    assert_eq!(detect(&[]), LogFormat::Plain);
}

#[test]
fn dockerfile_action_build_and_pull_by_digest() {
    // A Dockerfile-based action (`FROM checkmarx/kics:v2.1.20`) built by the runner.
    let pinned = format!("alpine@{}", d('a'));
    let log = format!(
        "2026-04-22T12:40:00.0000000Z Build container for action use: '/home/runner/work/_actions/Checkmarx/kics-github-action/v2.1.20/Dockerfile'.
2026-04-22T12:40:00.1000000Z ##[command]/usr/bin/docker build -t 2d9a1e:abc -f \"/home/runner/work/_actions/Checkmarx/kics-github-action/v2.1.20/Dockerfile\" \"/home/runner/work/_actions/Checkmarx/kics-github-action/v2.1.20\"
2026-04-22T12:40:00.2000000Z Step 1/4 : FROM checkmarx/kics:v2.1.20
2026-04-22T12:40:01.0000000Z v2.1.20: Pulling from checkmarx/kics
2026-04-22T12:40:02.0000000Z Digest: {}
2026-04-22T12:40:02.1000000Z Status: Downloaded newer image for checkmarx/kics:v2.1.20
2026-04-22T12:40:03.0000000Z ##[command]/usr/bin/docker pull {pinned}
",
        d('b')
    );
    let (e, _) = scan_str("1_scan.txt", &log);
    let got: Vec<_> = e.iter().map(image).collect();
    assert_eq!(
        got,
        [
            (
                ImageAction::Pulled,
                Some("checkmarx/kics:v2.1.20"),
                Some(d('b'))
            ),
            // Cut after the command: a pull by digest still names what it fetched.
            (ImageAction::Pulled, Some(pinned.as_str()), Some(d('a'))),
        ]
    );
    assert_eq!(e[0].job.as_deref(), Some("scan"));
}

#[test]
fn gitlab_kubernetes_executor() {
    let log = "Running with gitlab-runner 17.0.0 (abc)\nUsing Kubernetes executor with image checkmarx/kics:latest ...\n";
    let (e, _) = scan_str("k8s.log", log);
    assert_eq!(e.len(), 1);
    assert_eq!(
        image(&e[0]),
        (ImageAction::Pulled, Some("checkmarx/kics:latest"), None)
    );
}

#[test]
fn hostile_digest_tokens_stay_linear() {
    let token = format!("x@{}", d('f'));
    let line = token.repeat((1 << 20) / token.len());
    let log = format!("docker {line}\n");
    let (e, _) = tagwarden_testbed::assert_linear("digest tokens", log.len(), || {
        scan_str("hostile.log", &log)
    });
    assert!(e.len() <= 64);
}

#[test]
fn unzipped_run_folder_reads_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs_123");
    std::fs::create_dir_all(root.join("scan")).unwrap();
    std::fs::write(root.join("0_scan.txt"), job_log("scan", KICS_LATEST)).unwrap();
    std::fs::write(root.join("scan/3_Pull.txt"), job_log("scan", KICS_LATEST)).unwrap();
    let (e, p, stats) = run(vec![root.clone()]);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(stats.files, 1);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].job.as_deref(), Some("scan"));
    assert_eq!(e[0].location, root.join("0_scan.txt").display().to_string());
}

#[test]
fn podman_pull_by_tag_has_no_digest() {
    let log = format!(
        "$ podman pull checkmarx/kics:latest
Trying to pull docker.io/checkmarx/kics:latest...
Getting image source signatures
Copying blob {}
Copying config {}
Writing manifest to image destination
{}
",
        d('1'),
        d('2'),
        "2".repeat(64)
    );
    let (e, _) = scan_str("podman.log", &log);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(
        image(&e[0]),
        (ImageAction::Pulled, Some("checkmarx/kics:latest"), None)
    );
}

#[test]
fn script_echo_then_output() {
    // GitHub shows a `run:` script before its output: both pulls are pending when the first
    // one's output arrives.
    let log = format!(
        "2026-04-22T12:40:00.0000000Z ##[group]Run docker pull checkmarx/kics:latest
2026-04-22T12:40:00.0000001Z docker pull checkmarx/kics:latest
2026-04-22T12:40:00.0000002Z docker pull alpine:3.19
2026-04-22T12:40:00.0000003Z shell: /usr/bin/bash -e {{0}}
2026-04-22T12:40:00.0000004Z ##[endgroup]
2026-04-22T12:40:01.0000000Z latest: Pulling from checkmarx/kics
2026-04-22T12:40:02.0000000Z Digest: {KICS_LATEST}
2026-04-22T12:40:02.1000000Z Status: Downloaded newer image for checkmarx/kics:latest
2026-04-22T12:40:02.2000000Z docker.io/checkmarx/kics:latest
2026-04-22T12:40:03.0000000Z 3.19: Pulling from library/alpine
2026-04-22T12:40:04.0000000Z Digest: {}
2026-04-22T12:40:04.1000000Z Status: Downloaded newer image for alpine:3.19
",
        d('a')
    );
    let (e, _) = scan_str("job.txt", &log);
    let got: Vec<_> = e.iter().map(image).collect();
    assert_eq!(
        got,
        [
            (
                ImageAction::Pulled,
                Some("checkmarx/kics:latest"),
                Some(KICS_LATEST.into())
            ),
            (ImageAction::Pulled, Some("alpine:3.19"), Some(d('a'))),
        ]
    );
    assert_eq!(e[0].line, Some(7));
    assert_eq!(e[1].line, Some(11));
}

#[test]
fn engine_progress_stream() {
    let log = format!(
        r#"{{"status":"Pulling from checkmarx/kics","id":"latest"}}
{{"status":"Pull complete","progressDetail":{{}},"id":"4abcf2066143"}}
{{"status":"Digest: {KICS_LATEST}"}}
{{"status":"Status: Downloaded newer image for checkmarx/kics:latest"}}
"#
    );
    let nested = r#"{"status":"{\"status\":\"{}\"}"}"#;
    let (e, _) = scan_str("api.log", &format!("{nested}\n{log}"));
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(
        image(&e[0]),
        (
            ImageAction::Pulled,
            Some("checkmarx/kics:latest"),
            Some(KICS_LATEST.into())
        )
    );
}

#[test]
fn gitlab_lines_in_a_cut_trace_and_kubelet_pulls() {
    let log = format!(
        "Using docker image {} for checkmarx/kics:latest with digest checkmarx/kics@{KICS_LATEST} ...
Normal  Pulled  kubelet  Successfully pulled image \"docker.io/checkmarx/kics@{KICS_LATEST}\" in 2.1s
",
        d('2')
    );
    let (e, _) = scan_str("cut.log", &log);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(e[0].source, SourceKind::GitlabRunnerLog);
    assert_eq!(image(&e[0]).2.as_deref(), Some(KICS_LATEST));
    assert_eq!(e[1].source, SourceKind::DockerPullLog);
    assert_eq!(image(&e[1]).0, ImageAction::Pulled);
}

#[test]
fn gitlab_trace_copied_from_the_web_page() {
    // Copied from the job page: trailing spaces and blank lines between lines.
    let log = format!(
        "Running with gitlab-runner 14.4.0-rc1 (bc99a056) \n\n  on docker-auto-scale 0277ea0f \n\n\
         Using docker image {} for registry.gitlab.com/group/image/main with digest registry.gitlab.com/group/image/main@{} ... \n\n\
         Running on runner-0277ea0f-project-1-concurrent-0 via runner-0277ea0f-srm-1634747445-342b7923... \n\n\
         Using docker image {} for registry.gitlab.com/group/image/main with digest registry.gitlab.com/group/image/main@{} ... \n",
        d('1'),
        d('9'),
        d('1'),
        d('9')
    );
    let (e, _) = scan_str("trace.txt", &log);
    assert_eq!(e.len(), 2);
    assert_eq!(image(&e[0]).1, Some("registry.gitlab.com/group/image/main"));
    assert_eq!(image(&e[0]).2, Some(d('9')));
    assert_eq!(e[0].host, None);
    assert_eq!(
        e[1].host.as_deref(),
        Some("runner-0277ea0f-srm-1634747445-342b7923")
    );
}

#[test]
fn gh_run_view_log_output() {
    // `gh run view --log`: every job of the run in one file, each line naming job and step.
    let log = format!(
        "backend\tSet up job\t2025-09-23T10:02:49.1300561Z Current runner version: '2.328.0'
backend\tSet up job\t2025-09-23T10:02:49.5010038Z Download action repository 'actions/checkout@v4' (SHA:08eba0b27e820071cde6df949e0beb9ba4906955)
backend\tSet up job\t2025-09-23T10:02:50.0327270Z Complete job name: backend
backend\tInitialize containers\t2025-09-23T10:02:50.2732770Z ##[command]/usr/bin/docker pull postgres:15
backend\tInitialize containers\t2025-09-23T10:02:50.7773426Z 15: Pulling from library/postgres
backend\tInitialize containers\t2025-09-23T10:02:50.8973779Z ce1261c6d567: Pulling fs layer
frontend\tInitialize containers\t2025-09-23T10:03:00.0000000Z ##[command]/usr/bin/docker pull redis:7
frontend\tInitialize containers\t2025-09-23T10:03:01.0000000Z 7: Pulling from library/redis
frontend\tInitialize containers\t2025-09-23T10:03:02.0000000Z Digest: {}
frontend\tInitialize containers\t2025-09-23T10:03:02.1000000Z Status: Downloaded newer image for redis:7
frontend\tBuild\t2025-09-23T10:05:01.2703512Z
",
        d('7')
    );
    let (e, _) = scan_str("run.log", &log);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e.iter().all(|e| e.source == SourceKind::GithubActionsLog));
    assert!(matches!(e[0].observed, Observed::Action { .. }));
    assert_eq!(e[0].job.as_deref(), Some("backend"));
    // The backend pull was cut by the next job: reported without a digest, never frontend's.
    assert_eq!(
        image(&e[1]),
        (ImageAction::Pulled, Some("postgres:15"), None)
    );
    assert_eq!(e[1].job.as_deref(), Some("backend"));
    assert_eq!(
        image(&e[2]),
        (ImageAction::Pulled, Some("redis:7"), Some(d('7')))
    );
    assert_eq!(e[2].job.as_deref(), Some("frontend"));
    assert_eq!(e[2].timestamp.unwrap().to_string(), "2025-09-23T10:03:02Z");
}

#[test]
fn damaged_zip_entry_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.zip");
    let mut body = job_log("scan", KICS_LATEST);
    for i in 0..20_000 {
        body.push_str(&format!(
            "2026-04-22T12:41:00.0000000Z output line {i} {}\n",
            i * 7919
        ));
    }
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("1_scan.txt", opts).unwrap();
    w.write_all(body.as_bytes()).unwrap();
    w.finish().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    for b in bytes.iter_mut().skip(mid).take(64) {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let (e, p, _) = run(vec![path]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].location.ends_with("run.zip!1_scan.txt"), "{p:?}");
    // The lines before the damage were read.
    assert_eq!(e.len(), 1);
}

#[test]
fn step_folders_carry_their_machine_within_one_run_only() {
    let dir = tempfile::tempdir().unwrap();
    for (run, host) in [("run1", Some("host-a")), ("run2", None)] {
        let job = dir.path().join(run).join("build");
        std::fs::create_dir_all(&job).unwrap();
        let setup = match host {
            Some(h) => format!("2026-04-22T12:59:00.0000000Z Machine name: '{h}'\n"),
            None => "2026-04-22T12:59:00.0000000Z Current runner version: '2.328.0'\n".into(),
        };
        std::fs::write(job.join("1_Set up job.txt"), setup).unwrap();
        std::fs::write(
            job.join("10_Pull.txt"),
            "2026-04-22T13:00:00.0000000Z ##[command]/usr/bin/docker pull alpine\n",
        )
        .unwrap();
    }
    let (e, p, _) = run(vec![dir.path().to_path_buf()]);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].host.as_deref(), Some("host-a"));
    assert_eq!(e[0].job.as_deref(), Some("build"));
    assert_eq!(e[1].host, None);
}
