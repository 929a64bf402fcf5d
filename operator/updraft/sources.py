"""Fetch a Workflow's definition text from where its spec says: inline, a ConfigMap key, or an S3
object (boto3 with the caller's credentials, honouring VersionId). The S3 object version actually
read is recorded in the source, so whoever reads it next can read the same bytes. The text is then
validated and kept, compiled, in a WorkflowVersion (`updraft.versions`): runs never read the
source again.

Every failure here means "cannot be read now" (a ConfigMap not created yet, an object not uploaded
yet, S3 throttling or unreachable): the operator retries later, the API answers the caller."""

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

    @property
    def s3_version_read(self) -> str | None:
        return (self.source.get("s3") or {}).get("readVersionId")


def _s3_get(s3_client_factory: Callable[[], Any], bucket: str, key: str,
            version_id: str | None) -> tuple[bytes, str | None]:
    """The object's bytes (at most MAX_FETCH_BYTES + 1) and the S3 version read (None: unversioned)."""
    client = s3_client_factory()
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    response = client.get_object(**kwargs)
    read = response.get("VersionId")
    return response["Body"].read(MAX_FETCH_BYTES + 1), (read if read and read != "null" else None)


async def fetch(spec: Mapping[str, Any], namespace: str, kube: Kube, s3_client_factory: Callable[[], Any],
                s3_version_id: str | None = None) -> Fetched:
    """The definition text and where it came from. `s3_version_id` reads that S3 object version
    when the spec pins none (the one an earlier reader recorded)."""
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
            raw, read_version = await asyncio.to_thread(_s3_get, s3_client_factory, loc["bucket"], loc["objectKey"],
                                                        loc.get("versionId") or s3_version_id)
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
        # the spec's location as given, and the object version actually read (absent: unversioned bucket)
        return Fetched(text, {"s3": {**dict(loc), **({"readVersionId": read_version} if read_version else {})}})
    raise SourceError("spec", "no definition source (definition, definitionConfigMapRef or definitionS3Location)")
