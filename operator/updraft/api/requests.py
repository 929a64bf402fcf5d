"""What a Create/UpdateWorkflow request asks for, as a Workflow spec (pure), and the digests that
tell one request from another for ClientToken purposes."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from updraft.api import errors
from updraft.api.errors import FieldProblem
from updraft.model.states import TriggerMode

Obj = dict[str, Any]


def request_digest(params: Mapping[str, Any]) -> str:
    """What makes two requests "the same" for ClientToken purposes: every member but the token."""
    body = {k: v for k, v in params.items() if k != "ClientToken"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def token_label(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def s3_source(location: Mapping[str, Any]) -> Obj:
    """The model's DefinitionS3Location as the Workflow spec's definitionS3Location."""
    return {"bucket": location["Bucket"], "objectKey": location["ObjectKey"],
            **({"versionId": location["VersionId"]} if location.get("VersionId") else {})}


def refuse_code(params: Mapping[str, Any]) -> None:
    if params.get("Code"):
        raise errors.validation("Code is not supported: Updraft runs YAML definitions (DefinitionS3Location) "
                                "with the operators of the runner image; there are no code artifacts to copy",
                                [FieldProblem("Code", "not supported")])


def workflow_spec(params: Mapping[str, Any]) -> Obj:
    """The Workflow spec fields a Create/Update sets (definition source, identity, options);
    ValidationException naming the field for option combinations the model cannot express."""
    trigger = params.get("TriggerMode")
    if trigger is not None and trigger not in TriggerMode.ALL:
        raise errors.validation(f"TriggerMode must be one of {', '.join(TriggerMode.ALL)}, got {trigger!r}",
                                [FieldProblem("TriggerMode", f"must be one of {', '.join(TriggerMode.ALL)}")])
    encryption = params.get("EncryptionConfiguration")
    if encryption and encryption["Type"] == "CUSTOMER_MANAGED_KEY" and not encryption.get("KmsKeyId"):
        raise errors.validation("EncryptionConfiguration.KmsKeyId is required when Type is CUSTOMER_MANAGED_KEY",
                                [FieldProblem("EncryptionConfiguration.KmsKeyId", "is required for CUSTOMER_MANAGED_KEY")])
    network = params.get("NetworkConfiguration")
    spec: Obj = {
        "definitionS3Location": s3_source(params["DefinitionS3Location"]),
        "roleArn": params["RoleArn"],
        "description": params.get("Description"),
        "logging": {"logGroupName": params["LoggingConfiguration"]["LogGroupName"]}
        if params.get("LoggingConfiguration") else None,
        "engineVersion": params.get("EngineVersion"),
        "network": {k: v for k, v in (("securityGroupIds", network.get("SecurityGroupIds")),
                                      ("subnetIds", network.get("SubnetIds"))) if v} if network else None,
        "environment": dict((params.get("Environment") or {}).get("Variables") or {}) or None,
        "triggerMode": trigger,
    }
    if encryption:
        spec["encryption"] = {"type": encryption["Type"], **({"kmsKeyId": encryption["KmsKeyId"]}
                                                              if encryption.get("KmsKeyId") else {})}
    return spec
