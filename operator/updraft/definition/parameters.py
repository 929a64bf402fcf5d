"""Which Airflow parameters a definition may carry, per the MWAA Serverless user guide
("Apache Airflow Parameter Support"), and the Airflow defaults that make an unsupported
parameter harmless (the converter writes many of them out with default values; those are
dropped silently, any other value is dropped with a warning)."""

from __future__ import annotations

from typing import Any

_NO_DEFAULT = object()

# DAG-level parameters the guide lists as not supported (ignored), with Airflow's defaults.
DAG_IGNORED: dict[str, Any] = {
    "template_searchpath": None,
    "template_undefined": _NO_DEFAULT,
    "user_defined_macros": None,
    "user_defined_filters": None,
    "catchup": False,
    "access_control": None,
    "jinja_environment_kwargs": None,
    "render_template_as_native_obj": False,
    "tags": [],
    "owner_links": {},
    "auto_register": True,
    "fail_fast": False,
    "dag_display_name": _NO_DEFAULT,  # defaults to the dag_id: checked separately
    "depends_on_past": False,
    "email_on_failure": True,
    "email_on_retry": True,
    "description": None,
    "max_consecutive_failed_dag_runs": 0,
    "dagrun_timeout": None,
    "sla_miss_callback": None,
    "on_failure_callback": None,
    "on_success_callback": None,
    "is_paused_upon_creation": None,
    # not in the guide's lists, and without effect in a serverless run
    "max_active_tasks": 16,
    "doc_md": None,
    "default_view": None,
    "orientation": None,
    "disable_bundle_versioning": False,
}

# DAG-level keys Updraft reads.
DAG_USED = {"dag_id", "schedule", "start_date", "end_date", "timezone", "max_active_runs", "params",
            "default_args", "tasks", "task_groups"}

# Keys dag-factory would turn into code imports or file reads: refused outright.
DAG_REFUSED = {"doc_md_file_path", "doc_md_python_callable_name", "doc_md_python_callable_file",
               "sla_miss_callback_name", "sla_miss_callback_file", "on_success_callback_name",
               "on_success_callback_file", "on_failure_callback_name", "on_failure_callback_file"}

# Task-level parameters the guide lists as not supported (ignored), with Airflow's defaults.
TASK_IGNORED: dict[str, Any] = {
    "email_on_retry": True,
    "email_on_failure": True,
    "depends_on_past": False,
    "ignore_first_depends_on_past": True,
    "wait_for_downstream": False,
    "priority_weight": 1,
    "sla": None,
    "max_active_tis_per_dag": None,
    "max_active_tis_per_dagrun": None,
    "task_concurrency": None,
    "resources": None,
    "run_as_user": None,
    "executor_config": None,
    "doc": None,
    "doc_md": None,
    "doc_rst": None,
    "doc_json": None,
    "doc_yaml": None,
    "task_display_name": None,
    "logger_name": None,
    "allow_nested_operators": True,
    "inlets": [],
    "outlets": [],
    "map_index_template": None,
    "email": None,
    "owner": "airflow",
    "on_execute_callback": None,
    "on_failure_callback": None,
    "on_success_callback": None,
    "on_retry_callback": None,
    "on_skipped_callback": None,
    "wait_for_past_depends_before_skipping": False,
    "do_xcom_push": True,
    "multiple_outputs": False,
    "start_date": _NO_DEFAULT,  # inherited from the DAG: checked separately
    "end_date": _NO_DEFAULT,
    "weight_rule": "downstream",
    "queue": "default",
    "pool": None,
    "pool_slots": 1,
    "pre_execute": None,
    "post_execute": None,
    "executor": None,
    "task_group": None,
}

# The guide: "AWS base operator attributes". aws_conn_id is controlled by the service (the task
# uses the workflow role); region_name comes from the environment; verify and botocore_config
# are not supported.
AWS_CONTROLLED: dict[str, Any] = {"aws_conn_id": "aws_default", "region_name": None, "verify": None,
                                  "botocore_config": None}

# Task keys with a structural meaning (not operator arguments).
TASK_STRUCTURAL = {"task_id", "operator", "dependencies", "depends_on", "task_group_name"}
# Task keys Updraft validates and honours.
TASK_SCHEDULING = {"retries", "retry_delay", "execution_timeout", "trigger_rule",
                   "retry_exponential_backoff", "max_retry_delay"}
def is_default(table: dict[str, Any], key: str, value: Any) -> bool:
    default = table.get(key, _NO_DEFAULT)
    if default is _NO_DEFAULT:
        return False
    if default in ([], {}) and value in ([], {}, None):
        return True
    return bool(value == default and type(value) is type(default)) or (default is None and value is None)


# Suffixes and names of keys dag-factory 1.x turns into imports, file loads, `eval`-ed lambdas or
# Airflow Variable reads before the operator is built (dagbuilder.make_task,
# adjust_general_task_params, make_decorator, set_callback). None of them is an operator argument
# an allowlisted operator needs, and each would run code the definition names: refused.
_CODE_SUFFIXES = ("_callable", "_callable_name", "_callable_file", "_file_path", "_callback_name",
                  "_callback_file", "_lambda", "_check_name", "_check_file", "_fn", "_fn_name", "_fn_file")
_CODE_KEYS = {"decorator", "variables_as_arguments"}

# dag-factory's dynamic task mapping: one YAML task becomes N task instances at run time, which
# Updraft's engine (one pod per task attempt, a static graph) does not do.
MAPPING_KEYS = ("expand", "partial")


def refuses_code(key: str) -> bool:
    """Keys that make dag-factory import, load or evaluate Python code, or read Airflow Variables."""
    return key.endswith(_CODE_SUFFIXES) or key in _CODE_KEYS or key in DAG_REFUSED
