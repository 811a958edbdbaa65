//! Registry pushes judged against each repository's own history.
//!
//! The readers (`tagwarden_evidence::audit`) turn Docker Hub, Harbor, CloudTrail (ECR), GitHub
//! and GitLab audit logs into [`AuditRecord`]s. Here, with no I/O: the records of a baseline
//! period the user chooses build each repository's history ([`baseline`]: who pushed, with
//! which credential, from which networks, at which hours, which tag pointed at which digest,
//! how many tags a release touches at once), and every push after it is compared with that
//! history ([`judge`]). Each finding says what it compared with. The thresholds come from the
//! `[audit]` section of the configuration ([`config`]).

pub mod baseline;
pub mod config;
pub mod judge;
pub mod report;

pub use config::{AuditConfig, ConfigError, Thresholds};
pub use judge::{AuditFinding, Judgement, Period, judge};
pub use tagwarden_evidence::audit::{AuditAction, AuditRecord};
