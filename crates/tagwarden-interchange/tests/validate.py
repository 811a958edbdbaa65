"""Checks documents with the reference tools: tagwarden's exports (tests/export.rs,
tests/hunt_export.rs) and the example documents of testdata/formats (tests/examples.rs).

Usage: validate.py WORKDIR [SIGMA_SCHEMA] (the schema is needed when WORKDIR has a sigma folder)

WORKDIR holds stix/*.json, misp/*.json, sigma/<advisory>/*.yml (each folder optional) and
expectations.json
({"sigma": {"<advisory>": ["value the converted queries must mention", ...]},
  "sigma_allowed_issues": {"<advisory>": ["EscapedWildcardIssue", ...]},
  "misp_weak": {"<file>": ["value whose attribute must have to_ids false", ...]},
  "schemas": {"folder": "<folder of official JSON schemas>",
              "documents": {"<document path>": "<schema file in that folder>", ...}}}).
Schemas refer to each other by their $id (CSAF to FIRST's CVSS): every schema of the folder
is registered, so nothing is fetched.
Prints one line per problem and exits 1 if there is any.
"""

import json
import pathlib
import re
import subprocess
import sys

import warnings

import jsonschema
import pymisp
import stix2validator
import yaml
from pymisp import MISPEvent

# PyMISP no longer validates events against a schema (its bundled one predates objects), so the
# object attributes are checked against the misp-objects templates it ships.
TEMPLATES = {
    name: json.loads(
        (pathlib.Path(pymisp.__file__).parent / "data" / "misp-objects" / "objects" / name / "definition.json").read_text()
    )
    for name in ("container-image", "file")
}

# stix2-validator's check 302 wants a hash of every external reference that has a URL; tagwarden
# cites web pages it never downloaded, so it has no hash to give.
ALLOWED_STIX_WARNINGS = {"302"}

problems = []


def problem(msg):
    problems.append(msg)
    print("PROBLEM: " + msg)


def check_stix(path):
    results = stix2validator.validate_file(str(path), stix2validator.ValidationOptions(version="2.1"))
    if not results.is_valid:
        problem(f"{path.name}: stix2-validator says invalid")
    for obj in results.object_results:
        for e in obj.errors:
            problem(f"{path.name}: STIX error: {e}")
        for w in obj.warnings:
            text = str(w)
            if not any(f"{{{code}}}" in text for code in ALLOWED_STIX_WARNINGS):
                problem(f"{path.name}: STIX warning: {text}")
    check_stix_refs(path)
    print(f"stix2-validator {stix2validator.__version__ if hasattr(stix2validator, '__version__') else ''}: {path.name} checked")


def check_stix_refs(path):
    """Every *_ref / *_refs value names an object of the bundle (stix2-validator does not look):
    a sighting must point at an indicator the bundle carries. STIX's predefined TLP markings are
    known without being in the bundle."""
    objects = json.loads(path.read_text())["objects"]
    ids = {o["id"] for o in objects}
    for o in objects:
        for key, value in o.items():
            if not (key.endswith("_ref") or key.endswith("_refs")):
                continue
            for ref in value if isinstance(value, list) else [value]:
                if ref not in ids and not (key == "object_marking_refs" and ref in TLP_MARKINGS):
                    problem(f"{path.name}: {o['id']} {key} names {ref}, which is not in the bundle")


# STIX 2.1 section 7.2.1.4: the predefined TLP marking definitions.
TLP_MARKINGS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}


