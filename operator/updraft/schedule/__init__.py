"""Schedules: cron + time zone -> fire times, with Airflow's semantics (pure; time is a parameter)."""

from updraft.schedule.fire_times import (PRESETS, Schedule, ScheduleError, fire_times, latest_missed, next_fire,
                                         parse)
from updraft.schedule.naming import scheduled_run_name

__all__ = ["PRESETS", "Schedule", "ScheduleError", "fire_times", "latest_missed", "next_fire", "parse",
           "scheduled_run_name"]
