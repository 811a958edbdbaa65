//! Placeholder syntax in values: text a tool replaces before the value is used (`${X}`, `$(X)`,
//! `<X>`, `ko://…`, template actions), so the value cannot be known offline.

/// Why a reference holding a template action (Helm/Go, Mustache) is unresolved.
pub(crate) const TEMPLATE_REASON: &str =
    "template expression ({{ … }}): the value is set when the template is rendered";

/// Why a value written with placeholder syntax cannot be known offline, if it has any.
pub(crate) fn placeholder_reason(value: &str) -> Option<String> {
    if value.contains("://") {
        // `ko://importpath` and similar: a build tool replaces it with the image it publishes.
        Some(format!(
            "{value:?} is a build-tool reference replaced by the image it builds"
        ))
    } else if value.contains(['<', '>']) {
        Some(format!(
            "{value:?} holds a <placeholder> substituted before deploy"
        ))
    } else if value.contains("$(") {
        // Tekton `$(params.x)` and Kubernetes `$(VAR)` are substituted by the controller.
        Some(format!(
            "{value:?} holds a $(…) parameter substituted at run time"
        ))
    } else if value.contains('$') {
        Some(format!(
            "{value:?} holds a variable substituted before deploy (envsubst or a CI step)"
        ))
    } else {
        None
    }
}
