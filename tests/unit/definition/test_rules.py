"""Every rule of the validator: a broken definition names the path and the rule; good ones pass."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from updraft.definition import Limits, validate

S3LIST = "airflow.providers.amazon.aws.operators.s3.S3ListOperator"
EMPTY = "airflow.providers.standard.operators.empty.EmptyOperator"


def dag(body: str, dag_id: str = "d") -> str:
    """A dag-factory definition with `body` indented under the dag id."""
    return f"{dag_id}:\n" + textwrap.indent(textwrap.dedent(body).rstrip("\n") + "\n", "  ")


def simple_task(extra: str = "") -> str:
    return dag(f"""
        tasks:
          t:
            operator: {S3LIST}
            bucket: b
        {textwrap.indent(textwrap.dedent(extra), '    ').strip()}
    """)


def task_with(params: str) -> str:
    return dag(f"""
        tasks:
          t:
            operator: {S3LIST}
            bucket: b
""" + textwrap.indent(textwrap.dedent(params), " " * 12))


INVALID = [
    ("yaml-syntax", "d: [", "definition", "yaml"),
    ("duplicate-key", dag(f"tasks:\n  t: {{operator: {EMPTY}}}\n  t: {{operator: {EMPTY}}}\n"), "definition", "yaml"),
    ("not-a-mapping", "- a\n- b\n", "definition", "definition-form"),
    ("two-dags", dag(f"tasks: {{t: {{operator: {EMPTY}}}}}") + dag(f"tasks: {{t: {{operator: {EMPTY}}}}}", "e"),
     "definition", "one-dag"),
    ("bad-dag-id", dag(f"tasks: {{t: {{operator: {EMPTY}}}}}", "bad id"), "bad id.dag_id", "dag-id"),
    ("dag-id-mismatch", dag(f"dag_id: other\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.dag_id", "dag-id-mismatch"),
    ("no-tasks", dag("schedule: '@daily'\ntasks: {}\n"), "d.tasks", "tasks-required"),
    ("bad-cron", dag(f"schedule: '61 * * * *'\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.schedule", "schedule"),
    ("six-field-cron", dag(f"schedule: '0 0 * * * *'\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.schedule", "schedule"),
    ("unknown-preset", dag(f"schedule: '@fortnightly'\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.schedule", "schedule"),
    ("timedelta-schedule", dag(f"schedule: {{__type__: datetime.timedelta, hours: 1}}\ntasks: {{t: {{operator: {EMPTY}}}}}"),
     "d.schedule", "schedule"),
    ("both-schedules", dag(f"schedule: '@daily'\nschedule_interval: '@daily'\ntasks: {{t: {{operator: {EMPTY}}}}}"),
     "d.schedule_interval", "schedule-twice"),
    ("end-before-start", dag(f"start_date: 2025-02-01\nend_date: 2025-01-01\ntasks: {{t: {{operator: {EMPTY}}}}}"),
     "d.end_date", "end-before-start"),
    ("bad-start-date", dag(f"start_date: yesterday\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.start_date", "instant"),
    ("unknown-timezone", dag(f"timezone: Mars/Olympus\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.timezone", "timezone"),
    ("max-active-runs-high", dag(f"max_active_runs: 21\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.max_active_runs", "max-active-runs"),
    ("max-active-runs-zero", dag(f"max_active_runs: 0\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.max_active_runs", "max-active-runs"),
    ("unknown-dag-param", dag(f"concurrency: 3\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.concurrency", "unknown-parameter"),
    ("doc-md-file", dag(f"doc_md_file_path: /etc/passwd\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.doc_md_file_path", "code-reference"),
    ("operator-missing", dag("tasks: {t: {bucket: b}}"), "d.tasks.t.operator", "operator-required"),
    ("operator-python", dag("tasks: {t: {operator: airflow.providers.standard.operators.python.PythonOperator}}"),
     "d.tasks.t.operator", "operator-not-supported"),
    ("operator-bash", dag("tasks: {t: {operator: BashOperator, bash_command: id}}"), "d.tasks.t.operator", "operator-not-supported"),
    ("operator-wrong-module", dag("tasks: {t: {operator: airflow.operators.s3.S3ListOperator}}"),
     "d.tasks.t.operator", "operator-not-supported"),
    ("retries-high", task_with("retries: 4"), "d.tasks.t.retries", "retries-range"),
    ("retries-negative", task_with("retries: -1"), "d.tasks.t.retries", "retries-range"),
    ("retries-string", task_with("retries: 'two'"), "d.tasks.t.retries", "retries-type"),
    ("retry-delay-high", task_with("retry_delay: {__type__: datetime.timedelta, seconds: 301}"),
     "d.tasks.t.retry_delay", "retry-delay-range"),
    ("retry-delay-text", task_with("retry_delay: 5 minutes"), "d.tasks.t.retry_delay", "duration"),
    ("timeout-high", task_with("execution_timeout: {__type__: datetime.timedelta, hours: 2}"),
     "d.tasks.t.execution_timeout", "execution-timeout-range"),
    ("timeout-zero", task_with("execution_timeout: 0"), "d.tasks.t.execution_timeout", "execution-timeout-range"),
    ("trigger-rule", task_with("trigger_rule: sometimes"), "d.tasks.t.trigger_rule", "trigger-rule"),
    ("type-not-allowed", task_with("bucket_key: {__type__: subprocess.check_output, __args__: [[id]]}"),
     "d.tasks.t.bucket_key", "type-not-allowed"),
    ("type-args", task_with("execution_timeout: {__type__: datetime.timedelta, __args__: [5]}"),
     "d.tasks.t.execution_timeout", "type-arguments"),
    ("type-unknown-field", task_with("execution_timeout: {__type__: datetime.timedelta, fortnights: 1}"),
     "d.tasks.t.execution_timeout", "type-arguments"),
    ("callback-file", task_with("python_callable_file: /tmp/x.py"), "d.tasks.t.python_callable_file", "code-reference"),
    ("unknown-dependency", task_with("dependencies: [nope]"), "d.tasks.t.dependencies", "unknown-dependency"),
    ("self-dependency", task_with("dependencies: [t]"), "d.tasks.t.dependencies", "self-dependency"),
    ("dependencies-not-list", task_with("dependencies: t"), "d.tasks.t.dependencies", "dependencies-form"),
    ("cycle", dag(f"""
        tasks:
          a: {{operator: {EMPTY}, dependencies: [c]}}
          b: {{operator: {EMPTY}, dependencies: [a]}}
          c: {{operator: {EMPTY}, dependencies: [b]}}
    """), "d.tasks", "cycle"),
    ("duplicate-task-list", dag(f"""
        tasks:
          - {{task_id: a, operator: {EMPTY}}}
          - {{task_id: a, operator: {EMPTY}}}
    """), "d.tasks.a", "duplicate-task"),
    ("unknown-group", task_with("task_group_name: nowhere"), "d.tasks.t.task_group_name", "unknown-group"),
    ("sensor-mode", dag("tasks: {w: {operator: S3KeySensor, bucket_key: k, mode: smart}}"), "d.tasks.w.mode", "sensor-mode"),
    ("dag-id-reads-as-boolean", f"off:\n  tasks: {{t: {{operator: {EMPTY}}}}}\n", "definition", "dag-id"),
    ("simplified-no-dag-id", "tasks: {t: {operator: S3ListOperator}}\n", "dag_id", "dag-id"),
    ("cron-never-fires", dag(f"schedule: '0 0 31 2 *'\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.schedule", "schedule"),
    ("preset-midnight", dag(f"schedule: '@midnight'\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.schedule", "schedule"),
    ("retries-float", task_with("retries: 1.5"), "d.tasks.t.retries", "retries-type"),
    ("retries-bool", task_with("retries: true"), "d.tasks.t.retries", "retries-type"),
    ("retry-delay-negative", task_with("retry_delay: -1"), "d.tasks.t.retry_delay", "retry-delay-range"),
    ("default-args-retry-delay", dag(f"default_args: {{retry_delay: 301}}\ntasks: {{t: {{operator: {EMPTY}}}}}"),
     "d.default_args.retry_delay", "retry-delay-range"),
    ("timeout-bare-int-high", task_with("execution_timeout: 3601"), "d.tasks.t.execution_timeout", "execution-timeout-range"),
    ("max-active-runs-text", dag(f"max_active_runs: many\ntasks: {{t: {{operator: {EMPTY}}}}}"), "d.max_active_runs",
     "max-active-runs"),
    ("datetime-bad-field", dag(f"start_date: {{__type__: datetime.datetime, year: 2025, month: 13, day: 1}}\n"
                               f"tasks: {{t: {{operator: {EMPTY}}}}}"), "d.start_date", "instant"),
    ("datetime-for-duration", task_with("retry_delay: {__type__: datetime.datetime, year: 2025, month: 1, day: 1}"),
     "d.tasks.t.retry_delay", "duration"),
    ("type-in-params", dag(f"params: {{p: {{__type__: builtins.eval, __args__: ['1']}}}}\n"
                           f"tasks: {{t: {{operator: {EMPTY}}}}}"), "d.params.p", "type-not-allowed"),
    ("type-nested-in-args", task_with("config: {inner: [{__type__: os.system}]}"), "d.tasks.t.config.inner[0]",
     "type-not-allowed"),
    ("callback-by-name", task_with("on_retry_callback_name: notify"), "d.tasks.t.on_retry_callback_name", "code-reference"),
    ("callback-file", task_with("on_success_callback_file: /dags/cb.py"), "d.tasks.t.on_success_callback_file",
     "code-reference"),
    ("execution-date-fn", task_with("execution_date_fn: os.system"), "d.tasks.t.execution_date_fn", "code-reference"),
    ("check-lambda", task_with("response_check_lambda: 'lambda r: True'"), "d.tasks.t.response_check_lambda",
     "code-reference"),
    ("decorator", task_with("decorator: airflow.sdk.task"), "d.tasks.t.decorator", "code-reference"),
    ("variables-as-arguments", task_with("variables_as_arguments: [{variable: v, attribute: bucket}]"),
     "d.tasks.t.variables_as_arguments", "code-reference"),
    ("default-args-callable", dag(f"default_args: {{python_callable: os.system}}\ntasks: {{t: {{operator: {EMPTY}}}}}"),
     "d.default_args.python_callable", "code-reference"),
    ("expand", task_with("expand: {prefix: [a, b]}"), "d.tasks.t.expand", "dynamic-mapping"),
    ("partial", task_with("partial: {prefix: a}"), "d.tasks.t.partial", "dynamic-mapping"),
    ("group-dependency-unknown", dag(f"task_groups: {{g: {{dependencies: [nope]}}}}\n"
                                     f"tasks: {{t: {{operator: {EMPTY}, task_group_name: g}}}}"),
     "d.task_groups.g.dependencies", "unknown-dependency"),
    ("group-parent-unknown", dag(f"task_groups: {{g: {{parent_group_name: nope}}}}\n"
                                 f"tasks: {{t: {{operator: {EMPTY}, task_group_name: g}}}}"),
     "d.task_groups.g.parent_group_name", "unknown-group"),
    ("cycle-through-group", dag(f"""
        task_groups: {{g: {{dependencies: [b]}}}}
        tasks:
          a: {{operator: {EMPTY}, task_group_name: g}}
          b: {{operator: {EMPTY}, dependencies: [g]}}
    """), "d.tasks", "cycle"),
    ("task-id-bad-chars", dag(f"tasks: {{'a b': {{operator: {EMPTY}}}}}"), "d.tasks.a b", "task-id"),
    ("list-task-without-id", dag(f"tasks: [{{operator: {EMPTY}}}]"), "d.tasks[0].task_id", "task-id"),
    ("task-not-mapping", dag("tasks: {t: just-a-string}"), "d.tasks.t", "task-form"),
    ("max-retry-delay-negative", task_with("max_retry_delay: -5"), "d.tasks.t.max_retry_delay", "max-retry-delay-range"),
    ("backoff-not-bool", task_with("retry_exponential_backoff: 'yes'"), "d.tasks.t.retry_exponential_backoff", "boolean"),
    ("sensor-poke-negative", dag("tasks: {w: {operator: S3KeySensor, bucket_key: k, poke_interval: -1}}"),
     "d.tasks.w.poke_interval", "sensor-duration"),
    ("sensor-mode-from-defaults", dag("default_args: {mode: sometimes}\ntasks: {w: {operator: S3KeySensor, bucket_key: k}}"),
     "d.default_args.mode", "sensor-mode"),
    ("python-tag", task_with("prefix: !!python/object/apply:os.system [id]"), "definition", "yaml"),
    ("set-value", task_with("prefix: !!set {a: null}"), "d.tasks.t.prefix", "value-type"),
    ("group-unknown-key", dag(f"task_groups: {{g: {{colour: red}}}}\ntasks: {{t: {{operator: {EMPTY}, task_group_name: g}}}}"),
     "d.task_groups.g.colour", "unknown-parameter"),
    ("group-default-args-retries", dag(f"task_groups: {{g: {{default_args: {{retries: 7}}}}}}\n"
                                       f"tasks: {{t: {{operator: {EMPTY}, task_group_name: g}}}}"),
     "d.task_groups.g.default_args.retries", "retries-range"),
    ("group-default-args-callback", dag(f"task_groups: {{g: {{default_args: {{on_failure_callback_name: f}}}}}}\n"
                                        f"tasks: {{t: {{operator: {EMPTY}, task_group_name: g}}}}"),
     "d.task_groups.g.default_args.on_failure_callback_name", "code-reference"),
    ("default-args-typed-extra", dag(f"default_args: {{config: {{__type__: os.system}}}}\ntasks: {{t: {{operator: {EMPTY}}}}}"),
     "d.default_args.config", "type-not-allowed"),
    ("default-args-expand", dag(f"default_args: {{expand: {{x: [1]}}}}\ntasks: {{t: {{operator: {EMPTY}}}}}"),
     "d.default_args.expand", "default-args-form"),
    ("sensor-timeout-text", dag("tasks: {w: {operator: S3KeySensor, bucket_key: k, timeout: forever}}"),
     "d.tasks.w.timeout", "duration"),
]


@pytest.mark.parametrize(("text", "path", "rule"), [pytest.param(t, p, r, id=i) for i, t, p, r in INVALID])
def test_invalid_definition_names_path_and_rule(text: str, path: str, rule: str) -> None:
    result = validate(text)
    assert not result.ok
    assert result.graph is None
    found = {(e.path, e.rule) for e in result.errors}
    assert (path, rule) in found, f"expected {path} [{rule}], got {[str(e) for e in result.errors]}"


def test_definition_over_50kb_is_refused_before_parsing() -> None:
    text = dag(f"tasks: {{t: {{operator: {EMPTY}}}}}") + "#" * (50 * 1024)
    result = validate(text)
    assert [(e.path, e.rule) for e in result.errors] == [("definition", "definition-size")]


def test_all_errors_are_reported_at_once() -> None:
    text = dag(f"""
        schedule: not a cron
        max_active_runs: 99
        tasks:
          a: {{operator: {S3LIST}, retries: 9, retry_delay: 900}}
          b: {{operator: PythonOperator}}
          c: {{operator: {EMPTY}, dependencies: [zzz]}}
    """)
    rules = {e.rule for e in validate(text).errors}
    assert {"schedule", "max-active-runs", "retries-range", "retry-delay-range", "operator-not-supported"} <= rules
    assert "unknown-dependency" in rules or "operator-not-supported" in rules


def test_limits_are_parameters() -> None:
    text = dag(f"max_active_runs: 30\ntasks: {{t: {{operator: {EMPTY}}}}}")
    assert not validate(text).ok
    assert validate(text, limits=Limits(max_active_runs_limit=50)).ok


def test_past_start_date_is_a_warning_only_with_a_clock() -> None:
    text = dag(f"start_date: 2020-01-01\ntasks: {{t: {{operator: {EMPTY}}}}}")
    assert validate(text).warnings == ()
    result = validate(text, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert result.ok
    assert [w.rule for w in result.warnings] == ["start-date-past"]


def test_unsupported_parameters_warn_and_are_dropped() -> None:
    text = dag(f"""
        catchup: true
        tags: [x]
        tasks:
          t:
            operator: {S3LIST}
            bucket: b
            priority_weight: 5
            queue: special
            aws_conn_id: my_conn
            region_name: eu-west-1
            verify: false
    """)
    result = validate(text)
    assert result.ok, result.errors
    warned = {(w.path, w.rule) for w in result.warnings}
    assert ("d.catchup", "ignored-parameter") in warned
    assert ("d.tags", "ignored-parameter") in warned
    assert ("d.tasks.t.priority_weight", "ignored-parameter") in warned
    assert ("d.tasks.t.queue", "ignored-parameter") in warned
    assert ("d.tasks.t.aws_conn_id", "aws-controlled") in warned
    assert ("d.tasks.t.region_name", "aws-controlled") in warned
    assert ("d.tasks.t.verify", "aws-controlled") in warned
    task = result.graph.normalized["d"]["tasks"]["t"]  # type: ignore[union-attr]
    for dropped in ("priority_weight", "queue", "region_name", "verify"):
        assert dropped not in task
    assert task["aws_conn_id"] is None


def test_default_values_of_ignored_parameters_do_not_warn() -> None:
    text = dag(f"""
        catchup: false
        tags: []
        tasks:
          t:
            operator: {S3LIST}
            bucket: b
            priority_weight: 1
            wait_for_downstream: false
            outlets: []
            aws_conn_id: aws_default
    """)
    assert validate(text).warnings == ()


def test_task_values_override_default_args() -> None:
    text = dag(f"""
        default_args: {{retries: 2, retry_delay: 30, owner: data}}
        tasks:
          a: {{operator: {S3LIST}, bucket: b}}
          b: {{operator: {S3LIST}, bucket: b, retries: 0, dependencies: [a]}}
    """)
    g = validate(text).graph
    assert g is not None
    assert (g.tasks["a"].retries, g.tasks["a"].retry_delay) == (2, timedelta(seconds=30))
    assert g.tasks["b"].retries == 0
    assert "owner" not in g.tasks["a"].arguments


def test_defaults_when_unset() -> None:
    g = validate(dag(f"tasks: {{t: {{operator: {S3LIST}, bucket: b}}}}")).graph
    assert g is not None
    t = g.tasks["t"]
    assert (t.retries, t.retry_delay, t.execution_timeout, t.trigger_rule) == (0, timedelta(seconds=300), None, "all_success")
    assert (g.max_active_runs, g.schedule, g.timezone) == (16, None, None)


@pytest.mark.parametrize(("raw", "expected"), [
    ("'0 2 * * *'", "0 2 * * *"), ("'@daily'", "@daily"), ("None", None), ("none", None), ("null", None),
    ("'@once'", "@once"), ("'*/15  *  * * 1-5'", "*/15 * * * 1-5"),
])
def test_schedule_forms(raw: str, expected: str | None) -> None:
    g = validate(dag(f"schedule: {raw}\ntasks: {{t: {{operator: {EMPTY}}}}}")).graph
    assert g is not None and g.schedule == expected


def test_sensor_settings() -> None:
    g = validate(dag("""
        tasks:
          w: {operator: S3KeySensor, bucket_key: k, mode: reschedule, poke_interval: 30, timeout: 600}
          p: {operator: S3KeySensor, bucket_key: k}
          o: {operator: S3ListOperator, bucket: b}
    """)).graph
    assert g is not None
    assert (g.tasks["w"].mode, g.tasks["w"].poke_interval, g.tasks["w"].sensor_timeout) == (
        "reschedule", timedelta(seconds=30), timedelta(seconds=600))
    assert (g.tasks["p"].mode, g.tasks["p"].poke_interval) == ("poke", timedelta(seconds=60))
    assert g.tasks["o"].mode is None and not g.tasks["o"].is_sensor


def test_timezone_gives_naive_dates_their_meaning() -> None:
    g = validate(dag(f"timezone: Europe/Paris\nstart_date: 2025-03-01\ntasks: {{t: {{operator: {EMPTY}}}}}")).graph
    assert g is not None
    assert g.start_date == datetime(2025, 2, 28, 23, 0, tzinfo=timezone.utc)
    assert g.timezone == "Europe/Paris"
    assert g.normalized["d"]["start_date"] == "2025-03-01T00:00:00"
    assert g.normalized["d"]["timezone"] == "Europe/Paris"


def test_dollar_variables_are_not_expanded_and_are_flagged() -> None:
    result = validate(dag(f"""
        params: {{root: "$ROOT/x"}}
        tasks: {{t: {{operator: {S3LIST}, bucket: $HOME, prefix: '${{SECRET}}', delimiter: 'cost $5 $$ $.a'}}}}
    """))
    g = result.graph
    assert g is not None
    assert g.tasks["t"].arguments == {"bucket": "$HOME", "prefix": "${SECRET}", "delimiter": "cost $5 $$ $.a"}
    assert g.params == {"root": "$ROOT/x"}
    assert {(w.path, w.rule) for w in result.warnings} == {
        ("d.params.root", "env-variable"), ("d.tasks.t.bucket", "env-variable"), ("d.tasks.t.prefix", "env-variable")}


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    result = validate("\n".join(lines) + "\n")
    assert [e.rule for e in result.errors] == ["yaml"]
    assert "aliases" in result.errors[0].message


def test_a_bad_operator_does_not_hide_the_tasks_other_errors() -> None:
    result = validate(dag("tasks: {t: {operator: PythonOperator, retries: 9, trigger_rule: never}}"))
    assert {(e.path, e.rule) for e in result.errors} == {
        ("d.tasks.t.operator", "operator-not-supported"), ("d.tasks.t.retries", "retries-range"),
        ("d.tasks.t.trigger_rule", "trigger-rule")}


def test_bare_number_execution_timeout_is_normalised() -> None:
    """dag-factory alone rejects `execution_timeout: 600`; Updraft reads seconds and writes the
    timedelta form into `normalized` (checked against dag-factory in tests/differential)."""
    g = validate(task_with("execution_timeout: 600")).graph
    assert g is not None
    assert g.tasks["t"].execution_timeout == timedelta(seconds=600)
    assert g.normalized["d"]["tasks"]["t"]["execution_timeout"] == {"__type__": "datetime.timedelta", "seconds": 600.0}


def test_normalized_form() -> None:
    """What the runner hands dag-factory: the dag-factory form, honoured values explicit, ignored
    ones gone, aws_conn_id left to the workflow's role, only the two allowed __type__s."""
    g = validate("""
dag_id: p
schedule_interval: '@hourly'
start_date: 2025-01-01
catchup: true
tasks:
  a: {operator: S3ListOperator, bucket: b, aws_conn_id: aws_default, owner: me, deferrable: true}
  b: {operator: EmptyOperator, depends_on: [a], trigger_rule: all_done, retry_delay: 10}
""").graph
    assert g is not None
    dag_conf = g.normalized["p"]
    assert dag_conf["schedule"] == "@hourly" and "schedule_interval" not in dag_conf
    assert dag_conf["catchup"] is False and dag_conf["start_date"] == "2025-01-01T00:00:00"
    a, b = dag_conf["tasks"]["a"], dag_conf["tasks"]["b"]
    assert a["operator"] == S3LIST and a["aws_conn_id"] is None and a["deferrable"] is False
    assert "owner" not in a
    assert b == {"operator": EMPTY, "dependencies": ["a"], "retries": 0, "trigger_rule": "all_done",
                 "retry_delay": {"__type__": "datetime.timedelta", "seconds": 10.0}, "retry_exponential_backoff": False}


