#!/usr/bin/env python3
"""Writes CloudTrail files as AWS delivers them (gzip JSON, {"Records": [...]}, 500 records each):
a year of events for an account, of which one in ten is an ECR PutImage of one of 200
repositories (weekly releases, five tags each, by a release role from one /16), the rest other
services' calls; plus the KICS pattern on 2026-04-22 in one repository (seven tags within a
quarter of an hour, a new long-term key, an unknown address).
Usage: bench/gen_audit.py OUT_DIR --records N"""
import argparse, datetime, gzip, json, os, random

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--records", type=int, default=2_000_000)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
rnd = random.Random(7)
start = datetime.datetime(2025, 4, 22, tzinfo=datetime.timezone.utc)
span = 365 * 86400

def identity(key="ASIAEXAMPLETEMPKEY01"):
    return {"type": "AssumedRole", "principalId": "AROAEXAMPLE:GitHubActions",
            "arn": "arn:aws:sts::123456789012:assumed-role/release/GitHubActions",
            "accountId": "123456789012", "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::123456789012:role/release"}}}

def put(t, repo, tag, n, ip="3.120.%d.%d", key="ASIAEXAMPLETEMPKEY01"):
    ip = ip % (rnd.randrange(256), rnd.randrange(256)) if "%" in ip else ip
    return {"eventVersion": "1.09", "userIdentity": identity(key), "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "ecr.amazonaws.com", "eventName": "PutImage", "awsRegion": "eu-west-1",
            "sourceIPAddress": ip, "userAgent": "aws-sdk-go-v2/1.30.3",
            "requestParameters": {"repositoryName": repo, "imageTag": tag, "registryId": "123456789012"},
            "responseElements": {"image": {"imageId": {"imageDigest": "sha256:%064x" % n, "imageTag": tag}}},
            "eventType": "AwsApiCall", "recipientAccountId": "123456789012"}

def other(t):
    return {"eventVersion": "1.09", "userIdentity": identity(), "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "eu-west-1",
            "sourceIPAddress": "10.0.%d.%d" % (rnd.randrange(256), rnd.randrange(256)),
            "requestParameters": {"bucketName": "logs", "key": "k/%d" % rnd.randrange(10**9)},
            "eventType": "AwsApiCall", "recipientAccountId": "123456789012"}

records, n = [], 0
pushes = a.records // 10
for i in range(pushes):
    week, repo = divmod(i // 5, 200)
    t = start + datetime.timedelta(seconds=(week * 7 * 86400 + 9 * 3600 + repo * 97 + (i % 5) * 40) % span)
    tags = ["v1.%d.%d" % (week, repo), "v1.%d.%d-slim" % (week, repo), "latest", "slim", "stable"]
    records.append(put(t, "team/app%03d" % repo, tags[i % 5], i))
kics = datetime.datetime(2026, 4, 22, 12, 31, tzinfo=datetime.timezone.utc)
for j, tag in enumerate(["latest", "v1.1.0", "v1.1.0-slim", "slim", "stable", "v1.99.0", "v1.99.0-slim"]):
    records.append(put(kics + datetime.timedelta(minutes=2 * j), "team/app000", tag, 10**12 + j,
                       ip="94.154.172.43", key="AKIASTOLENNEWKEY0001"))
while len(records) < a.records:
    records.append(other(start + datetime.timedelta(seconds=rnd.randrange(span))))
records.sort(key=lambda r: r["eventTime"])
for k in range(0, len(records), 500):
    with gzip.open(os.path.join(a.out, "trail-%06d.json.gz" % (k // 500)), "wt", compresslevel=1) as f:
        json.dump({"Records": records[k:k + 500]}, f)
