//! Image operands of container commands in shell text (`docker run … image`, `podman pull image`),
//! and the images a build pulls as named contexts (`docker buildx build --build-context
//! name=docker-image://image`), as written in CI `run:` / `script:` steps, shell scripts and
//! Makefile recipes, plus the byte mapping of YAML block scalars so that a span found in a block's
//! value can be reported in the file.
//!
//! The lexer is deliberately small: words, quotes, escapes, line continuations, separators
//! (`;`, `&&`, `||`, `|`, `&`, newlines), comments and heredoc bodies (skipped: they are data);
//! `$(…)`, backticks and `${{ … }}` stay inside their word. Only words in command position count,
//! so `echo "docker run x"` is not a command.

mod assign;
pub mod flags;
mod lex;
mod script;

pub use assign::{Assignment, assigned_names, assignments, variable_name};
pub use lex::Heredoc;
pub use script::{
    Definitions, Dialect, Inherited, ScriptImage, ToFile, Variables, lexing_text, referenced_names,
    script_images,
};

use crate::read::value_map::ValueMap;
use crate::{ImageOccurrence, Span, Unresolved};
use flags::{
    COPIER_VALUE, CRICTL_GLOBAL_VALUE, CRICTL_PULL_VALUE, CTR_GLOBAL_VALUE, CTR_VALUE,
    GLOBAL_VALUE, LONG_VALUE, SERVICE_VALUE, engine_option_takes_value,
};
use lex::{Tok, Word, lex, lex_with_heredocs};

/// An image operand found in shell text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellImage {
    /// Where the word is written (offset by `base`); inside the quotes of a wholly quoted word.
    pub span: Span,
    /// The image as the shell would see it, or why it cannot be known offline.
    pub image: Result<String, String>,
    /// True when `span` holds exactly the image text, so a rewrite may splice it.
    pub exact: bool,
    /// Which part of the command names the image.
    pub kind: ShellImageKind,
}

/// How a container command uses an image it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShellImageKind {
    /// The image operand of `run`, `create` or `pull`.
    Operand,
    /// `--build-context name=docker-image://image` of a `build`: the build pulls it.
    BuildContext,
}

/// The URL scheme of a build context that is an image.
const DOCKER_IMAGE_SCHEME: &str = "docker-image://";

/// Finds the image operands of `docker`/`podman`/`nerdctl` `run`/`create`/`pull` commands and
/// the `docker-image://` build contexts of their `build`s. Spans are offsets into `script` plus
/// `base`.
pub fn commands(script: &str, base: usize) -> Vec<ShellImage> {
    let tokens = lex(script);
    let mut found = Vec::new();
    for (k, program) in command_args(&tokens, script) {
        let at = Args {
            tokens: &tokens,
            script,
            base,
        };
        match program {
            Program::Engine => {
                found.extend(image_operand(&tokens, k, script, base));
                found.extend(build_contexts(&tokens, k, script, base));
                found.extend(at.buildkit_image(k));
                found.extend(at.service(k));
            }
            Program::Copier => found.extend(at.copy_source(k)),
            Program::Ctr => found.extend(at.ctr(k)),
            Program::Crictl => found.extend(at.crictl(k)),
            Program::Kubectl => found.extend(at.kubectl(k)),
            Program::Gcloud => found.extend(at.gcloud(k)),
            Program::GkeDeploy => found.extend(at.image_flags(k, &["--image", "-i"])),
        }
    }
    found
}

/// Names the script gives to images it makes itself (`docker build -t name`, `docker commit c
/// name`, `docker tag src name`): running them pulls nothing.
pub fn built_images(script: &str) -> Vec<String> {
    let tokens = lex(script);
    let mut names = Vec::new();
    let value = |k: usize| match tokens.get(k) {
        Some(Tok::Word(w)) => w.value.clone(),
        _ => None,
    };
    // A tag built from variables is kept as written (`$IMAGE`), to match an operand written so.
    let tag = |k: usize| match tokens.get(k) {
        Some(Tok::Word(w)) if w.dynamic => script.get(w.inner.0..w.inner.1).map(str::to_string),
        Some(Tok::Word(w)) => w.value.clone(),
        _ => None,
    };
    let engines = command_args(&tokens, script)
        .into_iter()
        .filter(|(_, p)| *p == Program::Engine);
    for (mut k, _) in engines {
        while let Some(v) = value(k).filter(|v| v.starts_with('-')) {
            k += if GLOBAL_VALUE.contains(&v.as_str()) {
                2
            } else {
                1
            };
        }
        let Some(mut sub) = value(k) else {
            continue;
        };
        if matches!(sub.as_str(), "buildx" | "builder" | "image" | "container") {
            k += 1;
            sub = value(k).unwrap_or_default();
        }
        k += 1;
        let mut operands = Vec::new();
        while let Some(Tok::Word(w)) = tokens.get(k) {
            k += 1;
            let Some(v) = w.value.as_deref() else {
                continue;
            };
            if sub == "build" {
                if v == "-t" || v == "--tag" {
                    names.extend(tag(k));
                    k += 1;
                } else if let Some(t) = v.strip_prefix("--tag=").or(v.strip_prefix("-t")) {
                    names.push(t.to_string());
                }
            } else if matches!(
                v,
                "-a" | "--author" | "-c" | "--change" | "-m" | "--message"
            ) {
                k += 1;
            } else if !v.starts_with('-') {
                operands.push(v.to_string());
            }
        }
        if matches!(sub.as_str(), "commit" | "tag") {
            names.extend(operands.get(1).cloned());
        }
    }
    names
}

/// True when `image` is one of `built` (a name without a tag means `:latest`).
pub fn is_built(image: &str, built: &[String]) -> bool {
    fn bare(s: &str) -> &str {
        s.strip_suffix(":latest").unwrap_or(s)
    }
    let image = bare(image);
    built.iter().any(|b| bare(b) == image)
}

