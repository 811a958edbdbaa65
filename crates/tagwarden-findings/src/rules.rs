//! The built-in rules. Each rule's `help` is its user documentation (what it does, why it
//! matters, an example, how to fix it); SARIF output carries it to GitHub code scanning.

use crate::{Rule, Severity};

/// An image reference pinned to a digest that an advisory lists as malicious.
pub const COMPROMISED_DIGEST: Rule = Rule {
    id: "compromised-digest",
    name: "CompromisedDigest",
    default_severity: Severity::Critical,
    summary: "Image reference pinned to a digest an advisory lists as malicious",
    label: "malicious digest",
    fix: "replace the digest with a known-good one and treat every run of this image as compromised: rotate the secrets it could read",
    help: "\
## What it does

Flags an image reference whose digest is one an advisory lists as malicious: an image index or \
platform manifest that an attacker pushed during a registry compromise, such as the \
`checkmarx/kics` images pushed to Docker Hub on 2026-04-22.

## Why is this bad?

A digest names exactly one image, so there is no doubt: every run of this reference ran the \
attacker's image, with everything the job could read (registry and cloud credentials, CI tokens, \
source code, scan results). Unlike a tag, a digest is never repaired upstream: the reference keeps \
pulling the malicious image for as long as a registry, mirror or cache still serves it.

## Example

```yaml
image: checkmarx/kics@sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0
```

## How to fix

1. Replace the digest with a known-good one (the advisory names one when it is known) and check \
it against the publisher's signatures or release notes.
2. Find every run that used the malicious image: CI job logs, container runtime and cluster \
events, registry pull logs.
3. Treat those runs as compromised: rotate every secret they could read and review what they \
could write (packages, images, releases, infrastructure).
",
};

/// An image reference by a tag that pointed to a malicious image during a compromise.
pub const AFFECTED_TAG: Rule = Rule {
    id: "affected-tag",
    name: "AffectedTag",
    default_severity: Severity::High,
    summary: "Image reference by a tag that an attacker overwrote during a compromise",
    label: "tag overwritten during a compromise",
    fix: "pin a known-good digest (`name:tag@sha256:…`) and check whether anything pulled this tag during the advisory's window",
    help: "\
## What it does

Flags an image reference that uses a tag (and no digest) that an advisory says pointed to a \
malicious image for a while: the attacker pushed a new image under an existing tag, or published \
a new tag, during a registry compromise.

## Why is this bad?

A tag is a mutable name. Anything that pulled it during the advisory's window (a CI job, a node \
pulling with `imagePullPolicy: Always`, a developer machine) got the attacker's image, and \
anything that cached it may still run it today. The tag may have been restored since, so the file \
alone cannot tell which image a given run used: only logs and pull records can.

## Example

```yaml
image: aquasec/trivy:0.69.4
```

## How to fix

1. Pin the reference to a known-good digest, keeping the tag for readers: \
`aquasec/trivy:0.69.3@sha256:…`. Prefer a version the advisory names as clean.
2. Check whether anything pulled the tag during the window (CI job logs, container runtime \
events, registry pull logs) and, if so, treat those runs as compromised: rotate the secrets they \
could read.
3. Clear the tag from caches and mirrors you control.
",
};

/// A GitHub Action used at a commit SHA that an advisory lists as malicious.
pub const COMPROMISED_ACTION: Rule = Rule {
    id: "compromised-action",
    name: "CompromisedAction",
    default_severity: Severity::Critical,
    summary: "GitHub Action pinned to a commit an advisory lists as malicious",
    label: "malicious commit",
    fix: "pin the action to a known-good commit SHA and treat every workflow run that used this one as compromised: rotate its secrets",
    help: "\
## What it does

Flags a `uses: owner/repo@<sha>` whose commit is one an advisory lists as malicious, such as the \
commits force-pushed to the tags of `aquasecurity/trivy-action` in March 2026.

## Why is this bad?

Pinning to a full commit SHA is the right practice, but here it pins the attacker's code. Every \
workflow run that used it executed that code with the job's `GITHUB_TOKEN`, its secrets and \
whatever cloud credentials the job could obtain.

## Example

```yaml
- uses: aquasecurity/trivy-action@<malicious commit SHA>
```

## How to fix

1. Pin the action to the full SHA of a known-good release, with the version in a comment: \
`uses: aquasecurity/trivy-action@<sha> # 0.35.0`.
2. List the workflow runs that used the malicious commit and treat them as compromised: rotate \
every secret and token they could read and review what they could publish.
",
};

