//! The advisories shipped inside the binary, one file each under `advisories/`.

macro_rules! builtin {
    ($($file:literal),* $(,)?) => {
        /// `(path, text)` of every built-in advisory file.
        pub const FILES: &[(&str, &str)] = &[$((
            concat!("advisories/", $file),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../advisories/", $file)),
        )),*];
    };
}

builtin!(
    "kics-2026-04-22.toml",
    "kics-github-action-2026-03-23.toml",
    "trivy-2026-03.toml",
);
