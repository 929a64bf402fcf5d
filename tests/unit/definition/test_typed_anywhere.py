"""A `__type__` other than datetime.timedelta/datetime.datetime is refused wherever it is in a
definition, ignored or display-only keys included, with the path named (issue 21): dag-factory
would import and call it, and "dropped before the runner" is not a promise a definition should
need to be safe."""

from __future__ import annotations

import pytest

from updraft.definition import validate
from updraft.definition.values import typed_problems

BASE = """
evil:
  schedule: None
  {dag_extra}
  default_args:
    owner: me
    {default_extra}
  task_groups:
    grp:
      tooltip: {tooltip}
  tasks:
    t1:
      operator: airflow.providers.standard.operators.empty.EmptyOperator
      task_group_name: grp
      {task_extra}
"""
SYSTEM = "{__type__: os.system, __args__: [id]}"


def _definition(**parts: str) -> str:
    fields = {"dag_extra": "", "default_extra": "", "tooltip": "hello", "task_extra": ""}
    return BASE.format(**{**fields, **parts})


def test_the_base_definition_is_valid():
    assert validate(_definition()).ok


@pytest.mark.parametrize("parts, path", [
    ({"dag_extra": f"access_control: {SYSTEM}"}, "evil.access_control"),  # an ignored DAG parameter
    ({"dag_extra": f"jinja_environment_kwargs: {{x: {SYSTEM}}}"}, "evil.jinja_environment_kwargs.x"),
    ({"default_extra": f"email_on_retry: {SYSTEM}"}, "evil.default_args.email_on_retry"),  # ignored task default
    ({"tooltip": SYSTEM}, "evil.task_groups.grp.tooltip"),  # display-only, dropped
    ({"task_extra": f"owner_links: [{SYSTEM}]"}, "evil.tasks.t1.owner_links[0]"),
    ({"dag_extra": f"params: {{p: {SYSTEM}}}"}, "evil.params.p"),
])
def test_a_disallowed_type_is_refused_wherever_it_is(parts: dict[str, str], path: str):
    result = validate(_definition(**parts))
    assert not result.ok
    found = [e for e in result.errors if e.rule == "type-not-allowed"]
    assert [e.path for e in found] == [path], result.errors
    assert "'os.system' is not allowed" in found[0].message


def test_allowed_types_pass_anywhere_and_bad_fields_are_named():
    ok = _definition(dag_extra="access_control: {__type__: datetime.timedelta, seconds: 5}")
    assert not [e for e in validate(ok).errors if e.rule.startswith("type-")]
    bad = _definition(tooltip="{__type__: datetime.timedelta, __args__: [5]}")
    assert [(e.path, e.rule) for e in validate(bad).errors] == [("evil.task_groups.grp.tooltip", "type-arguments")]


def test_the_walk_is_iterative_and_names_list_positions():
    deep: object = {"__type__": "builtins.eval"}
    for _ in range(5000):
        deep = [deep]
    problems = typed_problems({"a": deep})
    assert len(problems) == 1 and problems[0][0] == "a" + "[0]" * 5000