/// A GitHub Action used at a tag that was force-pushed during a compromise.
pub const AFFECTED_ACTION: Rule = Rule {
    id: "affected-action",
    name: "AffectedAction",
    default_severity: Severity::High,
    summary: "GitHub Action used at a tag that an attacker moved during a compromise",
    label: "tag moved during a compromise",
    fix: "pin the action to the full commit SHA of a known-good release and review the workflow runs in the advisory's window",
    help: "\
## What it does

Flags a `uses: owner/repo@<tag>` whose tag an advisory says was force-pushed to a malicious \
commit, such as 76 of the 77 tags of `aquasecurity/trivy-action` on 2026-03-19.

## Why is this bad?

A Git tag can be moved by anyone who can push to the repository. Every workflow run that \
resolved the tag during the advisory's window executed the attacker's code with the job's \
`GITHUB_TOKEN` and secrets. The tag may point to a clean commit again today, which hides the \
problem but does not undo it.

## Example

```yaml
- uses: aquasecurity/trivy-action@0.24.0
```

## How to fix

1. Pin the action to the full commit SHA of a known-good release, with the version in a comment: \
`uses: owner/repo@<40-hex sha> # v1.2.3`.
2. Find the runs in the window: job logs show `Download action repository 'owner/repo@tag' \
(SHA:…)`. If the SHA is one the advisory lists, treat the run as compromised and rotate its \
secrets.
",
};

