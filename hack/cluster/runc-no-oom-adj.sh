#!/bin/sh
# runc shim for sandboxes without CAP_SYS_RESOURCE (some microVMs drop it): kubelet asks for a
# negative oom_score_adj for pause and Guaranteed containers, which such a kernel refuses, and runc
# then fails with "can't get final child's PID from pipe". Clamp negative values to 0 in the OCI
# spec (and in an exec's process spec), then hand over to the real runc.
prev=""
for a in "$@"; do
  case "$prev" in
    --bundle|-b) f="$a/config.json" ;;
    --process|-p) f="$a" ;;
    *) f="" ;;
  esac
  [ -n "$f" ] && [ -f "$f" ] && sed -i -E 's/"oomScoreAdj":-[0-9]+/"oomScoreAdj":0/' "$f"
  prev=$a
done
exec runc "$@"
