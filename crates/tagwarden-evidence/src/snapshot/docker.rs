//! Docker's (and podman's) own listings: `docker inspect` of images or containers (a JSON
//! array), `docker images --digests` as a table or as `--format json` lines, and
//! `docker ps --format json` lines.

use serde_json::Value;
use tagwarden_reference::Digest;

use super::{Builder, Parsed, Seen, parse_time};
use crate::engine::records::{DigestIndex, is_image_id, is_none_placeholder};
use crate::engine::{string, strings};
use crate::{ImageAction, SourceKind};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    Image,
    Container,
}

fn classify(v: &Value) -> Option<Record> {
    let has = |k: &str| v.get(k).is_some();
    if !v.is_object() {
        None
    } else if has("RepoTags") || has("RepoDigests") {
        Some(Record::Image)
    } else if has("Image") && (has("State") || has("Config") || has("Name")) {
        Some(Record::Container)
    } else {
        None
    }
}

pub(super) fn is_inspect(doc: &Value) -> bool {
    doc.as_array()
        .is_some_and(|items| items.iter().all(|i| classify(i).is_some()))
}

/// `Created` as written: RFC 3339 from `docker inspect`, epoch seconds from `podman images
/// --format json`.
fn created_text(v: &Value) -> String {
    match v.get("Created") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(crate::engine::records::from_epoch)
            .map_or_else(|| n.to_string(), |t| t.to_string()),
        _ => "unknown".to_string(),
    }
}

pub(super) fn read_inspect(doc: &Value, out: &mut Builder<'_>) {
    let items: &[Value] = doc.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut index = DigestIndex::default();
    for item in items.iter().filter(|i| classify(i) == Some(Record::Image)) {
        index.insert(string(item, "Id"), &strings(item, "RepoDigests"));
    }
    for item in items {
        match classify(item) {
            Some(Record::Image) => {
                let mut tags = strings(item, "RepoTags");
                // `podman images --format json` leaves RepoTags null and lists the tags as Names.
                if tags.is_empty() {
                    tags = strings(item, "Names");
                }
                out.present(
                    string(item, "Id"),
                    &tags,
                    &strings(item, "RepoDigests"),
                    &created_text(item),
                );
            }
            Some(Record::Container) => container(item, &index, out),
            None => {}
        }
    }
    for (id, more) in index.crowded() {
        out.notes.push(crate::engine::crowded(id, more));
    }
}

/// A container from `docker inspect`, `podman container inspect` or `podman ps --format json`.
fn container(item: &Value, index: &DigestIndex, out: &mut Builder<'_>) {
    out.records += 1;
    // docker inspect: `Image` is the image ID; podman ps: `Image` is the reference, `ImageID` the ID.
    let image_id = [string(item, "ImageID"), string(item, "Image")]
        .into_iter()
        .find(|i| is_image_id(i, i))
        .unwrap_or_default();
    let config_image = item
        .get("Config")
        .map(|c| string(c, "Image"))
        .unwrap_or_default();
    // podman names the reference `ImageName`; docker keeps what was asked for in Config.Image.
    let image = [
        string(item, "ImageName"),
        config_image,
        string(item, "Image"),
    ]
    .into_iter()
    .find(|i| !i.is_empty() && !is_image_id(i, image_id))
    .unwrap_or_default();
    let id = string(item, "Id");
    let mut names = strings(item, "Names");
    if names.is_empty() {
        names.push(string(item, "Name").to_string());
    }
    let names: Vec<&str> = names
        .iter()
        .map(|n| n.trim_start_matches('/'))
        .filter(|n| !n.is_empty())
        .collect();
    let job = if names.is_empty() {
        id.get(..12).unwrap_or(id).to_string()
    } else {
        names.join(",")
    };
    let mut digests: Vec<Digest> = Digest::parse(string(item, "ImageDigest"))
        .into_iter()
        .collect();
    if digests.is_empty() {
        digests = index.container_digests(image, image_id);
    }
    let state = match item.get("State") {
        Some(Value::String(s)) => s.as_str(),
        Some(s) => string(s, "Status"),
        None => "",
    };
    let excerpt = format!(
        "container {job} ({}) image {image} ({image_id}) state {state}",
        id.get(..12).unwrap_or(id)
    );
    let timestamp = match item.get("Created") {
        Some(Value::Number(n)) => n.as_i64().and_then(crate::engine::records::from_epoch),
        Some(Value::String(s)) => parse_time(s),
        _ => None,
    };
    let digests: Vec<Option<Digest>> = if digests.is_empty() {
        vec![None]
    } else {
        digests.into_iter().map(Some).collect()
    };
    for digest in digests {
        out.push(
            ImageAction::ContainerCreated,
            Seen {
                reference: Some(image.to_string()).filter(|i| !i.is_empty()),
                digest,
                timestamp,
                job: Some(job.clone()),
                excerpt: excerpt.clone(),
                ..Seen::default()
            },
        );
    }
}

