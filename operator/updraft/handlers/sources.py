"""Fetch a Workflow's definition text from where its spec says: inline, a ConfigMap key, or an S3
object (boto3 with the operator's own credentials, honouring VersionId). The text is then
validated and kept in a WorkflowVersion, so runs never read the source again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from updraft.k8s.resources import Kube, NotFound

MAX_FETCH_BYTES = 1024 * 1024  # read at most this much; the validator enforces the 50 KB rule


class SourceError(Exception):
    """The definition could not be read; `path` names the spec field at fault."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


@dataclass(frozen=True)
class Fetched:
    text: str
    source: Mapping[str, Any]  # recorded in the WorkflowVersion


def _s3_get(s3_client_factory: Callable[[], Any], bucket: str, key: str, version_id: str | None) -> bytes:
    client = s3_client_factory()
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    response = client.get_object(**kwargs)
    return response["Body"].read(MAX_FETCH_BYTES + 1)


async def fetch(spec: Mapping[str, Any], namespace: str, kube: Kube,
                s3_client_factory: Callable[[], Any]) -> Fetched:
    if spec.get("definition"):
        return Fetched(spec["definition"], {"inline": True})
    if ref := spec.get("definitionConfigMapRef"):
        try:
            cm = await kube.get("ConfigMap", ref["name"], namespace)
        except NotFound:
            raise SourceError("spec.definitionConfigMapRef.name", f"ConfigMap {ref['name']!r} not found in {namespace}") from None
        data = cm.get("data") or {}
        if ref["key"] not in data:
            raise SourceError("spec.definitionConfigMapRef.key",
                              f"ConfigMap {ref['name']!r} has no key {ref['key']!r} (keys: {', '.join(sorted(data)) or 'none'})")
        return Fetched(data[ref["key"]], {"configMap": {"name": ref["name"], "key": ref["key"],
                                                        "resourceVersion": cm["metadata"].get("resourceVersion")}})
    if loc := spec.get("definitionS3Location"):
        import botocore.exceptions

        try:
            raw = await asyncio.to_thread(_s3_get, s3_client_factory, loc["bucket"], loc["objectKey"], loc.get("versionId"))
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "Error")
            raise SourceError("spec.definitionS3Location",
                              f"s3://{loc['bucket']}/{loc['objectKey']}: {code}: {e.response.get('Error', {}).get('Message', '')}".rstrip(": ")) from None
        except botocore.exceptions.BotoCoreError as e:
            raise SourceError("spec.definitionS3Location", f"s3://{loc['bucket']}/{loc['objectKey']}: {e}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError("spec.definitionS3Location", "the object is not UTF-8 text") from None
        return Fetched(text, {"s3": dict(loc)})
    raise SourceError("spec", "no definition source (definition, definitionConfigMapRef or definitionS3Location)")
