//! Pinning Terraform, ECS task definitions, Docker Bake, Skaffold and Helmfile files end to end:
//! the real extractor, a plan with a synthetic digest, the rewrite compared byte for byte,
//! `verify_rewrite`, and a second plan with nothing left to do.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions.

mod common;

use common::expect;
use tagwarden_extract::FileKind;
use tagwarden_pin::Skip;

// ---------------------------------------------------------------------------------------------
// Terraform

#[test]
fn terraform_resources_variables_and_scripts() {
    let got = expect(
        FileKind::Terraform,
        r#"variable "api_image" {
  default = "ghcr.io/acme/api:2.4.1"
}

variable "tag" {
  default = "1.27"
}

locals {
  sidecar = "envoyproxy/envoy:v1.31.0"
}

resource "docker_image" "nginx" {
  name = "nginx"
}

resource "kubernetes_deployment_v1" "api" {
  spec {
    template {
      spec {
        container {
          name  = "api"
          image = var.api_image
        }
        container {
          name  = "envoy"
          image = "${local.sidecar}"
        }
        container {
          name  = "web"
          image = "nginx:${var.tag}"
        }
        container {
          name  = "pinned"
          image = "redis:7@%D"
        }
      }
    }
  }
}

resource "aws_instance" "scanner" {
  ami       = "ami-0abc"
  user_data = <<-EOF
    #!/bin/bash
    docker run --rm -v "$PWD:/path" checkmarx/kics:latest scan -p /path
  EOF
}
"#,
        r#"variable "api_image" {
  default = "ghcr.io/acme/api:2.4.1@%D"
}

variable "tag" {
  default = "1.27"
}

locals {
  sidecar = "envoyproxy/envoy:v1.31.0@%D"
}

resource "docker_image" "nginx" {
  name = "nginx:latest@%D"
}

resource "kubernetes_deployment_v1" "api" {
  spec {
    template {
      spec {
        container {
          name  = "api"
          image = var.api_image
        }
        container {
          name  = "envoy"
          image = "${local.sidecar}"
        }
        container {
          name  = "web"
          image = "nginx:${var.tag}"
        }
        container {
          name  = "pinned"
          image = "redis:7@%D"
        }
      }
    }
  }
}

resource "aws_instance" "scanner" {
  ami       = "ami-0abc"
  user_data = <<-EOF
    #!/bin/bash
    docker run --rm -v "$PWD:/path" checkmarx/kics:latest@%D scan -p /path
  EOF
}
"#,
    );
    assert_eq!(got[0], Ok(1), "docker_image");
    assert_eq!(got[1], Ok(1), "var.api_image");
    assert_eq!(got[2], Ok(1), "local.sidecar");
    assert!(
        matches!(&got[3], Err(Skip::ArgNotWholeReference { name }) if name == "var.tag"),
        "{:?}",
        got[3]
    );
    assert_eq!(got[4], Err(Skip::AlreadyPinned));
    assert_eq!(got[5], Ok(1), "kics");
}

#[test]
fn terraform_ecs_nomad_and_cloud_resources() {
    let got = expect(
        FileKind::Terraform,
        "resource \"aws_ecs_task_definition\" \"t\" {\r
  family = \"svc\"\r
  container_definitions = jsonencode([\r
    { name = \"app\", image = \"public.ecr.aws/nginx/nginx:1.27\" },\r
  ])\r
}\r
\r
resource \"aws_batch_job_definition\" \"b\" {\r
  container_properties = <<EOF\r
{ \"image\": \"busybox:1.36\", \"vcpus\": ${var.cpus} }\r
EOF\r
}\r
\r
resource \"nomad_job\" \"cache\" {\r
  jobspec = <<-EOT\r
    job \"cache\" {\r
      group \"g\" {\r
        task \"redis\" {\r
          config {\r
            image = \"redis:7.2\"\r
          }\r
        }\r
      }\r
    }\r
  EOT\r
}\r
\r
resource \"google_cloud_run_v2_service\" \"s\" {\r
  template {\r
    containers {\r
      image = \"gcr.io/cloudrun/hello\"\r
    }\r
  }\r
}\r
\r
resource \"azurerm_linux_web_app\" \"w\" {\r
  site_config {\r
    application_stack {\r
      docker_image     = \"mcr.microsoft.com/appsvc/staticsite\"\r
      docker_image_tag = \"latest\"\r
    }\r
  }\r
}\r
\r
module \"svc\" {\r
  source = \"terraform-aws-modules/ecs/aws//modules/service\"\r
  container_definitions = {\r
    (local.name) = {\r
      image = \"public.ecr.aws/docker/library/httpd:latest\"\r
    }\r
  }\r
}\r
",
        "resource \"aws_ecs_task_definition\" \"t\" {\r
  family = \"svc\"\r
  container_definitions = jsonencode([\r
    { name = \"app\", image = \"public.ecr.aws/nginx/nginx:1.27@%D\" },\r
  ])\r
}\r
\r
resource \"aws_batch_job_definition\" \"b\" {\r
  container_properties = <<EOF\r
{ \"image\": \"busybox:1.36@%D\", \"vcpus\": ${var.cpus} }\r
EOF\r
}\r
\r
resource \"nomad_job\" \"cache\" {\r
  jobspec = <<-EOT\r
    job \"cache\" {\r
      group \"g\" {\r
        task \"redis\" {\r
          config {\r
            image = \"redis:7.2@%D\"\r
          }\r
        }\r
      }\r
    }\r
  EOT\r
}\r
\r
resource \"google_cloud_run_v2_service\" \"s\" {\r
  template {\r
    containers {\r
      image = \"gcr.io/cloudrun/hello:latest@%D\"\r
    }\r
  }\r
}\r
\r
resource \"azurerm_linux_web_app\" \"w\" {\r
  site_config {\r
    application_stack {\r
      docker_image     = \"mcr.microsoft.com/appsvc/staticsite\"\r
      docker_image_tag = \"latest\"\r
    }\r
  }\r
}\r
\r
module \"svc\" {\r
  source = \"terraform-aws-modules/ecs/aws//modules/service\"\r
  container_definitions = {\r
    (local.name) = {\r
      image = \"public.ecr.aws/docker/library/httpd:latest@%D\"\r
    }\r
  }\r
}\r
",
    );
    assert_eq!(&got[..4], &[Ok(1), Ok(1), Ok(1), Ok(1)]);
    // Name and tag in two fields: not rewritten.
    assert!(matches!(got[4], Err(Skip::Unsupported(_))), "{:?}", got[4]);
    assert_eq!(got[5], Ok(1));
}

