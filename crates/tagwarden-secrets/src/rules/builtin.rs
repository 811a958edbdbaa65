//! The rules shipped inside the binary, one file per provider under the crate's `rules/`.

macro_rules! builtin {
    ($($file:literal),* $(,)?) => {
        /// `(path, text)` of every built-in rule file.
        pub const FILES: &[(&str, &str)] = &[$((
            concat!("rules/", $file),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $file)),
        )),*];
    };
}

builtin!(
    "aws.toml",
    "gcp.toml",
    "azure.toml",
    "github.toml",
    "gitlab.toml",
    "slack.toml",
    "npm.toml",
    "pypi.toml",
    "docker.toml",
    "stripe.toml",
    "twilio.toml",
    "sendgrid.toml",
    "kubernetes.toml",
    "terraform.toml",
    "private-keys.toml",
    "tokens.toml",
    "urls.toml",
    "config-files.toml",
    "generic.toml",
    "ci.toml",
);
