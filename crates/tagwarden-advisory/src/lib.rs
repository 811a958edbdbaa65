//! Advisories as data. TODO(helper).