#[test]
fn terraform_json_and_ecs_task_definition_files() {
    let got = expect(
        FileKind::Terraform,
        r#"{
  "variable": { "image": { "default": "nginx:1.27" } },
  "resource": {
    "docker_container": { "web": { "image": "${var.image}", "name": "web" } },
    "aws_lambda_function": { "f": { "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fn:1" } }
  }
}
"#,
        r#"{
  "variable": { "image": { "default": "nginx:1.27@%D" } },
  "resource": {
    "docker_container": { "web": { "image": "${var.image}", "name": "web" } },
    "aws_lambda_function": { "f": { "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fn:1@%D" } }
  }
}
"#,
    );
    assert_eq!(got, vec![Ok(1), Ok(1)]);
    let got = expect(
        FileKind::EcsTaskDefinition,
        r#"{
  "family": "web",
  "containerDefinitions": [
    { "name": "web", "image": "nginx:1.27", "essential": true },
    { "name": "log", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable" },
    { "name": "tpl", "image": "${IMAGE}" }
  ]
}
"#,
        r#"{
  "family": "web",
  "containerDefinitions": [
    { "name": "web", "image": "nginx:1.27@%D", "essential": true },
    { "name": "log", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable@%D" },
    { "name": "tpl", "image": "${IMAGE}" }
  ]
}
"#,
    );
    assert_eq!(got[..2], [Ok(1), Ok(1)]);
    assert!(matches!(got[2], Err(Skip::Unresolvable(_))));
}

// ---------------------------------------------------------------------------------------------
// Docker Bake

#[test]
fn bake_contexts_args_and_inline_dockerfiles() {
    let got = expect(
        FileKind::Bake,
        r#"variable "BASE" {
  default = "alpine:3.20"
}
variable "TAG" {
  default = "22"
}

target "app" {
  contexts = {
    golang = "docker-image://golang:1.23"
    base   = "docker-image://${BASE}"
    node   = "docker-image://node:${TAG}"
    src    = "../src"
  }
  args = {
    RUNTIME_IMAGE = "gcr.io/distroless/static-debian12"
  }
  tags = ["me/app:latest"]
}

target "docs" {
  dockerfile-inline = <<-EOT
    FROM python:3.12-slim
    RUN pip install mkdocs
  EOT
}
"#,
        r#"variable "BASE" {
  default = "alpine:3.20@%D"
}
variable "TAG" {
  default = "22"
}

target "app" {
  contexts = {
    golang = "docker-image://golang:1.23@%D"
    base   = "docker-image://${BASE}"
    node   = "docker-image://node:${TAG}"
    src    = "../src"
  }
  args = {
    RUNTIME_IMAGE = "gcr.io/distroless/static-debian12:latest@%D"
  }
  tags = ["me/app:latest"]
}

target "docs" {
  dockerfile-inline = <<-EOT
    FROM python:3.12-slim@%D
    RUN pip install mkdocs
  EOT
}
"#,
    );
    assert_eq!(got[..2], [Ok(1), Ok(1)]);
    assert!(matches!(&got[2], Err(Skip::ArgNotWholeReference { name }) if name == "TAG"));
    assert_eq!(got[3..], [Ok(1), Ok(1)]);
}

