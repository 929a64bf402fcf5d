"""The MWAA Serverless-compatible API: AWS JSON 1.0 over HTTP, a facade over the Workflow,
WorkflowVersion and WorkflowRun custom resources (so kubectl and the API always agree).

Layers, pure first:
- model.py       the botocore service model: operations, shapes, input validation
- errors.py      the model's exceptions, with their HTTP statuses
- protocol.py    request decoding and response/error encoding (X-Amz-Target, JSON 1.0)
- pagination.py  opaque, HMAC-protected NextTokens
- requests.py    Create/UpdateWorkflow requests -> Workflow specs; ClientToken digests
- views.py       custom resources -> API response structures (through updraft.model's views)
- credentials.py, sigv4.py, policy.py, audit.py   who may call what, and the record of it
  (rate limits and JSON depth bounds: updraft.guards, shared with the task API)
- service.py     the operations, over the Kubernetes API and the versions service (updraft.versions)
- server.py      the aiohttp application that ties the above together
Names (ARNs aside: updraft.arns) and states come from updraft.model, like the operator's.
"""