/// An image reference by tag only, without a digest.
pub const UNPINNED_IMAGE: Rule = Rule {
    id: "unpinned-image",
    name: "UnpinnedImage",
    default_severity: Severity::Low,
    summary: "Image reference not pinned to a digest",
    label: "not pinned to a digest",
    fix: "add the digest of the image you mean to run: `name:tag@sha256:…`",
    help: "\
## What it does

Flags an image reference that names a tag but no digest, such as `alpine:3.20`.

## Why is this bad?

Tags are mutable: whoever can push to the repository (the publisher, or an attacker with the \
publisher's credentials) can make the same tag point to a different image, and your next run \
pulls it without any change in your files. This is how the `checkmarx/kics` and `aquasec/trivy` \
compromises of 2026 reached their victims. Without a digest you also cannot tell afterwards \
which image a run used.

## Example

```dockerfile
FROM alpine:3.20
```

Use instead:

```dockerfile
FROM alpine:3.20@sha256:<digest of the image you verified>
```

## How to fix

Add the digest of the image you mean to run and keep the tag for readers. A tool such as \
Renovate or Dependabot can keep pinned digests up to date.
",
};

/// An image reference by `latest` or without any tag.
pub const FLOATING_LATEST: Rule = Rule {
    id: "floating-latest",
    name: "FloatingLatest",
    default_severity: Severity::Medium,
    summary: "Image reference by `latest` or without a tag, and without a digest",
    label: "floating `latest` tag",
    fix: "choose a version tag and pin its digest: `name:1.2.3@sha256:…`",
    help: "\
## What it does

Flags an image reference that uses the `latest` tag, or no tag at all (which means `latest`), \
without a digest.

## Why is this bad?

`latest` moves with every release, so every run may execute a different image, and it is the \
first tag an attacker overwrites: both the `checkmarx/kics` and the `aquasec/trivy` compromises \
of 2026 pushed a malicious `latest`. Builds are not reproducible and a compromise reaches you on \
your next pull.

## Example

```yaml
image: checkmarx/kics
```

Use instead:

```yaml
image: checkmarx/kics:v2.1.20@sha256:<digest of the image you verified>
```

## How to fix

Choose a version tag, verify the image and pin its digest.
",
};

/// A GitHub Action used at a tag or branch rather than a full commit SHA.
pub const UNPINNED_ACTION: Rule = Rule {
    id: "unpinned-action",
    name: "UnpinnedAction",
    default_severity: Severity::Low,
    summary: "GitHub Action not pinned to a full commit SHA",
    label: "not pinned to a commit",
    fix: "pin the action to a full 40-character commit SHA and keep the version in a comment",
    help: "\
## What it does

Flags a `uses: owner/repo@ref` whose ref is a tag or a branch rather than a full 40-character \
commit SHA.

## Why is this bad?

Tags and branches can be moved by anyone who can push to the action's repository. In March 2026 \
an attacker force-pushed 76 of the 77 tags of `aquasecurity/trivy-action` to malicious commits; \
every workflow that used a tag ran the attacker's code with its secrets. Only a full commit SHA \
names fixed code.

## Example

```yaml
- uses: actions/checkout@v4
```

Use instead:

```yaml
- uses: actions/checkout@<40-hex commit SHA> # v4.2.2
```

## How to fix

Pin the action to the commit SHA of the release you reviewed and keep the version in a comment \
so that Renovate or Dependabot can update it.
",
};

/// A value where an image reference is expected that is not a valid reference.
pub const INVALID_REFERENCE: Rule = Rule {
    id: "invalid-reference",
    name: "InvalidReference",
    default_severity: Severity::Medium,
    summary: "Value where an image reference is expected is not a valid reference",
    label: "not a valid image reference",
    fix: "correct the reference so that it follows the OCI reference grammar",
    help: "\
## What it does

Flags a value in a place where an image reference is expected (a `FROM`, an `image:` key) that is \
not a valid reference: an uppercase repository name, a digest of the wrong length, a stray \
character.

## Why is this bad?

A container runtime rejects the value, or reads it differently from what you intended, and \
tagwarden cannot judge it against advisories: a malicious image could hide behind it.

## Example

```yaml
image: Checkmarx/KICS:latest
```

## How to fix

Correct the reference. If it is a template that tagwarden misread, open an issue with the \
snippet.
",
};

/// An image reference built from values tagwarden cannot resolve offline.
pub const UNRESOLVABLE_REFERENCE: Rule = Rule {
    id: "unresolvable-reference",
    name: "UnresolvableReference",
    default_severity: Severity::Info,
    summary: "Image reference built from variables that cannot be resolved offline",
    label: "cannot be resolved offline",
    fix: "review the image this resolves to at run time, or give the variable a default value",
    help: "\
## What it does

Reports an image reference built from variables or templates whose value tagwarden cannot know \
without running the pipeline: `${IMAGE}`, `{{ .Values.image }}`, a CI variable defined outside \
the repository.

## Why is this bad?

It is not a problem in itself, but tagwarden cannot judge the reference, so a compromised image \
could hide behind it. The report lists it so that the coverage of the scan is honest.

## Example

```dockerfile
ARG BASE
FROM ${BASE}
```

## How to fix

Nothing is required. To have it checked, give the variable a default value in the file (for \
example `ARG BASE=alpine:3.20@sha256:…`), or review the values your pipeline passes.
",
};

/// A file tagwarden should read but could not parse.
pub const PARSE_ERROR: Rule = Rule {
    id: "parse-error",
    name: "ParseError",
    default_severity: Severity::Medium,
    summary: "File could not be parsed, so its image references were not all checked",
    label: "parse error",
    fix: "fix the syntax error, or exclude the file if it is a template that is not meant to be valid on its own",
    help: "\
## What it does

Reports a file that looks like one tagwarden reads (a Dockerfile, a Compose file, a Kubernetes \
manifest, a workflow) but that could not be parsed from the given position onwards.

## Why is this bad?

References after the error may be missing from the report: the file is a blind spot. The tool \
that consumes the file (Docker, Kubernetes, the CI runner) may also reject it.

## Example

```yaml
services:
  app:
    image: alpine:3.20
   ports: [\"80:80\"]
```

## How to fix

Fix the syntax error. If the file is a template that is not valid on its own (for example a Helm \
template with `{{ }}` blocks), exclude it from the scan.
",
};

/// A pinned reference whose tag now points at another digest than the pinned one.
pub const TAG_MOVED: Rule = Rule {
    id: "tag-moved",
    name: "TagMoved",
    default_severity: Severity::High,
    summary: "The tag of a pinned reference no longer points at the pinned digest",
    label: "tag moved since it was pinned",
    fix: "find out why the tag moved (a release, a rebuild, or an overwrite) before you re-pin it",
    help: "\
## What it does

For every reference written `name:tag@digest`, `tagwarden verify` asks the registry what the tag \
points at now and reports the reference when that is no longer the pinned digest.

## Why is this bad?

Overwriting a tag is exactly what an attacker with a publisher's credentials does: in March 2026 \
`aquasec/trivy` tags and on 2026-04-22 five `checkmarx/kics` tags were pushed over with malicious \
images. Your pin protects this file, but every system that pulls the tag gets the new image. \
Tags also move for benign reasons (a rebuild on a new base image), so a moved tag is a signal to \
look at, not proof of compromise.

## Example

```dockerfile
FROM checkmarx/kics:v2.1.20@sha256:3e5a268eb8adda2e5a483c9359ddfc4cd520ab856a7076dc0b1d8784a37e2602
```

## How to fix

Compare the new digest with the publisher's release notes, signatures and provenance. Re-pin \
only when you trust it; check advisories and your logs for pulls of the new digest.
",
};

/// A pinned digest that the registry no longer serves.
pub const DIGEST_MISSING: Rule = Rule {
    id: "digest-missing",
    name: "DigestMissing",
    default_severity: Severity::Medium,
    summary: "The registry no longer has the pinned digest",
    label: "digest not found in the registry",
    fix: "re-pin to a digest the registry serves, after checking why the old one was removed",
    help: "\
## What it does

Reports a pinned reference whose digest the registry answers with \"not found\".

## Why is this bad?

Builds and deployments that use the pin will fail. Registries delete digests after a \
compromise (Docker Hub disabled the malicious `checkmarx/kics` digests), so a missing digest can \
also mean the pinned image was one of them: check the advisories.

## How to fix

Find out why the digest was removed, then pin a digest the registry serves and that you trust.
",
};

/// A tag whose current digest an advisory lists as malicious, found while pinning.
pub const MALICIOUS_RESOLUTION: Rule = Rule {
    id: "malicious-resolution",
    name: "MaliciousResolution",
    default_severity: Severity::Critical,
    summary: "A tag currently resolves to a digest an advisory lists as malicious",
    label: "tag serves a malicious digest",
    fix: "do not pin it: pin the advisory's known-good digest (`tagwarden pin --to-known-good`) and check who pulled the tag",
    help: "\
## What it does

`tagwarden pin` refuses to write a digest that an advisory lists as malicious. This finding says \
which reference would have been pinned to it, and which advisory lists it.

## Why is this bad?

The registry is serving the attacker's image under the tag right now (or a mirror still is): \
pinning it would freeze the compromise into your files.

## How to fix

Pin the advisory's known-good digest with `--to-known-good`, or wait for the publisher to restore \
the tag; check who pulled it since the window opened.
",
};

/// A registry error that kept a reference from being resolved or verified.
pub const REGISTRY_ERROR: Rule = Rule {
    id: "registry-error",
    name: "RegistryError",
    default_severity: Severity::Medium,
    summary: "The registry could not be asked about this reference",
    label: "registry error",
    fix: "check the registry name, your credentials and the network, then run again",
    help: "\
## What it does

Reports a reference that could not be resolved or verified: the registry was unreachable, \
refused the credentials, rate-limited the requests beyond the retries, or does not have the tag.

## Why is this bad?

The reference was not checked: if its tag moved, this run cannot tell.

## How to fix

Check the message: log in to the registry (`docker login`), name it with `--insecure-registry` \
when it serves plain HTTP on a trusted network, or fix the reference.
",
};

/// A pinned digest without the signature the policy requires (`verify --signatures`).
pub const SIGNATURE_MISSING: Rule = Rule {
    id: "signature-missing",
    name: "SignatureMissing",
    default_severity: Severity::High,
    summary: "The pinned digest has no signature, though the signature policy requires one",
    label: "not signed",
    fix: "find out who pushed this digest: the publisher's release pipeline signs what it publishes",
    help: "\
## What it does

With `tagwarden verify --signatures`, every pinned reference that a `[[signatures.require]]` rule \
of `tagwarden.toml` covers is looked up for cosign signatures: the `sha256-<hex>.sig` tag and \
Sigstore bundles attached as OCI referrers. This finding says none was found for the pinned digest. \
In `warn` mode it is reported at medium severity.

## Why is this bad?

Both 2026 compromises were pushes made with stolen but valid registry credentials: the registry \
accepted them, but the attacker could not sign them with the vendor's release identity. An image \
the vendor signs that shows up unsigned is what such a push looks like. A platform manifest of a \
signed index is unsigned too unless it was signed on its own (`cosign sign --recursive`): cosign \
binds a signature to one digest, and so does tagwarden.

## Example

```toml
[[signatures.require]]
images = [\"checkmarx/kics\"]
keyless = [{ identity = \"https://github.com/Checkmarx/kics/.github/workflows/release.yml@refs/tags/*\", issuer = \"https://token.actions.githubusercontent.com\" }]
```

## How to fix

Compare the digest with the publisher's release; pin a digest their release pipeline signed. If \
the publisher does not sign per platform, pin the index instead of a platform manifest.
",
};

/// A pinned digest whose signatures all fail the policy (`verify --signatures`).
pub const SIGNATURE_INVALID: Rule = Rule {
    id: "signature-invalid",
    name: "SignatureInvalid",
    default_severity: Severity::High,
    summary: "The pinned digest is signed, but by no signer the policy accepts, or not validly",
    label: "signature rejected",
    fix: "do not use the digest until you know who signed it; the message says which check failed",
    help: "\
## What it does

Reports a pinned reference whose signatures were found but none passed the checks the Sigstore \
client specification asks for: the payload names this digest and repository; the signature \
verifies with a policy key or its certificate; the transparency-log entry's signed timestamp and \
inclusion proof verify offline and record this signature; the certificate chains to the trust \
root at the log's time with a valid SCT; its identity and OIDC issuer are the policy's. In `warn` \
mode it is reported at medium severity.

## Why is this bad?

A signature by someone else (another workflow, a fork, another issuer), for another digest or \
repository, or with altered log evidence is not the publisher's word for this image, and may be \
an attempt to pass one off as such.

## How to fix

Read the reason: a wrong identity or issuer may be a policy to update after a legitimate change \
of release pipeline (check with the publisher); anything else means the image must not be used.
",
};

/// A push to a repository by an actor or credential never seen pushing it in the baseline.
pub const AUDIT_NEW_PUSHER: Rule = Rule {
    id: "audit-new-pusher",
    name: "AuditNewPusher",
    default_severity: Severity::Medium,
    summary: "A push by an actor or credential that never pushed this repository in the baseline",
    label: "new pusher",
    fix: "ask the publisher's team whether this account or token should push here; if not, revoke it and purge what it pushed",
    help: "\
## What it does

`tagwarden audit` reads registry audit logs and compares every push after the baseline period with \
the repository's own history in that period: this finding names a push by a user, role or robot \
account (or with a credential) that never pushed this repository before. The message names who \
did push it in the baseline.

## Why is this bad?

Both 2026 compromises were pushes with stolen but valid credentials. A release pipeline pushes with \
the same account every time; a new one may be a new maintainer, or someone else's hands.

## Example

`checkmarx/kics:v2.1.20` pushed by `kics-release-2` while the baseline saw only `cxbuild`.

## How to fix

Confirm the account with its owners. If nobody expected it: revoke its tokens, list everything it \
pushed (the findings name each push) and delete or re-push those tags from the release pipeline.
",
};

/// A push from an address (network) never seen pushing this repository in the baseline.
pub const AUDIT_NEW_ADDRESS: Rule = Rule {
    id: "audit-new-address",
    name: "AuditNewAddress",
    default_severity: Severity::Low,
    summary: "A push from a network that never pushed this repository in the baseline",
    label: "new address",
    fix: "check whether the address belongs to your CI or release infrastructure",
    help: "\
## What it does

Compares the client address of each push (CloudTrail `sourceIPAddress`, Harbor `client_ip`, GitHub \
`actor_ip`, GitLab `ip_address`) with the addresses that pushed the repository in the baseline, by \
network (an IPv4 /16 and an IPv6 /48 by default, `address-prefix-v4`/`-v6` in `[audit]`), since CI \
runners change addresses within their provider's networks.

## Why is this bad?

A stolen credential is used from the attacker's machine, not from your release runners.

## Example

A `PutImage` from `94.154.172.43` when a year of pushes came from `3.120.0.0/16`.

## How to fix

Find whose address it is. If it is not yours, treat the credential as stolen.
",
};

/// A push at an hour of the day the repository was never pushed at in the baseline.
pub const AUDIT_UNUSUAL_HOUR: Rule = Rule {
    id: "audit-unusual-hour",
    name: "AuditUnusualHour",
    default_severity: Severity::Low,
    summary: "A push at an hour of the day (UTC) the publisher never pushed at in the baseline",
    label: "unusual hour",
    fix: "check the push with the publisher: releases usually follow working hours or a schedule",
    help: "\
## What it does

Builds the hours of the day (UTC) at which each repository was pushed in the baseline and flags a \
push more than `hour-margin` hours (default 1) from all of them. Repositories with fewer than \
`min-baseline` pushes (default 5) are not judged this way.

## Why is this bad?

Attackers push when they have the credential, not when the publisher's team works.

## Example

A push at 03:00 UTC to a repository always released between 09:00 and 17:00 UTC.

## How to fix

A weak signal on its own: look at who pushed and from where (the other findings of the same push).
",
};

/// A release tag pushed again with another image.
pub const AUDIT_TAG_OVERWRITTEN: Rule = Rule {
    id: "audit-tag-overwritten",
    name: "AuditTagOverwritten",
    default_severity: Severity::High,
    summary: "A release tag (v2.1.20, 2026-04-22) was pushed again with another image",
    label: "release tag overwritten",
    fix: "compare the new digest with the release; restore the tag and purge the new image if it is not the publisher's",
    help: "\
## What it does

Flags a push to a release-like tag (three numeric parts such as `v2.1.20` or `1.2.3-alpine`, or a \
date) that an earlier record shows pointing at another digest (or pushed before, when the log gives \
no digest). Floating tags (`latest`, `alpine`) move by design and are not reported.

## Why is this bad?

A release tag names one build. The KICS compromise overwrote `v2.1.20` and `v2.1.20-debian` with a \
backdoored image: everyone who pulled those tags afterwards ran it.

## Example

`checkmarx/kics:v2.1.20` pushed at 12:35 UTC with a digest other than the one it had since March.

## How to fix

Ask the publisher. If it was not them, re-point the tag at the original digest, delete the new \
image, and hunt for pulls of it (`tagwarden hunt`).
",
};

/// Many tags of one repository pushed within minutes, more than the baseline ever saw.
pub const AUDIT_PUSH_BURST: Rule = Rule {
    id: "audit-push-burst",
    name: "AuditPushBurst",
    default_severity: Severity::High,
    summary: "More tags of one repository pushed within minutes than any release in the baseline",
    label: "burst of pushes",
    fix: "check every tag the burst names against the publisher's releases",
    help: "\
## What it does

Counts the distinct tags of a repository pushed within `burst-window` (default 15 minutes) and \
flags a window with more than `burst-tags` (default 4) and more than the most the repository ever \
saw in one window during the baseline (a release that pushes five tags at once is normal for it).

## Why is this bad?

The KICS attacker overwrote five tags and created two within about a quarter of an hour: no \
release of the project had ever touched that many tags at once.

## Example

`latest`, `v2.1.20`, `v2.1.20-debian`, `alpine`, `debian`, `v2.1.21`, `v2.1.21-debian` pushed \
between 12:31 and 12:59 UTC.

## How to fix

Treat every tag the finding names as suspect until the publisher confirms it.
",
};

/// A credential used for the first time.
pub const AUDIT_NEW_TOKEN: Rule = Rule {
    id: "audit-new-token",
    name: "AuditNewToken",
    default_severity: Severity::Medium,
    summary: "A credential (access key, token, robot account) pushed for the first time",
    label: "token first used",
    fix: "find who created the credential and why; revoke it if nobody did",
    help: "\
## What it does

Flags the first push made with a credential that no record of the baseline shows in use, in any \
repository: a long-term AWS access key (`AKIA…`), a GitHub token id, a Harbor robot account.

## Why is this bad?

An attacker who steals a password often creates a token of their own to keep access; a leaked \
token unused for a long time may be someone else's now.

## Example

`PutImage` with access key `AKIAEXAMPLE0NEWKEY` that never appeared in a year of CloudTrail.

## How to fix

Find who created the credential. If nobody can say, revoke it and review everything it did.
",
};

/// Every built-in rule, in a stable order (SARIF `ruleIndex` is an index into this list).
pub const ALL: &[&Rule] = &[
    &COMPROMISED_DIGEST,
    &COMPROMISED_ACTION,
    &AFFECTED_TAG,
    &AFFECTED_ACTION,
    &FLOATING_LATEST,
    &INVALID_REFERENCE,
    &PARSE_ERROR,
    &UNPINNED_IMAGE,
    &UNPINNED_ACTION,
    &UNRESOLVABLE_REFERENCE,
    &TAG_MOVED,
    &DIGEST_MISSING,
    &MALICIOUS_RESOLUTION,
    &REGISTRY_ERROR,
    &SIGNATURE_MISSING,
    &SIGNATURE_INVALID,
    &AUDIT_NEW_PUSHER,
    &AUDIT_NEW_ADDRESS,
    &AUDIT_UNUSUAL_HOUR,
    &AUDIT_TAG_OVERWRITTEN,
    &AUDIT_PUSH_BURST,
    &AUDIT_NEW_TOKEN,
];

/// The built-in rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_found() {
        for (i, rule) in ALL.iter().enumerate() {
            assert!(
                rule.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                rule.id
            );
            assert_eq!(by_id(rule.id).map(|r| r.id), Some(rule.id));
            assert!(
                ALL[..i]
                    .iter()
                    .all(|r| r.id != rule.id && r.name != rule.name)
            );
            for section in ["## What it does", "## Why is this bad?", "## How to fix"] {
                assert!(rule.help.contains(section), "{} lacks {section}", rule.id);
            }
            assert!(!rule.summary.ends_with('.'));
        }
        assert!(by_id("nope").is_none());
    }

    #[test]
    fn severities_as_specified() {
        let expected = [
            ("compromised-digest", Severity::Critical),
            ("compromised-action", Severity::Critical),
            ("affected-tag", Severity::High),
            ("affected-action", Severity::High),
            ("floating-latest", Severity::Medium),
            ("unpinned-image", Severity::Low),
            ("unpinned-action", Severity::Low),
            ("invalid-reference", Severity::Medium),
            ("unresolvable-reference", Severity::Info),
            ("parse-error", Severity::Medium),
            ("tag-moved", Severity::High),
            ("digest-missing", Severity::Medium),
            ("malicious-resolution", Severity::Critical),
            ("registry-error", Severity::Medium),
            ("signature-missing", Severity::High),
            ("signature-invalid", Severity::High),
            ("audit-new-pusher", Severity::Medium),
            ("audit-new-address", Severity::Low),
            ("audit-unusual-hour", Severity::Low),
            ("audit-tag-overwritten", Severity::High),
            ("audit-push-burst", Severity::High),
            ("audit-new-token", Severity::Medium),
        ];
        assert_eq!(expected.len(), ALL.len());
        for (id, severity) in expected {
            assert_eq!(
                by_id(id).map(|r| r.default_severity),
                Some(severity),
                "{id}"
            );
        }
    }
}