/// The programs whose command lines name images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Program {
    /// `docker`, `podman`, `nerdctl`
    Engine,
    /// containerd's `ctr`
    Ctr,
    /// `crictl` (Kubernetes CRI)
    Crictl,
    /// `kubectl` or OpenShift's `oc`
    Kubectl,
    /// `gcloud` (Cloud Run, containers on Compute Engine)
    Gcloud,
    /// `gke-deploy` (Cloud Build's GKE deployer)
    GkeDeploy,
    /// Registry copiers (`skopeo`, `crane`, `regctl`): the source of a copy is pulled
    Copier,
}

/// Every program the reader knows, by the name of its command word: the one table that
/// [`commands`] reads commands by and every prefilter ([`may_name_images`], [`names_images`]) is
/// derived from.
const PROGRAMS: &[(&str, Program)] = &[
    ("docker", Program::Engine),
    ("podman", Program::Engine),
    ("nerdctl", Program::Engine),
    ("ctr", Program::Ctr),
    ("crictl", Program::Crictl),
    ("kubectl", Program::Kubectl),
    ("oc", Program::Kubectl),
    ("gcloud", Program::Gcloud),
    ("gke-deploy", Program::GkeDeploy),
    ("skopeo", Program::Copier),
    ("crane", Program::Copier),
    ("regctl", Program::Copier),
];

impl Program {
    fn of(word: &str) -> Option<Self> {
        let name = word.rsplit('/').next().unwrap_or(word);
        PROGRAMS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }
}

/// True for a command word (`docker`, `/usr/bin/crane`) whose command lines [`commands`] reads.
pub fn names_images(program: &str) -> bool {
    Program::of(program).is_some()
}

/// True when the text may hold a command [`commands`] reads: a program of [`PROGRAMS`] written as
/// a word of its own (a cheap test before lexing).
pub fn may_name_images(text: &str) -> bool {
    let b = text.as_bytes();
    let part_of_name =
        |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c));
    PROGRAMS.iter().any(|(name, _)| {
        memchr::memmem::find_iter(b, name.as_bytes()).any(|at| {
            !part_of_name(at.checked_sub(1).and_then(|p| b.get(p)))
                && !part_of_name(b.get(at + name.len()))
        })
    })
}

/// Programs that run their `-c` argument (or a script file) as shell text.
pub const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

/// True for a command word that is a shell (`sh`, `/bin/bash`).
pub fn is_shell(program: &str) -> bool {
    SHELLS.contains(&program.rsplit('/').next().unwrap_or(program))
}

/// For each simple command whose command word is a program that names images, the index of the
/// word after it.
fn command_args(tokens: &[Tok], script: &str) -> Vec<(usize, Program)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        // Find the command word of the simple command starting at `i`.
        let mut j = i;
        let mut in_env = false;
        while let Some(Tok::Word(w)) = tokens.get(j) {
            let v = w.plain.as_deref().unwrap_or("");
            let raw = script.get(w.start..w.end).unwrap_or("");
            let is_assignment = raw.split_once('=').is_some_and(|(n, _)| is_name(n));
            if PREFIXES.contains(&v) || is_assignment || (in_env && v.starts_with('-')) {
                in_env |= matches!(v, "env" | "sudo" | "time" | "nohup");
                j += 1;
                continue;
            }
            break;
        }
        if let Some(Tok::Word(w)) = tokens.get(j)
            && let Some(program) = w.plain.as_deref().and_then(Program::of)
        {
            out.push((j + 1, program));
        }
        // Skip to the next separator.
        i = j;
        while let Some(Tok::Word(_)) = tokens.get(i) {
            i += 1;
        }
        i += 1;
    }
    out
}

/// The scripts that commands of `script` hand to a shell with `-c` (`sh -c 'docker pull x'`,
/// `bash -ec "…"`, `/bin/sh -o pipefail -c …`): the inside of that word, when its bytes are
/// the script the shell runs (single quotes, or double quotes with nothing the outer shell
/// expands).
pub fn shell_c_scripts(script: &str) -> Vec<Span> {
    let tokens = lex(script);
    let word = |k: usize| match tokens.get(k) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        while word(j)
            .and_then(|w| w.plain.as_deref())
            .is_some_and(|v| PREFIXES.contains(&v))
        {
            j += 1;
        }
        if word(j)
            .and_then(|w| w.plain.as_deref())
            .is_some_and(is_shell)
        {
            let mut k = j + 1;
            while let Some(v) = word(k).and_then(|w| w.plain.as_deref()) {
                if v == "-o" || v == "+o" {
                    k += 2;
                } else if let Some(flags) = v.strip_prefix('-').filter(|f| !f.starts_with('-')) {
                    k += 1;
                    if flags.contains('c') {
                        let inner = word(k).filter(|w| {
                            w.simple
                                && !w.dynamic
                                && script
                                    .get(w.inner.0..w.inner.1)
                                    .is_some_and(|t| !t.is_empty())
                        });
                        found.extend(inner.map(|w| Span::new(w.inner.0, w.inner.1)));
                        break;
                    }
                } else {
                    break;
                }
            }
        }
        // The next command.
        i = j;
        while let Some(Tok::Word(_)) = tokens.get(i) {
            i += 1;
        }
        i += 1;
    }
    found
}

/// True for a command word that runs a container engine (`docker`, `/usr/bin/podman`).
pub fn is_engine(word: &str) -> bool {
    Program::of(word) == Some(Program::Engine)
}

/// Words after which the next word is still in command position.
const PREFIXES: &[&str] = &[
    "sudo", "time", "exec", "env", "nohup", "then", "do", "else", "elif", "if", "while", "until",
    "!", "{", "command",
];

