"""The chart's TLS (issue 21), rendered by the real Helm: by default one generated CA signs the
task API's and the API's certificates (names the clients use, TLS Secrets with ca.crt), the
operator serves HTTPS and mounts them, the API gets --tls-cert; cert-manager replaces the
generated Secrets with Certificates; plain HTTP only when tls.enabled=false says so. The API
server's addresses reach the operator, and a default egress rule without ports is refused.
Skipped without the Helm binary, like test_chart_render.py."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

from cryptography import x509

_spec = importlib.util.spec_from_file_location("chart_render", Path(__file__).with_name("test_chart_render.py"))
assert _spec is not None and _spec.loader is not None
_render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_render)
render, find, env_of = _render.render, _render.find, _render.env_of


def _cert(secret: dict, key: str = "tls.crt") -> x509.Certificate:
    return x509.load_pem_x509_certificate(base64.b64decode(secret["data"][key]))


def test_one_generated_ca_signs_both_certificates_for_the_names_clients_use():
    docs = render()
    ca, task_api, api = (find(docs, "Secret", f"updraft-{n}")[0] for n in ("tls-ca", "task-api-tls", "api-tls"))
    ca_cert = _cert(ca)
    for secret in (task_api, api):
        assert secret["type"] == "kubernetes.io/tls"
        assert _cert(secret, "ca.crt") == ca_cert
        cert = _cert(secret)
        cert.verify_directly_issued_by(ca_cert)
    names = _cert(task_api).extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)
    assert "updraft-operator.updraft-system.svc" in names
    names = _cert(api).extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)
    assert {"updraft-api.updraft-system.svc", "localhost"} <= set(names)


def test_the_operator_serves_https_and_the_api_gets_its_certificate():
    docs = render("--set", "tls.apiDnsNames[0]=updraft.example.com")
    op = find(docs, "Deployment", "updraft-operator")[0]
    env = env_of(op)
    assert env["UPDRAFT_TASK_API_URL"].startswith("https://")
    assert env["UPDRAFT_TASK_API_CA_FILE"] == "/etc/updraft/task-api-tls/ca.crt"
    assert "UPDRAFT_TASK_API_PLAIN_HTTP" not in env
    assert {"name": "task-api-tls", "secret": {"secretName": "updraft-task-api-tls"}} in op["spec"]["template"]["spec"]["volumes"]
    api = find(docs, "Deployment", "updraft-api")[0]["spec"]["template"]["spec"]
    assert "--tls-cert=/etc/updraft/tls/tls.crt" in api["containers"][0]["args"]
    assert "--plain-http" not in api["containers"][0]["args"]
    names = _cert(find(docs, "Secret", "updraft-api-tls")[0]).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "updraft.example.com" in names


def test_cert_manager_makes_the_certificates_instead():
    docs = render("--set", "tls.certManager.enabled=true",
                  "--set", "tls.certManager.apiIssuerRef.kind=ClusterIssuer", "--set", "tls.certManager.apiIssuerRef.name=corp")
    assert not find(docs, "Secret", "updraft-task-api-tls") and not find(docs, "Secret", "updraft-tls-ca")
    certs = {d["metadata"]["name"]: d["spec"] for d in find(docs, "Certificate")}
    assert certs["updraft-ca"]["isCA"] is True
    assert certs["updraft-task-api"]["secretName"] == "updraft-task-api-tls"
    assert certs["updraft-task-api"]["issuerRef"] == {"kind": "Issuer", "name": "updraft-ca"}
    assert certs["updraft-api"]["issuerRef"] == {"kind": "ClusterIssuer", "name": "corp"}
    assert {d["metadata"]["name"] for d in find(docs, "Issuer")} == {"updraft-selfsigned", "updraft-ca"}


def test_plain_http_only_when_said():
    docs = render("--set", "tls.enabled=false")
    assert not find(docs, "Secret", "updraft-task-api-tls") and not find(docs, "Certificate")
    env = env_of(find(docs, "Deployment", "updraft-operator")[0])
    assert env["UPDRAFT_TASK_API_URL"].startswith("http://") and env["UPDRAFT_TASK_API_PLAIN_HTTP"] == "true"
    assert "--plain-http" in find(docs, "Deployment", "updraft-api")[0]["spec"]["template"]["spec"]["containers"][0]["args"]


def test_the_api_servers_addresses_reach_the_operator_and_default_rules_name_ports():
    env = env_of(find(render("--set", "runner.apiServer.cidrs[0]=10.0.0.0/28"), "Deployment", "updraft-operator")[0])
    assert json.loads(env["UPDRAFT_APISERVER_CIDRS"]) == ["10.0.0.0/28"]
    assert json.loads(env["UPDRAFT_APISERVER_PORTS"]) == [443, 6443]
    assert "ports" in render("--set", "runner.defaultEgress[0].cidr=10.0.0.0/8", ok=False)
