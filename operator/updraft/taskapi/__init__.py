"""The operator's task API: the only thing a task pod may talk to (XCom between tasks)."""