/// Parses the engine's arguments from `k` and returns the image operand, if it is a run/create/pull.
fn image_operand(tokens: &[Tok], mut k: usize, script: &str, base: usize) -> Option<ShellImage> {
    let word = |k: usize| match tokens.get(k) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    };
    // Global flags before the subcommand.
    while let Some(v) = word(k).and_then(|w| w.plain.as_deref()) {
        if !v.starts_with('-') {
            break;
        }
        k += if GLOBAL_VALUE.contains(&v) { 2 } else { 1 };
    }
    let sub = word(k)?.plain.as_deref()?;
    let pull = match sub {
        "run" | "create" => false,
        "pull" => true,
        "container" | "image" => {
            k += 1;
            match (sub, word(k)?.plain.as_deref()?) {
                ("container", "run" | "create") => false,
                ("image", "pull") => true,
                _ => return None,
            }
        }
        _ => return None,
    };
    k += 1;
    loop {
        let w = word(k)?;
        let Some(v) = w.plain.as_deref() else {
            let next_is_flag = word(k + 1)
                .and_then(|n| n.plain.as_deref())
                .is_some_and(|n| LONG_VALUE.contains(&n.split('=').next().unwrap_or(n)));
            if splits_into_flags(script.get(w.start..w.end).unwrap_or("")) || next_is_flag {
                // `${volFlags}` unquoted: the shell splits it into options, not the image.
                k += 1;
                continue;
            }
            // A quoted or expanded word where a flag could be: it is the operand.
            return operand(w, script, base);
        };
        if v == "--" {
            return operand(word(k + 1)?, script, base);
        }
        if v.len() > 1 && v.starts_with('-') {
            k += if engine_option_takes_value(v, pull) {
                2
            } else {
                1
            };
            continue;
        }
        return operand(w, script, base);
    }
}

/// The image operand for one word, or None when the word cannot be an image.
fn operand(w: &Word, script: &str, base: usize) -> Option<ShellImage> {
    part_image(w, 0, w.inner.1 - w.inner.0, script, base)
}

/// The `docker-image://` build contexts of a `build` / `buildx build` / `builder build` whose
/// arguments start at `k`.
fn build_contexts(tokens: &[Tok], mut k: usize, script: &str, base: usize) -> Vec<ShellImage> {
    let word = |k: usize| match tokens.get(k) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    };
    let plain = |k: usize| word(k).and_then(|w| w.plain.as_deref());
    while let Some(v) = plain(k).filter(|v| v.starts_with('-')) {
        k += if GLOBAL_VALUE.contains(&v) { 2 } else { 1 };
    }
    match plain(k) {
        Some("build") => k += 1,
        Some("buildx" | "builder" | "image") if plain(k + 1) == Some("build") => k += 2,
        _ => return Vec::new(),
    }
    let mut found = Vec::new();
    while let Some(w) = word(k) {
        k += 1;
        let flag = w.value.as_deref().or(w.plain.as_deref()).unwrap_or("");
        let context = if flag == "--build-context" {
            k += 1;
            word(k - 1)
        } else if flag.starts_with("--build-context=")
            || script
                .get(w.inner.0..w.inner.1)
                .is_some_and(|r| r.starts_with("--build-context="))
        {
            Some(w)
        } else {
            None
        };
        found.extend(context.and_then(|c| context_image(c, script, base)));
    }
    found
}

/// The image of one `name=docker-image://image` build context word.
fn context_image(w: &Word, script: &str, base: usize) -> Option<ShellImage> {
    let inner = script.get(w.inner.0..w.inner.1)?;
    let at = inner.find(DOCKER_IMAGE_SCHEME)? + DOCKER_IMAGE_SCHEME.len();
    // The image runs to the end of the word: there is nothing after it in a context value.
    let raw = inner.get(at..)?;
    let span = Span::new(base + w.inner.0 + at, base + w.inner.1);
    if w.dynamic {
        return Some(ShellImage {
            span,
            image: Err(format!("build context {raw} depends on variables")),
            exact: false,
            kind: ShellImageKind::BuildContext,
        });
    }
    let value = w.value.as_deref()?;
    let image = value
        .find(DOCKER_IMAGE_SCHEME)
        .and_then(|n| value.get(n + DOCKER_IMAGE_SCHEME.len()..))?;
    if !looks_like_image(image) {
        return None;
    }
    Some(ShellImage {
        span,
        image: Ok(image.to_string()),
        exact: w.simple && raw == image,
        kind: ShellImageKind::BuildContext,
    })
}

/// The words of one command line, for the programs other than the engines' run/create/pull.
struct Args<'t> {
    tokens: &'t [Tok],
    script: &'t str,
    base: usize,
}