def check_misp(path, weak_values):
    text = path.read_text()
    doc = json.loads(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event = MISPEvent()
        event.load(text)
        again = MISPEvent()
        again.load(event.to_json())
    for w in caught:
        problem(f"{path.name}: PyMISP warning: {w.message}")
    original = doc["Event"]

    def attrs(ev):
        return sorted((a.uuid, a.type, a.category, str(a.value), bool(a.to_ids)) for a in ev.attributes)

    want = sorted(
        (a["uuid"], a["type"], a["category"], a["value"], a["to_ids"]) for a in original["Attribute"]
    )
    for name, ev in (("load", event), ("round trip", again)):
        if attrs(ev) != want:
            problem(f"{path.name}: MISP attributes changed on {name}")
        if len(ev.objects) != len(original["Object"]):
            problem(f"{path.name}: MISP objects lost on {name}")
        if str(ev.uuid) != original["uuid"]:
            problem(f"{path.name}: MISP event uuid changed on {name}")
        for obj in ev.objects:
            template = TEMPLATES.get(obj.name)
            if template is None:
                problem(f"{path.name}: unexpected object {obj.name}")
                continue
            if obj.template_uuid != template["uuid"]:
                problem(f"{path.name}: {obj.name} template uuid {obj.template_uuid}")
            if str(obj.template_version) != str(template["version"]):
                problem(f"{path.name}: {obj.name} template version {obj.template_version}, PyMISP ships {template['version']}")
            relations = [a.object_relation for a in obj.attributes]
            if not any(r in relations for r in template["requiredOneOf"]):
                problem(f"{path.name}: {obj.name} without {template['requiredOneOf']}")
            for a in obj.attributes:
                spec = template["attributes"].get(a.object_relation)
                if spec is None:
                    problem(f"{path.name}: {obj.name} has no relation {a.object_relation}")
                elif a.type != spec["misp-attribute"] and not (a.object_relation == "digest" and a.type == "sha512"):
                    problem(f"{path.name}: {a.object_relation} is {a.type}, template says {spec['misp-attribute']}")
                elif relations.count(a.object_relation) > 1 and not spec.get("multiple"):
                    problem(f"{path.name}: relation {a.object_relation} repeated")
    for a in again.attributes:
        if str(a.value) in weak_values and a.to_ids:
            problem(f"{path.name}: weak value {a.value} has to_ids true")
    # Sightings (hunt events) survive the load and the round trip, in MISP's shape.
    want_sightings = {
        a["uuid"]: sorted((s["uuid"], s["type"], s["date_sighting"], s["source"]) for s in a.get("Sighting", []))
        for a in original["Attribute"]
    }
    for a in original["Attribute"]:
        for s in a.get("Sighting", []):
            if s["type"] not in ("0", "1", "2") or not s["date_sighting"].isdigit():
                problem(f"{path.name}: sighting {s['uuid']} is not in MISP's shape")
    for name, ev in (("load", event), ("round trip", again)):
        got = {
            str(a.uuid): sorted((str(s.uuid), str(s.type), str(s.date_sighting), str(s.source)) for s in a.sightings)
            for a in ev.attributes
        }
        if got != want_sightings:
            problem(f"{path.name}: MISP sightings changed on {name}")
    print(f"pymisp: {path.name} loaded, round trip kept {len(want)} attributes and {len(original['Object'])} objects")


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    return out.returncode, out.stdout + out.stderr


def check_sigma(directory, schema, expected, allowed_issues):
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for rule_file in sorted(directory.glob("*.yml")):
        rule = yaml.safe_load(rule_file.read_text())
        for err in validator.iter_errors(rule):
            problem(f"{rule_file.name}: Sigma schema: {err.message} at {list(err.absolute_path)}")
    sigma = str(pathlib.Path(sys.executable).parent / "sigma")
    code, out = run([sigma, "check", str(directory)])
    issues = set(re.findall(r"^issue=(\w+)", out, re.MULTILINE))
    if code != 0 or "Found 0 errors, 0 condition errors" not in out or issues - set(allowed_issues):
        problem(f"sigma check {directory.name}: {out.strip()}")
    # Splunk's only data-model pipeline (CIM) has no DNS/proxy mapping: plain SPL on Sigma field
    # names. Elasticsearch gets the ECS mapping of Zeek logs.
    targets = [
        ("splunk", ["--without-pipeline"]),
        ("lucene", ["-p", "ecs_zeek_beats"]),
        ("eql", ["-p", "ecs_zeek_beats"]),
    ]
    for target, pipeline in targets:
        code, out = run([sigma, "convert", "-t", target, *pipeline, str(directory)])
        if code != 0:
            problem(f"sigma convert -t {target} {directory.name}: {out.strip()}")
            continue
        plain = out.replace("\\", "")
        for value in expected:
            if value not in plain:
                problem(f"sigma convert -t {target} {directory.name}: query does not mention {value!r}")
        print(f"sigma convert -t {target} {directory.name}: ok")


def check_schemas(spec):
    """Each document against its official schema, references resolved within the folder."""
    from referencing import Registry, Resource
    from referencing.jsonschema import specification_with

    folder = pathlib.Path(spec["folder"])
    registry = Registry()
    for path in sorted(folder.rglob("*.json")):
        schema = json.loads(path.read_text())
        uri = schema.get("$id") or schema.get("id")
        if uri:
            default = specification_with(schema.get("$schema", "https://json-schema.org/draft/2020-12/schema"))
            registry = registry.with_resource(uri, Resource.from_contents(schema, default_specification=default))
    for document, schema_name in sorted(spec["documents"].items()):
        schema = json.loads((folder / schema_name).read_text())
        cls = jsonschema.validators.validator_for(schema)
        validator = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
        instance = json.loads(pathlib.Path(document).read_text())
        errors = list(validator.iter_errors(instance))
        for err in errors:
            problem(f"{pathlib.Path(document).name}: {schema_name}: {err.message} at {list(err.absolute_path)}")
        if not errors:
            print(f"jsonschema: {pathlib.Path(document).name} valid against {schema_name}")


def main():
    work = pathlib.Path(sys.argv[1])
    schema = json.loads(pathlib.Path(sys.argv[2]).read_text()) if len(sys.argv) > 2 else None
    expectations_file = work / "expectations.json"
    expectations = json.loads(expectations_file.read_text()) if expectations_file.is_file() else {}
    if "schemas" in expectations:
        check_schemas(expectations["schemas"])
    for path in sorted((work / "stix").glob("*.json")):
        check_stix(path)
    for path in sorted((work / "misp").glob("*.json")):
        check_misp(path, set(expectations.get("misp_weak", {}).get(path.name, [])))
    sigma_dirs = sorted((work / "sigma").iterdir()) if (work / "sigma").is_dir() else []
    if sigma_dirs and schema is None:
        problem("sigma rules to check but no SIGMA_SCHEMA given")
        sigma_dirs = []
    for directory in sigma_dirs:
        check_sigma(
            directory,
            schema,
            expectations.get("sigma", {}).get(directory.name, []),
            expectations.get("sigma_allowed_issues", {}).get(directory.name, []),
        )
    if problems:
        print(f"{len(problems)} problem(s)")
        sys.exit(1)
    print("all interchange checks passed")


if __name__ == "__main__":
    main()