/// A cell that means "nothing": docker prints `<none>`.
fn cell(s: &str) -> Option<&str> {
    let s = s.trim();
    (!is_none_placeholder(s)).then_some(s)
}

fn digest_cell(s: &str, line: u64, out: &mut Builder<'_>) -> Option<Digest> {
    let s = cell(s)?;
    match Digest::parse(s) {
        Ok(d) => Some(d),
        Err(e) => {
            out.problems
                .push(format!("line {line}: unreadable digest {s:?}: {e:?}"));
            None
        }
    }
}

/// `docker images --format json` / `docker ps --format json`: one object per line. `None`
/// when the first line is not such an object.
pub(super) fn json_lines(location: &str, text: &str) -> Option<Parsed> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (first_n, first) = lines.next()?;
    let first: Value = serde_json::from_str(first).ok()?;
    let is_image = |v: &Value| v.get("Repository").is_some() && v.get("Tag").is_some();
    let is_container = |v: &Value| v.get("Image").is_some() && v.get("Names").is_some();
    if !is_image(&first) && !is_container(&first) {
        return None;
    }
    let mut out = Builder::new(location);
    out.kind = SourceKind::DockerSnapshot;
    let mut line_of = vec![(first_n, first, String::new())];
    for (n, line) in lines {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => line_of.push((n, v, line.to_string())),
            Err(e) => out.problems.push(format!("line {n}: malformed JSON: {e}")),
        }
    }
    for (n, v, raw) in line_of {
        let raw = if raw.is_empty() { v.to_string() } else { raw };
        out.records += 1;
        if is_image(&v) {
            let repository = cell(string(&v, "Repository"));
            let tag = cell(string(&v, "Tag"));
            let digest = digest_cell(string(&v, "Digest"), n, &mut out);
            let Some(repository) = repository else {
                continue;
            };
            let reference = match tag {
                Some(tag) => format!("{repository}:{tag}"),
                None => repository.to_string(),
            };
            out.push(
                ImageAction::Present,
                Seen {
                    reference: Some(reference),
                    digest,
                    line: Some(n),
                    excerpt: raw,
                    ..Seen::default()
                },
            );
        } else if is_container(&v) {
            let image = string(&v, "Image");
            let reference = (!is_image_id(image, "")).then(|| image.to_string());
            let digest = image
                .split_once('@')
                .and_then(|(_, d)| digest_cell(d, n, &mut out));
            out.push(
                ImageAction::ContainerCreated,
                Seen {
                    reference,
                    digest,
                    line: Some(n),
                    timestamp: parse_time(string(&v, "CreatedAt")),
                    job: Some(string(&v, "Names").to_string()).filter(|j| !j.is_empty()),
                    excerpt: raw,
                    ..Seen::default()
                },
            );
        } else {
            out.problems
                .push(format!("line {n}: neither an image nor a container"));
        }
    }
    Some(out.finish())
}

