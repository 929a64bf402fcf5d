"""The suite's namespace: made fresh for each run, with nothing an earlier run left, and removed
afterwards. No operator serves it then, so the driver releases its objects' finalizers itself."""

from __future__ import annotations

import asyncio
from typing import Any

from workflows import GROUP, VERSION

PLURALS = ("workflowruns", "workflows", "workflowversions")



async def fresh_namespace(core: Any, custom: Any, namespace: str) -> None:
    """The namespace made anew: an earlier run's (kept, or still terminating) goes first."""
    from kubernetes_asyncio import client
    for _ in range(120):
        try:
            ns = await core.read_namespace(namespace)
        except client.ApiException as e:
            if e.status == 404:
                break
            raise
        # an earlier run's namespace, kept (--keep) or going: no operator is there to release
        # its objects' finalizers, so the driver does
        await drop_finalizers(custom, namespace)
        if ns.metadata.deletion_timestamp is None:
            await core.delete_namespace(namespace)
        await asyncio.sleep(1)
    else:
        raise SystemExit(f"chaos: namespace {namespace} is still terminating after 120 s")
    await core.create_namespace({"metadata": {"name": namespace}})
    await purge(custom, namespace)


async def purge(custom: Any, namespace: str) -> None:
    """Remove Updraft objects a namespace of the same name left in etcd: a namespace whose
    deletion was forced keeps its custom objects, and they reappear when it is made again."""
    from kubernetes_asyncio import client
    await drop_finalizers(custom, namespace)
    for plural in PLURALS:
        for obj in (await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural))["items"]:
            try:
                await custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, plural,
                                                             obj["metadata"]["name"])
            except client.ApiException as e:
                if e.status != 404:
                    raise
    for _ in range(60):
        left = [o for plural in PLURALS
                for o in (await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural))["items"]]
        if not left:
            return
        await asyncio.sleep(1)
    raise SystemExit(f"chaos: {len(left)} objects of an earlier run in {namespace} would not go")


async def remove_namespace(core: Any, custom: Any, namespace: str) -> None:
    """The namespace deleted, its objects' finalizers dropped first (their operator is gone)."""
    await drop_finalizers(custom, namespace)
    await core.delete_namespace(namespace)


async def drop_finalizers(custom: Any, namespace: str) -> None:
    from kubernetes_asyncio import client
    for plural in PLURALS:
        for obj in (await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural))["items"]:
            if obj["metadata"].get("finalizers"):
                try:
                    await custom.patch_namespaced_custom_object(
                        GROUP, VERSION, namespace, plural, obj["metadata"]["name"],
                        {"metadata": {"finalizers": None}}, _content_type="application/merge-patch+json")
                except client.ApiException:
                    pass
