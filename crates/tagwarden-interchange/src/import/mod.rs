//! Reading shared formats into tagwarden advisories.