impl Args<'_> {
    fn word(&self, k: usize) -> Option<&Word> {
        match self.tokens.get(k) {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn plain(&self, k: usize) -> Option<&str> {
        self.word(k).and_then(|w| w.plain.as_deref())
    }

    /// The index of the first word from `k` that is not an option (`takes` names the options
    /// whose value is the next word).
    fn skip_options(&self, mut k: usize, takes: &dyn Fn(&str) -> bool) -> usize {
        while let Some(v) = self.plain(k) {
            if v == "--" {
                return k + 1;
            }
            if !v.starts_with('-') || v == "-" {
                break;
            }
            k += if !v.contains('=') && takes(v) { 2 } else { 1 };
        }
        k
    }

    /// The image operand at `k`, if the word there can be one.
    fn operand(&self, k: usize) -> Option<ShellImage> {
        operand(self.word(k)?, self.script, self.base)
    }

    /// `ctr [global] images pull … REF`, `ctr content fetch … REF`, `ctr run … IMAGE ID`,
    /// `ctr containers create … IMAGE ID`.
    fn ctr(&self, k: usize) -> Option<ShellImage> {
        let k = self.skip_options(k, &|v| CTR_GLOBAL_VALUE.contains(&v));
        let next = match (self.plain(k)?, self.plain(k + 1)) {
            ("images" | "image" | "i", Some("pull")) | ("content", Some("fetch")) => k + 2,
            ("run" | "r", _) => k + 1,
            ("containers" | "container" | "c", Some("create" | "c")) => k + 2,
            _ => return None,
        };
        let value = |v: &str| LONG_VALUE.contains(&v) || CTR_VALUE.contains(&v);
        self.operand(self.skip_options(next, &value))
    }

    /// `crictl [global] pull [options] REF`.
    fn crictl(&self, k: usize) -> Option<ShellImage> {
        let k = self.skip_options(k, &|v| CRICTL_GLOBAL_VALUE.contains(&v));
        if self.plain(k)? != "pull" {
            return None;
        }
        self.operand(self.skip_options(k + 1, &|v| CRICTL_PULL_VALUE.contains(&v)))
    }

    /// `kubectl run|create|debug … --image=REF` and `kubectl set image TYPE/NAME c=REF …`.
    fn kubectl(&self, k: usize) -> Vec<ShellImage> {
        let mut k = k;
        // Global options come first; those that take a value are written `--flag=value` or
        // are one of these.
        let global = [
            "-n",
            "--namespace",
            "--context",
            "--kubeconfig",
            "-s",
            "--server",
        ];
        k = self.skip_options(k, &|v| global.contains(&v));
        match (self.plain(k), self.plain(k + 1)) {
            (Some("run" | "debug"), _) | (Some("create"), Some(_)) => {
                self.image_flags(k + 1, &["--image"])
            }
            (Some("set"), Some("image")) => self.container_images(k + 2),
            _ => Vec::new(),
        }
    }

    /// The `c=REF` pairs of `kubectl set image` (each REF alone is the image).
    fn container_images(&self, mut k: usize) -> Vec<ShellImage> {
        let mut found = Vec::new();
        let value = [
            "-f",
            "--filename",
            "-l",
            "--selector",
            "-o",
            "--output",
            "-n",
            "--namespace",
        ];
        while let Some(w) = self.word(k) {
            let raw = self.script.get(w.inner.0..w.inner.1).unwrap_or("");
            if raw.starts_with('-') {
                k += if !raw.contains('=') && value.contains(&raw) {
                    2
                } else {
                    1
                };
                continue;
            }
            k += 1;
            // `TYPE/NAME` and `TYPE NAME` have no `=`; a container name has no `$`.
            if let Some(eq) = raw.find('=').filter(|&eq| !raw[..eq].contains('$')) {
                found.extend(tail_image(w, eq + 1, self.script, self.base));
            }
        }
        found
    }

    /// `gcloud run deploy|jobs … --image=REF`, `gcloud compute instances create-with-container
    /// … --container-image=REF`.
    fn gcloud(&self, k: usize) -> Vec<ShellImage> {
        let mut groups = Vec::new();
        let mut j = k;
        while let Some(v) = self.plain(j).filter(|v| !v.starts_with('-')) {
            groups.push(v);
            j += 1;
        }
        let run =
            groups.contains(&"run") && (groups.contains(&"deploy") || groups.contains(&"jobs"));
        let container = groups
            .iter()
            .any(|g| matches!(*g, "create-with-container" | "update-container"));
        if run {
            self.image_flags(k, &["--image"])
        } else if container {
            self.image_flags(k, &["--container-image"])
        } else {
            Vec::new()
        }
    }

    /// The values of the given image options anywhere in the command (`--image REF`,
    /// `--image=REF`, `-i REF`).
    fn image_flags(&self, mut k: usize, flags: &[&str]) -> Vec<ShellImage> {
        let mut found = Vec::new();
        while let Some(w) = self.word(k) {
            k += 1;
            let raw = self.script.get(w.inner.0..w.inner.1).unwrap_or("");
            if flags.contains(&raw) {
                found.extend(self.operand(k));
                k += 1;
            } else if let Some(flag) = flags.iter().find(|f| {
                f.starts_with("--") && raw.strip_prefix(**f).is_some_and(|r| r.starts_with('='))
            }) {
                found.extend(tail_image(w, flag.len() + 1, self.script, self.base));
            }
        }
        found
    }

    /// `docker service create [options] IMAGE` and `docker service update --image REF`: the
    /// image a Swarm service runs.
    fn service(&self, k: usize) -> Vec<ShellImage> {
        let k = self.skip_options(k, &|v| GLOBAL_VALUE.contains(&v));
        match (self.plain(k), self.plain(k + 1)) {
            (Some("service"), Some("create")) => {
                let value = |v: &str| LONG_VALUE.contains(&v) || SERVICE_VALUE.contains(&v);
                self.operand(self.skip_options(k + 2, &value))
                    .into_iter()
                    .collect()
            }
            (Some("service"), Some("update")) => self.image_flags(k + 2, &["--image"]),
            _ => Vec::new(),
        }
    }

    /// The source of `skopeo copy [options] docker://SRC DST`, `crane copy|cp SRC DST`,
    /// `crane pull SRC FILE`, `regctl image copy SRC DST`: a mirror job pulls it, and a
    /// compromised source is copied into the company's registry.
    fn copy_source(&self, k: usize) -> Option<ShellImage> {
        let word = self.word(k.checked_sub(1)?)?.plain.as_deref()?;
        let program = word.rsplit('/').next().unwrap_or(word);
        let takes = |v: &str| COPIER_VALUE.contains(&v);
        let k = self.skip_options(k, &takes);
        let next = match (program, self.plain(k)?, self.plain(k + 1)) {
            ("skopeo", "copy", _) => k + 1,
            ("crane", "copy" | "cp" | "pull", _) => k + 1,
            ("regctl", "image", Some("copy")) => k + 2,
            _ => return None,
        };
        let at = self.skip_options(next, &takes);
        let w = self.word(at)?;
        let raw = self.script.get(w.inner.0..w.inner.1)?;
        if program != "skopeo" {
            // `regctl`'s `ocidir://` is a local layout, not a registry.
            return operand(w, self.script, self.base).filter(|_| !raw.contains("://"));
        }
        // skopeo names a transport; only `docker://` is a registry.
        raw.starts_with("docker://")
            .then(|| tail_image(w, "docker://".len(), self.script, self.base))
            .flatten()
    }

    /// `docker buildx create … --driver-opt image=REF`: the BuildKit image the builder runs.
    fn buildkit_image(&self, k: usize) -> Vec<ShellImage> {
        let k = self.skip_options(k, &|v| GLOBAL_VALUE.contains(&v));
        if (self.plain(k), self.plain(k + 1)) != (Some("buildx"), Some("create")) {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut j = k + 2;
        while let Some(w) = self.word(j) {
            j += 1;
            let raw = self.script.get(w.inner.0..w.inner.1).unwrap_or("");
            let (opts, offset) = if raw == "--driver-opt" {
                let Some(next) = self.word(j) else { break };
                j += 1;
                (next, 0)
            } else if raw.starts_with("--driver-opt=") {
                (w, "--driver-opt=".len())
            } else {
                continue;
            };
            let text = self.script.get(opts.inner.0..opts.inner.1).unwrap_or("");
            // Options are a comma list: `network=host,image=moby/buildkit:v0.13`.
            let mut at = offset;
            for opt in text.get(offset..).unwrap_or("").split(',') {
                if opt.starts_with("image=") {
                    let end = at + opt.len();
                    found.extend(part_image(
                        opts,
                        at + "image=".len(),
                        end,
                        self.script,
                        self.base,
                    ));
                }
                at += opt.len() + 1;
            }
        }
        found
    }
}

/// The image written in `w` after the first `skip` bytes (`--image=`, `c=`), to its end.
fn tail_image(w: &Word, skip: usize, script: &str, base: usize) -> Option<ShellImage> {
    part_image(w, skip, w.inner.1 - w.inner.0, script, base)
}

/// The image written in bytes `from..to` of `w`'s reported text (inside its quotes).
fn part_image(w: &Word, from: usize, to: usize, script: &str, base: usize) -> Option<ShellImage> {
    let raw = script.get(w.inner.0..w.inner.1)?;
    let whole = from == 0 && to == raw.len();
    let (from, to) = unquoted(raw.get(from..to)?).map_or((from, to), |(a, b)| (from + a, from + b));
    let text = raw.get(from..to)?;
    let span = Span::new(base + w.inner.0 + from, base + w.inner.0 + to);
    if text.contains(['$', '`']) {
        // A `$VAR` or `${{ … }}`; a name may start with `_` (Cloud Build substitutions do).
        let stripped = text.replace(['$', '{', '}', ' ', '"'], "");
        if !looks_like_image(stripped.trim_start_matches('_')) {
            return None;
        }
        // The whole word as written when the image is all of it.
        let shown = match script.get(w.start..w.end) {
            Some(word) if whole => word,
            _ => text,
        };
        return Some(ShellImage {
            span,
            image: Err(format!("shell word {shown} depends on variables")),
            exact: false,
            kind: ShellImageKind::Operand,
        });
    }
    if !text.contains(['"', '\'', '\\']) {
        // The bytes are the value: the span is exactly the reference.
        return looks_like_image(text).then(|| ShellImage {
            span,
            image: Ok(text.to_string()),
            exact: true,
            kind: ShellImageKind::Operand,
        });
    }
    // Quotes or escapes inside the reference (`nginx:"1.27"`): its value is known, its bytes
    // are not one run, so it is reported and not rewritten.
    let image = if text.contains('\\') {
        let value = w.value.as_deref()?;
        value
            .strip_prefix(raw.get(..from)?)
            .filter(|_| to == raw.len())?
            .to_string()
    } else {
        text.replace(['"', '\''], "")
    };
    if !looks_like_image(&image) {
        return None;
    }
    Some(ShellImage {
        span,
        image: Ok(image),
        exact: false,
        kind: ShellImageKind::Operand,
    })
}

/// The part of `text` inside one pair of quotes that encloses all of it (`"$IMG"`, `'nginx:1'`):
/// the quotes only group, so the reference is what they hold.
fn unquoted(text: &str) -> Option<(usize, usize)> {
    let q = text.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let inner = text.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains([q, '\\'])).then(|| (1, text.len() - 1))
}

/// Characters of a reference; rejects paths, options and other shell words.
pub(crate) fn looks_like_image(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 512
        && v.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && v.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b':' | b'@')
        })
        && !v.ends_with([':', '/', '@', '.'])
}

