"""Definition sources: an S3 object (boto3 against a real S3 API, moto server), honouring VersionId,
with clear errors naming the field; ConfigMap keys on the real API server."""

from __future__ import annotations

from typing import Any

import pytest

from updraft.sources import SourceError, fetch

pytestmark = [pytest.mark.timeout(60)]


@pytest.fixture
def s3(moto_s3: str) -> Any:
    import boto3

    return lambda: boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")


async def test_s3_definition_with_version_id(s3: Any) -> None:
    client = s3()
    client.create_bucket(Bucket="defs")
    client.put_bucket_versioning(Bucket="defs", VersioningConfiguration={"Status": "Enabled"})
    v1 = client.put_object(Bucket="defs", Key="wf.yaml", Body=b"first")["VersionId"]
    client.put_object(Bucket="defs", Key="wf.yaml", Body=b"second")
    latest = await fetch({"definitionS3Location": {"bucket": "defs", "objectKey": "wf.yaml"}}, "ns", None, s3)  # type: ignore[arg-type]
    assert latest.text == "second"
    pinned = await fetch({"definitionS3Location": {"bucket": "defs", "objectKey": "wf.yaml", "versionId": v1}}, "ns",
                         None, s3)  # type: ignore[arg-type]
    assert pinned.text == "first" and pinned.source["s3"]["versionId"] == v1


async def test_s3_errors_name_the_field(s3: Any) -> None:
    s3().create_bucket(Bucket="defs")
    with pytest.raises(SourceError) as e:
        await fetch({"definitionS3Location": {"bucket": "defs", "objectKey": "missing.yaml"}}, "ns", None, s3)  # type: ignore[arg-type]
    assert e.value.path == "spec.definitionS3Location" and "NoSuchKey" in e.value.message


@pytest.mark.cluster
async def test_configmap_errors_name_the_field(api: object, namespace: str) -> None:
    from updraft.k8s.resources import Kube

    kube = Kube(api)
    with pytest.raises(SourceError) as e:
        await fetch({"definitionConfigMapRef": {"name": "nope", "key": "k"}}, namespace, kube, lambda: None)
    assert e.value.path == "spec.definitionConfigMapRef.name"
    await kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "defs"}, "data": {"a.yaml": "x"}},
                      namespace)
    with pytest.raises(SourceError) as e:
        await fetch({"definitionConfigMapRef": {"name": "defs", "key": "b.yaml"}}, namespace, kube, lambda: None)
    assert e.value.path == "spec.definitionConfigMapRef.key" and "a.yaml" in e.value.message