#[test]
fn bake_json() {
    let got = expect(
        FileKind::Bake,
        r#"{
  "target": {
    "app": {
      "contexts": { "alpine": "docker-image://alpine:3.20" }
    }
  }
}
"#,
        r#"{
  "target": {
    "app": {
      "contexts": { "alpine": "docker-image://alpine:3.20@%D" }
    }
  }
}
"#,
    );
    assert_eq!(got, vec![Ok(1)]);
}

// ---------------------------------------------------------------------------------------------
// Skaffold

#[test]
fn skaffold_images_it_pulls() {
    let got = expect(
        FileKind::Skaffold,
        r#"apiVersion: skaffold/v4beta11
kind: Config
build:
  artifacts:
    - image: shop/web
      docker:
        cacheFrom: [shop/web, "golang:1.23"]
      hooks:
        before:
          - command: ["sh", "-c", "docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path"]
          - command: ['sh', '-c', 'docker run --rm -v "$PWD:/path" checkmarx/kics:latest scan -p /path']
    - image: shop/api
      buildpacks:
        builder: gcr.io/buildpacks/builder:v1
verify:
  - name: smoke
    container:
      name: curl
      image: curlimages/curl
profiles:
  - name: ci
    build:
      artifacts:
        - image: shop/java
          jib:
            fromImage: 'eclipse-temurin:21-jre'
"#,
        r#"apiVersion: skaffold/v4beta11
kind: Config
build:
  artifacts:
    - image: shop/web
      docker:
        cacheFrom: [shop/web, "golang:1.23@%D"]
      hooks:
        before:
          - command: ["sh", "-c", "docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path"]
          - command: ['sh', '-c', 'docker run --rm -v "$PWD:/path" checkmarx/kics:latest@%D scan -p /path']
    - image: shop/api
      buildpacks:
        builder: gcr.io/buildpacks/builder:v1@%D
verify:
  - name: smoke
    container:
      name: curl
      image: curlimages/curl:latest@%D
profiles:
  - name: ci
    build:
      artifacts:
        - image: shop/java
          jib:
            fromImage: 'eclipse-temurin:21-jre@%D'
"#,
    );
    assert_eq!(got, vec![Ok(1); 6]);
}

// ---------------------------------------------------------------------------------------------
// Helmfile

#[test]
fn helmfile_values_set_and_hooks() {
    let got = expect(
        FileKind::Helmfile,
        r#"releases:
  - name: app
    chart: oci://ghcr.io/acme/charts/app
    values:
      - image: ghcr.io/acme/app:2.0.1
        worker:
          image:
            repository: ghcr.io/acme/worker
            tag: "2.0.1"
    set:
      - name: sidecar.image
        value: envoyproxy/envoy:v1.31.0
    hooks:
      - events: ["presync"]
        command: docker
        args: ["run", "--rm", "-v", "$PWD:/path", "checkmarx/kics:latest", "scan", "-p", "/path"]
"#,
        r#"releases:
  - name: app
    chart: oci://ghcr.io/acme/charts/app
    values:
      - image: ghcr.io/acme/app:2.0.1@%D
        worker:
          image:
            repository: ghcr.io/acme/worker
            tag: "2.0.1@%D"
    set:
      - name: sidecar.image
        value: envoyproxy/envoy:v1.31.0@%D
    hooks:
      - events: ["presync"]
        command: docker
        args: ["run", "--rm", "-v", "$PWD:/path", "checkmarx/kics:latest@%D", "scan", "-p", "/path"]
"#,
    );
    // Repository and tag in two fields of a release's values are pinned as Helm values are.
    assert_eq!(got, [Ok(1), Ok(1), Ok(1), Ok(1)]);
}

#[test]
fn nomad_jobspec_file() {
    let got = expect(
        FileKind::Nomad,
        "variable \"tag\" {\n  default = \"1.27\"\n}\njob \"web\" {\n  group \"g\" {\n    task \"nginx\" {\n      driver = \"docker\"\n      config {\n        image = \"nginx:${var.tag}\"\n      }\n    }\n    task \"scan\" {\n      driver = \"podman\"\n      config {\n        image = \"docker.io/checkmarx/kics:latest\"\n      }\n    }\n  }\n}\n",
        "variable \"tag\" {\n  default = \"1.27\"\n}\njob \"web\" {\n  group \"g\" {\n    task \"nginx\" {\n      driver = \"docker\"\n      config {\n        image = \"nginx:${var.tag}\"\n      }\n    }\n    task \"scan\" {\n      driver = \"podman\"\n      config {\n        image = \"docker.io/checkmarx/kics:latest@%D\"\n      }\n    }\n  }\n}\n",
    );
    // The tag comes from a variable inside a larger string: reported, not rewritten.
    assert!(got[0].is_err(), "{got:?}");
    assert_eq!(got[1], Ok(1));
}
