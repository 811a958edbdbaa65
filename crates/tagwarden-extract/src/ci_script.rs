//! Container commands in scripts that a CI system rewrites before the shell runs them. Two ways,
//! by how the CI's expressions relate to the shell's words:
//! - [`macros`]: expressions are masked in place by words of the same length (CircleCI, Azure
//!   Pipelines), so offsets never move;
//! - [`rewrite`]: the script is rewritten with the values (Tekton `$(params.x)`, Drone and
//!   Woodpecker `${NAME}`), and each operand is mapped back to the bytes of the file.

pub(crate) mod macros;
pub(crate) mod rewrite;