/// Cells of a table row: docker aligns columns with two or more spaces (single spaces occur
/// inside cells such as `IMAGE ID` and `3 weeks ago`); tab-separated rows are accepted too.
fn cells(line: &str) -> Vec<&str> {
    line.split('\t')
        .flat_map(|part| part.split("  "))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// `docker images --digests` (or `podman images --digests`) as printed. `None` when the first
/// line is not its header.
pub(super) fn images_table(location: &str, text: &str) -> Option<Result<Parsed, String>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next()?;
    let header = cells(header);
    let column = |name: &str| header.iter().position(|h| *h == name);
    let (repository_col, tag_col) = (column("REPOSITORY")?, column("TAG")?);
    let digest_col = column("DIGEST");
    let mut out = Builder::new(location);
    out.kind = SourceKind::DockerSnapshot;
    for (n, line) in lines {
        let row = cells(line);
        if row.len() != header.len() {
            out.problems.push(format!(
                "line {n}: expected {} columns ({}), found {}",
                header.len(),
                header.join(", "),
                row.len()
            ));
            continue;
        }
        out.records += 1;
        let at = |i: usize| row.get(i).copied().unwrap_or_default();
        let Some(repository) = cell(at(repository_col)) else {
            continue;
        };
        let reference = match cell(at(tag_col)) {
            Some(tag) => format!("{repository}:{tag}"),
            None => repository.to_string(),
        };
        let digest = digest_col.and_then(|c| digest_cell(at(c), n, &mut out));
        out.push(
            ImageAction::Present,
            Seen {
                reference: Some(reference),
                digest,
                line: Some(n),
                excerpt: line.to_string(),
                ..Seen::default()
            },
        );
    }
    Some(Ok(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::{ImageAction, Observed, SourceKind};
    use tagwarden_reference::Digest;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn rows(parsed: &super::Parsed) -> Vec<(ImageAction, Option<String>, Option<String>)> {
        parsed
            .evidence
            .iter()
            .map(|e| match &e.observed {
                Observed::Image {
                    action,
                    reference,
                    digest,
                } => (
                    *action,
                    reference.clone(),
                    digest.as_ref().map(Digest::to_string),
                ),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn inspect_of_images_and_containers() {
        let id = d('1');
        let text = format!(
            r#"[
  {{"Id": "{id}", "RepoTags": ["checkmarx/kics:latest"],
    "RepoDigests": ["checkmarx/kics@{a}"], "Created": "2026-04-21T08:00:00.5Z"}},
  {{"Id": "{c}", "Created": "2026-04-22T10:00:00.123456789Z", "Name": "/scanner",
    "Image": "{id}", "Config": {{"Image": "checkmarx/kics:latest"}},
    "State": {{"Status": "exited"}}}},
  {{"Id": "{c}", "Created": "2026-04-22T11:00:00+00:00", "Name": "podman-one",
    "Image": "{bare}", "ImageName": "docker.io/checkmarx/kics:latest", "ImageDigest": "{b}",
    "Config": {{"Image": "docker.io/checkmarx/kics:latest"}}, "State": {{"Status": "created"}}}}
]"#,
            a = d('a'),
            b = d('b'),
            c = "f".repeat(64),
            bare = "2".repeat(64)
        );
        let parsed = parse("inspect.json", &text).unwrap();
        assert_eq!(parsed.kind, SourceKind::DockerSnapshot);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(
            rows(&parsed),
            [
                (
                    ImageAction::Present,
                    Some("checkmarx/kics".into()),
                    Some(d('a'))
                ),
                (
                    ImageAction::ContainerCreated,
                    Some("checkmarx/kics:latest".into()),
                    Some(d('a'))
                ),
                (
                    ImageAction::ContainerCreated,
                    Some("docker.io/checkmarx/kics:latest".into()),
                    Some(d('b'))
                ),
            ]
        );
        let e = &parsed.evidence;
        assert_eq!(e[0].timestamp, None);
        assert!(
            e[0].excerpt
                .as_deref()
                .unwrap()
                .contains("2026-04-21T08:00:00.5Z")
        );
        assert_eq!(
            e[1].timestamp.map(|t| t.to_string()).as_deref(),
            Some("2026-04-22T10:00:00.123456789Z")
        );
        assert_eq!(e[1].job.as_deref(), Some("scanner"));
        assert_eq!(e[2].job.as_deref(), Some("podman-one"));
    }

    #[test]
    fn podman_images_json_with_epoch_created() {
        let text = format!(
            r#"[{{"Id": "{}", "RepoTags": null, "RepoDigests": ["quay.io/x/y@{}"], "Created": 1776816000}}]"#,
            "1".repeat(64),
            d('a')
        );
        let parsed = parse("podman-images.json", &text).unwrap();
        assert_eq!(
            rows(&parsed),
            [(
                ImageAction::Present,
                Some("quay.io/x/y".into()),
                Some(d('a'))
            )]
        );
        assert!(
            parsed.evidence[0]
                .excerpt
                .as_deref()
                .unwrap()
                .contains("created 2026-04-22T00:00:00Z")
        );
    }

    #[test]
    fn images_table_with_none_values() {
        let text = format!(
            "REPOSITORY                  TAG       DIGEST                                                                    IMAGE ID       CREATED        SIZE\n\
             checkmarx/kics              latest    {a}   0123456789ab   3 weeks ago    212MB\n\
             checkmarx/kics              <none>    {b}   123456789abc   4 weeks ago    210MB\n\
             localhost/built             dev       <none>                                                                    23456789abcd   About an hour ago   5MB\n\
             <none>                      <none>    <none>                                                                    3456789abcde   2 days ago     1MB\n\
             broken row\n",
            a = d('a'),
            b = d('b')
        );
        let parsed = parse("images.txt", &text).unwrap();
        assert_eq!(parsed.kind, SourceKind::DockerSnapshot);
        assert_eq!(
            rows(&parsed),
            [
                (
                    ImageAction::Present,
                    Some("checkmarx/kics:latest".into()),
                    Some(d('a'))
                ),
                (
                    ImageAction::Present,
                    Some("checkmarx/kics".into()),
                    Some(d('b'))
                ),
                (
                    ImageAction::Present,
                    Some("localhost/built:dev".into()),
                    None
                ),
            ]
        );
        assert_eq!(
            parsed.evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
            [Some(2), Some(3), Some(4)]
        );
        assert_eq!(parsed.problems.len(), 1);
        assert!(parsed.problems[0].starts_with("line 6: expected 6 columns"));
    }

    #[test]
    fn format_json_with_one_line() {
        let text = format!(
            "{{\"Digest\":\"{}\",\"ID\":\"0123456789ab\",\"Repository\":\"checkmarx/kics\",\"Tag\":\"latest\"}}\n",
            d('a')
        );
        let parsed = parse("one.json", &text).unwrap();
        assert_eq!(
            rows(&parsed),
            [(
                ImageAction::Present,
                Some("checkmarx/kics:latest".into()),
                Some(d('a'))
            )]
        );
        assert_eq!(parsed.evidence[0].line, Some(1));
    }

    #[test]
    fn format_json_lines() {
        let text = format!(
            "{{\"Containers\":\"N/A\",\"CreatedAt\":\"2026-04-21 08:00:00 +0000 UTC\",\"Digest\":\"{a}\",\"ID\":\"0123456789ab\",\"Repository\":\"checkmarx/kics\",\"Tag\":\"latest\"}}\n\
             {{\"Digest\":\"<none>\",\"ID\":\"123456789abc\",\"Repository\":\"local/x\",\"Tag\":\"<none>\"}}\n\
             {{\"CreatedAt\":\"2026-04-22 10:00:00 +0000 UTC\",\"ID\":\"abc\",\"Image\":\"checkmarx/kics@{a}\",\"Names\":\"scanner\"}}\n\
             not json\n",
            a = d('a')
        );
        let parsed = parse("images.jsonl", &text).unwrap();
        assert_eq!(
            rows(&parsed),
            [
                (
                    ImageAction::Present,
                    Some("checkmarx/kics:latest".into()),
                    Some(d('a'))
                ),
                (ImageAction::Present, Some("local/x".into()), None),
                (
                    ImageAction::ContainerCreated,
                    Some(format!("checkmarx/kics@{}", d('a'))),
                    Some(d('a'))
                ),
            ]
        );
        assert_eq!(
            parsed.evidence[2]
                .timestamp
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-04-22T10:00:00Z")
        );
        assert_eq!(parsed.evidence[2].line, Some(3));
        assert_eq!(parsed.problems.len(), 1);
        assert!(parsed.problems[0].starts_with("line 4: malformed JSON"));
    }
}
