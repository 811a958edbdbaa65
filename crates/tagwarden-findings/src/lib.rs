//! Findings and output formats. TODO(helper).
