//! AWS CloudTrail records of Amazon ECR calls, in the files CloudTrail delivers
//! (`{"Records": [...]}`, gzip) or as JSON lines: `eventSource` (`ecr.amazonaws.com`,
//! `ecr-public.amazonaws.com`), `eventName` (`PutImage`, `BatchDeleteImage`), `eventTime`,
//! `awsRegion`, `recipientAccountId`, `sourceIPAddress`, `userAgent`, `errorCode`,
//! `userIdentity` (`type`, `arn`, `principalId`, `accessKeyId`,
//! `sessionContext.sessionIssuer.arn`), `requestParameters` (`repositoryName`, `registryId`,
//! `imageTag`, `imageDigest`, `imageIds[]`), `responseElements.image.imageId.imageDigest`.
//!
//! Sources: AWS CloudTrail User Guide, "CloudTrail record contents" and "userIdentity
//! element"; Amazon ECR User Guide, "Logging Amazon ECR actions with AWS CloudTrail"; ECR API
//! reference for `PutImage` and `BatchDeleteImage`.
//!
//! A call that failed (`errorCode`) pushed nothing and is skipped. The actor of an assumed
//! role is the role (its session name changes every run); its access key is temporary
//! (`ASIA…`), so only long-term keys (`AKIA…`) count as tokens.

use serde_json::{Map, Value};

use super::{AuditAction, Fields, Mapped, digest, object, text, time};

pub(super) fn map(obj: &Map<String, Value>) -> Mapped {
    let source = text(obj, &["eventSource"]).unwrap_or("");
    if !source.starts_with("ecr") {
        return Ok(Vec::new());
    }
    let action = match text(obj, &["eventName"]) {
        Some("PutImage") => AuditAction::Push,
        Some("BatchDeleteImage") => AuditAction::Delete,
        _ => return Ok(Vec::new()),
    };
    if text(obj, &["errorCode"]).is_some() {
        return Ok(Vec::new());
    }
    let empty = Map::new();
    let request = object(obj, "requestParameters").unwrap_or(&empty);
    let Some(repository) = text(request, &["repositoryName"]) else {
        return Err("an ECR call without `requestParameters.repositoryName`".into());
    };
    let identity = object(obj, "userIdentity").unwrap_or(&empty);
    let role = object(identity, "sessionContext")
        .and_then(|s| object(s, "sessionIssuer"))
        .and_then(|i| text(i, &["arn"]));
    let actor = role
        .or_else(|| text(identity, &["arn", "principalId", "userName"]))
        .map(str::to_string);
    let token = text(identity, &["accessKeyId"])
        .filter(|k| k.starts_with("AKIA"))
        .map(str::to_string);
    let account = text(request, &["registryId"]).or_else(|| text(obj, &["recipientAccountId"]));
    let registry = match (account, text(obj, &["awsRegion"])) {
        _ if source.starts_with("ecr-public") => Some("public.ecr.aws".to_string()),
        (Some(a), Some(r)) => Some(format!("{a}.dkr.ecr.{r}.amazonaws.com")),
        _ => None,
    };
    let base = Fields {
        action: Some(action),
        registry,
        repository: repository.to_string(),
        actor,
        token,
        address: text(obj, &["sourceIPAddress"]).map(str::to_string),
        user_agent: text(obj, &["userAgent"]).map(str::to_string),
        time: time(obj.get("eventTime")),
        ..Fields::default()
    };
    match action {
        AuditAction::Push => {
            let response = object(obj, "responseElements")
                .and_then(|r| object(r, "image"))
                .and_then(|i| object(i, "imageId"))
                .and_then(|i| text(i, &["imageDigest"]));
            let mut problem = None;
            Ok(vec![Fields {
                tag: text(request, &["imageTag"]).map(str::to_string),
                digest: digest(text(request, &["imageDigest"]).or(response), &mut problem),
                problem: problem.clone(),
                ..base
            }])
        }
        AuditAction::Delete => {
            let ids = request
                .get("imageIds")
                .and_then(Value::as_array)
                .ok_or("a BatchDeleteImage call without `requestParameters.imageIds`")?;
            ids.iter()
                .filter_map(Value::as_object)
                .map(|id| {
                    let mut problem = None;
                    Ok(Fields {
                        tag: text(id, &["imageTag"]).map(str::to_string),
                        digest: digest(text(id, &["imageDigest"]), &mut problem),
                        problem: problem.clone(),
                        ..base.clone()
                    })
                })
                .collect()
        }
    }
}
