//! TODO(helper): evidence source.
