"""Schedules: cron + time zone -> fire times, with Airflow 3's CronTriggerTimetable semantics
(pure; every instant is a parameter)."""

from updraft.schedule.errors import ScheduleError
from updraft.schedule.fire_times import (ONCE, PRESETS, Schedule, check_cron, fire_times, latest_missed, next_due,
                                         next_fire, parse)
from updraft.schedule.zones import resolve_timezone, zone

__all__ = ["ONCE", "PRESETS", "Schedule", "ScheduleError", "check_cron", "fire_times", "latest_missed", "next_due",
           "next_fire", "parse", "resolve_timezone", "zone"]
