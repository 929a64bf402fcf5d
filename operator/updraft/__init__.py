"""Updraft: serverless Apache Airflow on your own Kubernetes."""

__version__ = "0.1.0"
