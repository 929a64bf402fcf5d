"""Placeholder: replaced by the `updraft schedule` command."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    sub.add_parser("schedule", help="(not yet available)")
