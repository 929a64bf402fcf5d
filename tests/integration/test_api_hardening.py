"""Issue 21 against the real parts: `updraft api serve` as a process over the local cluster's
apiserver, driven by boto3 over HTTPS (a certificate from a test CA, verified with `verify=` as
AWS_CA_BUNDLE would). The partition bypass (a caller denied `workflow/prod-*` deleting prod-etl by
naming it `arn:aws-us-gov:...`), PassRole, a body over the limit, and a client that does not
trust the CA.

No operator runs: the workflow is made directly as a custom resource, and every call here is
decided before the operator would matter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from operator_harness import _free_port

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/certs.py
from certs import make_ca, write_ca, write_server_cert  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(120)]

REGION, ACCOUNT = "us-east-1", "123456789012"
DENIED_PROD = ("AKIADENIEDPROD000001", "denied-secret")
NO_PASS = ("AKIANOPASSROLE000001", "nopass-secret")
CREDENTIALS = {
    DENIED_PROD[0]: {"secretAccessKey": DENIED_PROD[1], "principal": f"arn:aws:iam::{ACCOUNT}:user/ops", "policies": [{
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "airflow-serverless:DeleteWorkflow",
             "Resource": f"arn:aws:airflow-serverless:{REGION}:{ACCOUNT}:workflow/prod-*"}]}]},
    NO_PASS[0]: {"secretAccessKey": NO_PASS[1], "principal": f"arn:aws:iam::{ACCOUNT}:user/dev", "policies": [{
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "airflow-serverless:*", "Resource": "*"}]}]},
}


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    ca = make_ca()
    write_server_cert(ca, tmp_path / "tls")
    return write_ca(ca, tmp_path / "ca.crt")


@pytest.fixture
def api_url(kubeconfig: str, namespace: str, tmp_path: Path, ca_file: Path) -> Any:
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps(CREDENTIALS))
    port = _free_port()
    log = tmp_path / "api.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "updraft.cli", "api", "serve", "--port", str(port), "--host", "127.0.0.1",
         "--region", REGION, "--account-id", ACCOUNT, "--credentials", str(creds), "--namespace", namespace,
         "--kubeconfig", kubeconfig, "--metrics-port", "0",
         "--tls-cert", str(tmp_path / "tls" / "tls.crt"), "--tls-key", str(tmp_path / "tls" / "tls.key")],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=open(log, "wb"), start_new_session=True)
    url = f"https://localhost:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1, context=_trusting(ca_file)).read()  # noqa: S310
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the API did not start:\n{log.read_text()}") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


def _trusting(ca_file: Path) -> Any:
    import ssl

    return ssl.create_default_context(cafile=str(ca_file))


CA: list[Path] = []  # the current test's CA file (set by the `trusted` fixture)


@pytest.fixture(autouse=True)
def trusted(ca_file: Path) -> Any:
    CA[:] = [ca_file]
    yield
    CA.clear()


def _client(url: str, key: tuple[str, str], verify: Any = None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("mwaa-serverless", endpoint_url=url, region_name=REGION, aws_access_key_id=key[0],
                        aws_secret_access_key=key[1], config=Config(retries={"max_attempts": 1}),
                        verify=str(CA[0]) if verify is None else verify)


async def test_a_deny_cannot_be_sidestepped_through_another_partition(api_url: str, api: Any, namespace: str) -> None:
    from botocore.exceptions import ClientError

    from updraft import arns
    from updraft.k8s.resources import Kube

    kube = Kube(api)
    created = await kube.create({"apiVersion": "updraft.dev/v1alpha1", "kind": "Workflow",
                                 "metadata": {"name": "prod-etl"},
                                 "spec": {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/etl",
                                          "definitionS3Location": {"bucket": "defs", "objectKey": "etl.yaml"}}},
                                namespace)
    arn = arns.arn_of(created.body, REGION, ACCOUNT)
    mwaa = _client(api_url, DENIED_PROD)
    with pytest.raises(ClientError) as e:
        mwaa.delete_workflow(WorkflowArn=arn.replace("arn:aws:", "arn:aws-us-gov:"))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "aws-us-gov" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        mwaa.delete_workflow(WorkflowArn=arn)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert await kube.get_or_none("Workflow", "prod-etl", namespace) is not None


def test_create_and_update_need_pass_role(api_url: str) -> None:
    from botocore.exceptions import ClientError

    mwaa = _client(api_url, NO_PASS)
    role = f"arn:aws:iam::{ACCOUNT}:role/admin"
    with pytest.raises(ClientError) as e:
        mwaa.create_workflow(Name="etl", RoleArn=role, DefinitionS3Location={"Bucket": "defs", "ObjectKey": "x.yaml"})
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"iam:PassRole on resource: {role}" in e.value.response["Error"]["Message"]


def test_a_body_over_the_limit_is_413(api_url: str) -> None:
    req = urllib.request.Request(api_url + "/", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", method="POST",  # noqa: S310
                                 headers={"X-Amz-Target": "AmazonMWAAServerless.ListWorkflows",
                                          "Content-Type": "application/x-amz-json-1.0"})
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(req, timeout=10, context=_trusting(CA[0]))  # noqa: S310
    assert http.value.code == 413
    assert json.loads(http.value.read())["__type"] == "ValidationException"


def test_a_client_that_does_not_trust_the_ca_sends_nothing(api_url: str, tmp_path: Path) -> None:
    from botocore.exceptions import SSLError

    stranger = write_ca(make_ca("someone-else"), tmp_path / "other-ca.crt")
    with pytest.raises(SSLError):
        _client(api_url, NO_PASS, verify=str(stranger)).list_workflows()
    with pytest.raises(SSLError):  # the system's CAs do not know the API's either
        _client(api_url, NO_PASS, verify=True).list_workflows()
    assert _client(api_url, NO_PASS).list_workflows()["Workflows"] == []