def test_trigger_rule_and_backoff_are_honoured_not_warned() -> None:
    result = validate(task_with("""
        trigger_rule: one_failed
        retry_exponential_backoff: true
        max_retry_delay: {__type__: datetime.timedelta, minutes: 2}
    """))
    assert result.ok and result.warnings == ()
    t = result.graph.tasks["t"]  # type: ignore[union-attr]
    assert (t.trigger_rule, t.retry_exponential_backoff, t.max_retry_delay) == ("one_failed", True, timedelta(minutes=2))


@pytest.mark.parametrize("schedule", ["@once", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly",
                                      "@annually", "0 0 29 2 *", "*/5 9-17 * * mon-fri"])
def test_every_schedule_the_scheduler_fires_is_accepted(schedule: str) -> None:
    from updraft.schedule import parse

    g = validate(dag(f"schedule: '{schedule}'\ntasks: {{t: {{operator: {EMPTY}}}}}")).graph
    assert g is not None and g.schedule == schedule
    parse(g.schedule)  # and the scheduler takes what the validator returns


@pytest.mark.parametrize("depth", [70, 5000])
def test_deep_nesting_is_refused_with_a_bound_not_a_recursion_error(depth: int) -> None:
    result = validate(task_with(f"config: {'[' * depth}{']' * depth}"))
    assert [e.rule for e in result.errors] == ["yaml"]
    assert "nested more than 64 levels" in result.errors[0].message