/// An unquoted `$NAME`/`${NAME}` whose name says it holds options (`$DOCKER_OPTS`, `${flags}`).
fn splits_into_flags(raw: &str) -> bool {
    let name = raw
        .trim_start_matches('$')
        .trim_start_matches('{')
        .trim_end_matches('}');
    let lower = name.to_ascii_lowercase();
    is_name(name) && ["flag", "opt", "arg"].iter().any(|h| lower.contains(h))
}

pub(super) fn is_name(n: &str) -> bool {
    n.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The images of Kubernetes manifests that a script writes in heredocs (`cat <<EOF | kubectl
/// apply -f -`, `cat > deploy.yaml <<'EOF'`), read by the Kubernetes extractor with spans in
/// `script`. In a body the shell expands, a reference with `$` or a backquote is unresolved.
pub fn heredoc_manifests(script: &str) -> Vec<ImageOccurrence> {
    if !script.contains("apiVersion") {
        return Vec::new();
    }
    let mut found = Vec::new();
    for h in lex_with_heredocs(script).1 {
        let body = h.body.of(script);
        // Stripped tabs move every offset; a body without leading tabs is read as written.
        if h.strips_tabs && body.lines().any(|l| l.starts_with('\t')) {
            continue;
        }
        if !body.contains("apiVersion:") || !body.contains("kind:") {
            continue;
        }
        let map = ValueMap::verbatim(h.body.start, body.len());
        for occ in crate::extract_embedded(crate::FileKind::Kubernetes, body).images {
            let Some(mut occ) = map.occurrence(occ, script) else {
                continue;
            };
            if h.expands && occ.text.contains(['$', '`']) {
                occ.image = Err(Unresolved::new(format!(
                    "{} is expanded by the shell when the heredoc is written",
                    occ.text
                )));
                occ.exact = false;
            }
            occ.context = Some(match occ.context {
                Some(c) => format!("heredoc manifest, {c}"),
                None => "heredoc manifest".to_string(),
            });
            found.push(occ);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(s: &str) -> Vec<(&str, Result<String, String>, bool)> {
        commands(s, 0)
            .into_iter()
            .map(|f| (f.span.of(s), f.image, f.exact))
            .collect()
    }

    fn ok(s: &str) -> Vec<&str> {
        commands(s, 0)
            .into_iter()
            .filter(|f| f.image.is_ok() && f.exact)
            .map(|f| {
                let t = f.span.of(s);
                assert_eq!(Ok(t.to_string()), f.image);
                t
            })
            .collect()
    }

    #[test]
    fn containerd_and_cri_commands() {
        assert_eq!(
            ok("sudo ctr --namespace diun-e2e image pull docker.io/library/busybox:1.36.1"),
            ["docker.io/library/busybox:1.36.1"]
        );
        assert_eq!(
            ok("ctr -n k8s.io i pull --platform linux/amd64 --plain-http reg:5000/x:1"),
            ["reg:5000/x:1"]
        );
        assert_eq!(
            ok(
                "ctr run --rm -t --label a=b --mount type=bind,src=/a,dst=/b docker.io/library/alpine:3 demo sh"
            ),
            ["docker.io/library/alpine:3"]
        );
        assert_eq!(
            ok("ctr c create docker.io/library/redis:7 r1"),
            ["docker.io/library/redis:7"]
        );
        assert_eq!(
            ok("sudo ctr content fetch --all-platforms docker.io/library/busybox:1.32"),
            ["docker.io/library/busybox:1.32"]
        );
        assert_eq!(
            ok("crictl --runtime-endpoint unix:///run/c.sock pull --creds u:p busybox:1"),
            ["busybox:1"]
        );
        // Listing, tagging, removing: nothing pulled.
        assert!(ok("ctr images ls; ctr images rm x:1; crictl images; ctr tasks ls").is_empty());
    }

    #[test]
    fn kubectl_and_cloud_deployers() {
        assert_eq!(
            ok("kubectl run kics --rm -i --restart=Never --image=checkmarx/kics:latest -- scan"),
            ["checkmarx/kics:latest"]
        );
        assert_eq!(
            ok("kubectl -n ci run t --image busybox:1.36"),
            ["busybox:1.36"]
        );
        assert_eq!(
            ok("kubectl create deployment web --image=nginx:1.27 --image=redis:7"),
            ["nginx:1.27", "redis:7"]
        );
        assert_eq!(
            ok(
                "oc set image deployment/web web=nginx:1.27 sidecar=envoyproxy/envoy:v1.31 --record"
            ),
            ["nginx:1.27", "envoyproxy/envoy:v1.31"]
        );
        assert_eq!(
            ok("kubectl set image deploy web -n x app=ghcr.io/o/a:2"),
            ["ghcr.io/o/a:2"]
        );
        assert_eq!(
            ok("kubectl debug node/n1 -it --image=ubuntu:24.04"),
            ["ubuntu:24.04"]
        );
        assert_eq!(
            ok("gcloud run deploy api --region=us-central1 --image us-docker.pkg.dev/p/r/api:1"),
            ["us-docker.pkg.dev/p/r/api:1"]
        );
        assert_eq!(
            ok("gcloud run jobs create j --image=gcr.io/p/job:2"),
            ["gcr.io/p/job:2"]
        );
        assert_eq!(
            ok("gcloud compute instances create-with-container vm --container-image=nginx:1"),
            ["nginx:1"]
        );
        assert_eq!(
            ok("gke-deploy run --filename=k8s/ --image=gcr.io/google-containers/nginx:latest"),
            ["gcr.io/google-containers/nginx:latest"]
        );
        // Quoted and variable values; images kubectl does not run.
        let got = images(
            "kubectl run a --image=\"$IMG\"; kubectl run b '--image=nginx:1'; kubectl run c --image=\"nginx:2\"",
        );
        assert_eq!(got.len(), 3, "{got:?}");
        // The quotes only group: the span is the variable, or exactly the reference.
        assert_eq!(got[0].0, "$IMG");
        assert!(got[0].1.is_err());
        assert_eq!(got[1], ("nginx:1", Ok("nginx:1".into()), true));
        assert_eq!(got[2], ("nginx:2", Ok("nginx:2".into()), true));
        let got = images("kubectl run d --image=nginx:\"1.27\" --port=80");
        assert_eq!(got, [("nginx:\"1.27\"", Ok("nginx:1.27".into()), false)]);
        assert!(ok("kubectl get pods --image=x:1; gcloud builds submit --tag gcr.io/p/x:1; kubectl apply -f x.yaml").is_empty());
    }

    #[test]
    fn swarm_services_and_registry_copies() {
        assert_eq!(
            ok(
                "docker service create --name web --replicas 3 -p 80:80 --constraint node.role==worker nginx:1.27"
            ),
            ["nginx:1.27"]
        );
        assert_eq!(
            ok("docker service update --with-registry-auth --image ghcr.io/o/app:2 web"),
            ["ghcr.io/o/app:2"]
        );
        assert_eq!(
            ok(
                "skopeo copy --all --src-creds u:p docker://docker.io/checkmarx/kics:latest docker://registry.internal/kics:latest"
            ),
            ["docker.io/checkmarx/kics:latest"]
        );
        assert_eq!(
            ok("crane copy aquasec/trivy:0.50.0 registry.internal/trivy:0.50.0"),
            ["aquasec/trivy:0.50.0"]
        );
        assert_eq!(
            ok("regctl image copy alpine:3 reg.local/alpine:3"),
            ["alpine:3"]
        );
        assert!(
            images("regctl image copy ocidir://output/${{matrix.image}}@${digest} r/x:1")
                .is_empty()
        );
        // Other transports, listings and inspections pull nothing by name here.
        assert!(ok("skopeo copy oci:./layout docker://r/x:1; skopeo inspect docker://a:1; crane ls r/x; docker service ls; docker service rm web").is_empty());
    }

    #[test]
    fn buildkit_images_of_buildx_builders() {
        assert_eq!(
            ok("docker buildx create --use --driver-opt image=moby/buildkit:v0.13.2"),
            ["moby/buildkit:v0.13.2"]
        );
        assert_eq!(
            ok(
                "docker buildx create --driver-opt=network=host,image=moby/buildkit:master --name b"
            ),
            ["moby/buildkit:master"]
        );
        assert!(
            ok("docker buildx create --name builder --use --driver docker-container default")
                .is_empty()
        );
    }

    #[test]
    fn kics_and_trivy_shapes() {
        assert_eq!(
            ok(r#"docker run --rm -v "$PWD:/path" checkmarx/kics:latest scan -p /path"#),
            ["checkmarx/kics:latest"]
        );
        assert_eq!(
            ok("docker run --entrypoint sh aquasec/trivy:0.69.4 -c 'x'"),
            ["aquasec/trivy:0.69.4"]
        );
        assert_eq!(
            ok("docker run --rm -it -e A=1 --env B=2 -w /src --user 1000 alpine:3 ubuntu:22.04"),
            ["alpine:3"]
        );
        assert_eq!(ok("docker run -itd --name=x nginx"), ["nginx"]);
        assert_eq!(ok("docker run -v/a:/b -p8080:80 nginx"), ["nginx"]);
        assert_eq!(ok("docker run -dp 80:80 nginx"), ["nginx"]);
        assert_eq!(ok("docker pull -a -q busybox"), ["busybox"]);
        assert_eq!(
            ok("docker pull --platform linux/amd64 busybox:1"),
            ["busybox:1"]
        );
        assert_eq!(ok("docker container run --rm -- alpine echo"), ["alpine"]);
        assert_eq!(ok("docker image pull ghcr.io/a/b:1"), ["ghcr.io/a/b:1"]);
        assert_eq!(ok("podman create --pod p quay.io/x/y"), ["quay.io/x/y"]);
        assert_eq!(ok("nerdctl run --rm alpine"), ["alpine"]);
        assert_eq!(ok("sudo docker run --rm alpine"), ["alpine"]);
        assert_eq!(ok("sudo -E /usr/bin/docker pull alpine"), ["alpine"]);
        assert_eq!(ok("time docker pull alpine"), ["alpine"]);
        assert_eq!(ok("env A=1 B=2 docker pull alpine"), ["alpine"]);
        assert_eq!(ok("A=1 docker pull alpine"), ["alpine"]);
        assert_eq!(ok("docker --context x run alpine"), ["alpine"]);
        assert_eq!(
            ok("docker run --rm --mount type=bind,src=/a,dst=/b --network host redis:7"),
            ["redis:7"]
        );
    }

    #[test]
    fn separators_and_continuations() {
        let s = "set -e\ndocker pull a:1 && docker run --rm \\\n  -v x:/y \\\n  b:2 run && echo ok; docker create c | tee x\n";
        assert_eq!(ok(s), ["a:1", "b:2", "c"]);
        let s = "docker run --rm \\\r\n  -e X \\\r\n  alpine:3\r\n";
        assert_eq!(ok(s), ["alpine:3"]);
        assert_eq!(ok("if true; then docker pull x; fi"), ["x"]);
        assert_eq!(ok("(docker pull x) || docker pull y"), ["x", "y"]);
        assert_eq!(
            ok("docker pull x > /dev/null 2>&1; docker pull y"),
            ["x", "y"]
        );
    }

    #[test]
    fn not_commands() {
        assert!(images(r#"echo "docker run x""#).is_empty());
        assert!(images("echo docker run x").is_empty());
        assert!(images("# docker run x\n  # docker pull y").is_empty());
        assert!(images("docker build -t x .").is_empty());
        assert!(images("docker push x").is_empty());
        assert!(images("docker run").is_empty());
        assert!(images("docker run --rm").is_empty());
        assert!(images("grep 'docker run' file").is_empty());
        assert!(images("echo $(docker pull x)").is_empty());
        assert!(images("docker images").is_empty());
        assert!(images("docker run ./path").is_empty());
    }

    #[test]
    fn quoted_and_variable_images() {
        assert_eq!(ok(r#"docker run "alpine:3" sh"#), ["alpine:3"]);
        assert_eq!(ok("docker pull 'alpine:3'"), ["alpine:3"]);
        let got = images(r#"docker run --rm "$IMAGE" x"#);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "$IMAGE");
        assert!(got[0].1.is_err() && !got[0].2);
        let got = images("docker run ${{ env.IMAGE }}:1 x");
        assert_eq!(got[0].0, "${{ env.IMAGE }}:1");
        assert!(got[0].1.is_err());
        assert_eq!(
            ok("docker run -d ${volFlags} $DOCKER_OPTS alpine"),
            ["alpine"]
        );
        assert_eq!(ok("docker run -d $X --health-cmd x alpine"), ["alpine"]);
        let got = images("docker pull ${REG}/app:${TAG}");
        assert_eq!(got[0].0, "${REG}/app:${TAG}");
        // Escapes and mixed quoting: reported, not spliceable.
        let got = images(r#"docker pull al"pine""#);
        assert_eq!(got[0].1, Ok("alpine".to_string()));
        assert!(!got[0].2);
    }

    #[test]
    fn base_offsets_and_hostile_input() {
        let f = commands("docker pull x", 10);
        assert_eq!(f[0].span, Span::new(22, 23));
        for s in [
            "\"",
            "'",
            "\\",
            "$(",
            "${",
            "`",
            "docker run \"",
            "docker run '",
            "docker run $(",
            "docker run -v",
            "docker run --volume",
            "é docker run é",
            "docker pull ${{",
        ] {
            for f in commands(s, 0) {
                assert!(s.get(f.span.start..f.span.end).is_some(), "{s}");
            }
        }
        let long = "docker run -v x ".repeat(10_000);
        assert_eq!(commands(&long, 0).len(), 1);
    }

    #[test]
    fn kubernetes_manifests_in_heredocs() {
        let s = "set -e\ncat <<EOF | kubectl apply -f -\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27\n    - name: b\n      image: \"redis:$TAG\"\nEOF\ncat > job.yaml <<'EOF'\napiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: busybox:$V}]\nEOF\ncat <<EOF\nimage: not-a-manifest:1\nEOF\n";
        let got: Vec<_> = heredoc_manifests(s)
            .into_iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(s));
                (o.text, o.image.is_ok(), o.exact)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("nginx:1.27".to_string(), true, true),
                ("redis:$TAG".to_string(), false, false),
                // A quoted delimiter: the body is literal, and a placeholder to the manifest's
                // own reader (`envsubst`), as in any manifest.
                ("busybox:$V".to_string(), false, true),
            ]
        );
        assert!(heredoc_manifests("cat <<-EOF\n\tapiVersion: v1\n\tkind: Pod\nEOF\n").is_empty());
    }

    #[test]
    fn heredoc_bodies_are_not_commands() {
        let s = "cat <<EOF > x\ndocker pull a\nEOF\ndocker pull b\n";
        assert_eq!(ok(s), ["b"]);
        let s = "cat <<-'END' | docker run -i c sh\n\tdocker pull a\n\tEND\ndocker pull d\n";
        assert_eq!(ok(s), ["c", "d"]);
        let s = "cat <<\"A\" <<B\ndocker pull a\nA\ndocker pull b\nB\r\ndocker pull e";
        assert_eq!(ok(s), ["e"]);
        // Here-strings and redirections are not heredocs.
        assert_eq!(ok("cat <<< x; docker pull f"), ["f"]);
        // An unterminated heredoc runs to the end.
        assert!(ok("cat <<EOF\ndocker pull a\n").is_empty());
    }

    #[test]
    fn build_contexts() {
        let s = "docker buildx build --build-context base=docker-image://alpine:3.20 \\\n  --build-context=src=../src --build-context 'k=docker-image://checkmarx/kics:latest' -t app .";
        let got: Vec<_> = commands(s, 0)
            .into_iter()
            .map(|f| (f.span.of(s), f.image, f.exact, f.kind))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "alpine:3.20",
                    Ok("alpine:3.20".to_string()),
                    true,
                    ShellImageKind::BuildContext
                ),
                (
                    "checkmarx/kics:latest",
                    Ok("checkmarx/kics:latest".to_string()),
                    true,
                    ShellImageKind::BuildContext
                ),
            ]
        );
        let s = "docker build --build-context=b=docker-image://nginx:1 .\npodman build --build-context x=docker-image://$IMG .";
        let got = commands(s, 0);
        assert_eq!(got[0].span.of(s), "nginx:1");
        assert!(got[0].exact);
        assert_eq!(got[1].span.of(s), "$IMG");
        assert!(got[1].image.is_err() && !got[1].exact);
        // Not a build: the flag means nothing.
        assert!(
            commands("docker run --build-context a=docker-image://x y", 0)
                .iter()
                .all(|f| f.kind == ShellImageKind::Operand)
        );
        assert!(commands("echo --build-context a=docker-image://x", 0).is_empty());
    }

    #[test]
    fn assignments_and_their_levels() {
        let s = "IMAGE=checkmarx/kics:latest\nexport T=\"aquasec/trivy:0.69.4\"\nR='r:1'\nD=${D:-d:2}\n: \"${E:=e:3}\"\nX=$Y\nP=1 docker pull p\nf() {\n  L=l\n}\nif true; then M=m; fi\nfor F in a b; do :; done\nread -r Q\ncat <<EOF\nH=h\nEOF\n";
        let got: Vec<_> = assignments(s, 0)
            .into_iter()
            .map(|a| {
                (
                    a.name,
                    a.literal.map(|(v, span)| {
                        assert_eq!(span.of(s), v);
                        v
                    }),
                    a.top_level,
                )
            })
            .collect();
        let lit = |n: &str, v: &str, t: bool| (n.to_string(), Some(v.to_string()), t);
        let dynamic = |n: &str, t: bool| (n.to_string(), None, t);
        assert_eq!(
            got,
            [
                lit("IMAGE", "checkmarx/kics:latest", true),
                lit("T", "aquasec/trivy:0.69.4", true),
                lit("R", "r:1", true),
                lit("D", "d:2", true),
                lit("E", "e:3", true),
                dynamic("X", true),
                lit("L", "l", false),
                lit("M", "m", false),
                dynamic("F", false),
                dynamic("Q", true),
            ]
        );
        assert!(assignments("\"\\${{((", 0).is_empty());
    }

    #[test]
    fn variable_names() {
        assert_eq!(variable_name("$A"), Some("A"));
        assert_eq!(variable_name("${A_1}"), Some("A_1"));
        assert_eq!(variable_name("${{ env.IMG }}"), Some("IMG"));
        assert_eq!(variable_name("${{ inputs.IMG }}"), None);
        assert_eq!(variable_name("$A:1"), None);
    }

    #[test]
    fn locally_built_images() {
        let s = "docker build -t app . && docker tag app reg/app:1\ndocker buildx build --tag=x:2 .\ndocker commit -m msg c the_container\n";
        assert_eq!(
            built_images(s),
            ["app", "reg/app:1", "x:2", "the_container"]
        );
        assert_eq!(built_images("docker build -t \"$IMAGE\" ."), ["$IMAGE"]);
        assert!(is_built("app:latest", &built_images(s)));
        assert!(!is_built("app:2", &built_images(s)));
    }
}
