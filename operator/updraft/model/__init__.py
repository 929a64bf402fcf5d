"""The model (pure): what Updraft's objects are called, which states they can be in, how time is
written, and typed, frozen views of the Workflow, WorkflowVersion and WorkflowRun objects.

Every other layer reads objects through these views and builds names only through `names`, so a
question such as "which version does this run use", "is this run finished" or "what is this pod
called" has one answer in one place."""