def test_default_args_that_are_not_honoured_stay_default_args() -> None:
    """Airflow hands default_args only to operators that accept them: `bucket` must not become an
    argument of an EmptyOperator (dag-factory would fail building it)."""
    g = validate(dag(f"""
        default_args: {{bucket: shared, retries: 2, aws_conn_id: aws_default, deferrable: true}}
        tasks:
          l: {{operator: {S3LIST}}}
          e: {{operator: {EMPTY}, dependencies: [l]}}
    """)).graph
    assert g is not None
    assert (dict(g.tasks["l"].arguments), dict(g.tasks["e"].arguments)) == ({}, {})
    assert g.tasks["e"].retries == 2 and g.normalized["d"]["tasks"]["e"]["retries"] == 2
    assert g.normalized["d"]["default_args"] == {"bucket": "shared", "aws_conn_id": None, "deferrable": False}
    assert "bucket" not in g.normalized["d"]["tasks"]["e"]


def test_one_bad_default_is_one_error() -> None:
    text = dag(f"default_args: {{retries: 9}}\ntasks: {{a: {{operator: {EMPTY}}}, b: {{operator: {EMPTY}}}}}")
    assert [str(e) for e in validate(text).errors] == [
        "d.default_args.retries: retries must be between 0 and 3, got 9 [retries-range]"]


def test_anchors_and_merge_keys_work_within_bounds() -> None:
    g = validate(dag(f"""
        tasks:
          a: &base {{operator: {S3LIST}, bucket: b, retries: 2}}
          b: {{<<: *base, prefix: p/, dependencies: [a]}}
    """)).graph
    assert g is not None
    assert (g.tasks["b"].retries, dict(g.tasks["b"].arguments)) == (2, {"bucket": "b", "prefix": "p/"})
