"""Placeholder: replaced by the `updraft validate` command."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    sub.add_parser("validate", help="(not yet available)")
