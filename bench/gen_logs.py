#!/usr/bin/env python3
"""Generates network logs for the hunt benchmark: Zeek dns/http/ssl/conn (TSV), Squid native and
nginx combined access logs and Route 53 resolver JSON, plain and gzip, plus an indicator feed of
10,000 domains and 1,000 IPs (none of which the traffic contains, so every tool reads everything).

Usage: gen_logs.py OUT_DIR [--mb 2048] [--seed S]
A few planted lines contact the KICS indicators so that both tools have something to find.
"""
import argparse, gzip, os, random

ZEEK_HEAD = {
 "dns": "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected",
 "http": "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\tstatus_code\tstatus_msg\tinfo_code\tinfo_msg\ttags\tusername\tpassword\tproxied\torig_fuids\torig_filenames\torig_mime_types\tresp_fuids\tresp_filenames\tresp_mime_types",
 "ssl": "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\tserver_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history\tcert_chain_fps\tclient_cert_chain_fps\tsni_matches_cert",
 "conn": "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents",
}
WORDS = "api cdn static img auth login shop news mail data app www edge cache metrics logs sso".split()
TLDS = "com net org io dev cloud example".split()
UAS = ["Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0", "curl/8.5.0", "Go-http-client/1.1", "python-requests/2.32.3", "Docker-Client/27.1.1 (linux)"]

def host(r): return "%s.%s%d.%s" % (r.choice(WORDS), r.choice(WORDS), r.randint(0, 999), r.choice(TLDS))
def ip(r): return "%d.%d.%d.%d" % (r.randint(11, 223), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))
def uid(r): return "C" + "".join(r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(17))

def zeek_line(kind, r, ts):
    o, d = "10.0.%d.%d" % (r.randint(0, 9), r.randint(1, 254)), ip(r)
    if kind == "dns":
        return "%.6f\t%s\t%s\t%d\t10.0.0.2\t53\tudp\t%d\t0.01\t%s\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t%s\t300.000000\tF" % (ts, uid(r), o, r.randint(1024, 65535), r.randint(0, 65535), host(r), d)
    if kind == "http":
        h = host(r)
        return "%.6f\t%s\t%s\t%d\t%s\t80\t1\tGET\t%s\t/%s/%d\t-\t1.1\t%s\t-\t0\t%d\t200\tOK\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-\t-\t-\t-" % (ts, uid(r), o, r.randint(1024, 65535), d, h, r.choice(WORDS), r.randint(0, 99999), r.choice(UAS), r.randint(0, 99999))
    if kind == "ssl":
        return "%.6f\t%s\t%s\t%d\t%s\t443\tTLSv13\tTLS_AES_128_GCM_SHA256\tx25519\t%s\tF\t-\t-\tT\tCsiI\t-\t-\t-" % (ts, uid(r), o, r.randint(1024, 65535), d, host(r))
    return "%.6f\t%s\t%s\t%d\t%s\t443\ttcp\tssl\t1.3\t%d\t%d\tSF\tT\tF\t0\tShADadFf\t41\t50347\t22\t6280\t-" % (ts, uid(r), o, r.randint(1024, 65535), d, r.randint(0, 99999), r.randint(0, 99999))

def squid_line(r, ts):
    return "%.3f %6d 10.0.%d.%d TCP_TUNNEL/200 %d CONNECT %s:443 - HIER_DIRECT/%s -" % (ts, r.randint(1, 9999), r.randint(0, 9), r.randint(1, 254), r.randint(100, 99999), host(r), ip(r))

def nginx_line(r, ts):
    return '10.0.%d.%d - - [22/Apr/2026:%02d:%02d:%02d +0000] "GET https://%s/%s HTTP/1.1" 200 %d "-" "%s"' % (r.randint(0, 9), r.randint(1, 254), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), host(r), r.choice(WORDS), r.randint(0, 99999), r.choice(UAS))

def route53_line(r, ts):
    return '{"version":"1.100000","account_id":"123456789012","region":"us-east-1","vpc_id":"vpc-0abc","query_timestamp":"2026-04-22T12:%02d:%02dZ","query_name":"%s.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"%s","Type":"A","Class":"IN"}],"srcaddr":"10.0.5.%d","srcport":"48213","transport":"UDP"}' % (r.randint(0, 59), r.randint(0, 59), host(r), ip(r), r.randint(1, 254))

PLANTED = {
    "dns": "1776861361.512345\tCkD3sA1bXyZ9pQ2rT4\t10.0.5.23\t48213\t10.0.0.2\t53\tudp\t41235\t0.012031\taudit.checkmarx.cx\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t94.154.172.43\t300.000000\tF",
    "squid": "1776861362.114   1350 10.0.5.23 TCP_TUNNEL/200 48211 CONNECT audit.checkmarx.cx:443 - HIER_DIRECT/94.154.172.43 -",
}

def main():
    a = argparse.ArgumentParser(); a.add_argument("out"); a.add_argument("--mb", type=int, default=2048); a.add_argument("--seed", type=int, default=7)
    a = a.parse_args(); r = random.Random(a.seed); os.makedirs(a.out, exist_ok=True)
    kinds = ["dns", "http", "ssl", "conn", "squid", "nginx", "route53"]
    per_file = 64 * 1024 * 1024
    total, i = 0, 0
    while total < a.mb * 1024 * 1024:
        kind = kinds[i % len(kinds)]
        compress = i % 2 == 1
        name = "%s-%03d.log%s" % (kind, i, ".gz" if compress else "")
        lines, size, ts = [], 0, 1776860000.0 + i * 3600
        if kind in ZEEK_HEAD:
            lines += ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\t" + kind, "#open\t2026-04-22-12-00-00", "#fields\t" + ZEEK_HEAD[kind], "#types\t-"]
        while size < per_file:
            ts += r.random()
            if kind in ZEEK_HEAD: line = zeek_line(kind, r, ts)
            elif kind == "squid": line = squid_line(r, ts)
            elif kind == "nginx": line = nginx_line(r, ts)
            else: line = route53_line(r, ts)
            lines.append(line); size += len(line) + 1
            if len(lines) == 50000 and kind in PLANTED: lines.append(PLANTED[kind])
        data = ("\n".join(lines) + "\n").encode()
        path = os.path.join(a.out, name)
        if compress:
            with gzip.open(path, "wb", compresslevel=1) as f: f.write(data)
        else:
            with open(path, "wb") as f: f.write(data)
        total += len(data); i += 1
    with open(os.path.join(a.out, "..", "feed-10k.txt"), "w") as f:
        for k in range(10000): f.write("bad%05d.%s.example-threat.net\n" % (k, r.choice(WORDS)))
        for k in range(1000): f.write("203.%d.%d.%d\n" % (r.randint(0, 255), r.randint(0, 255), r.randint(1, 254)))
    print("generated %.2f GB in %d files under %s" % (total / 2**30, i, a.out))

if __name__ == "__main__":
    main()
