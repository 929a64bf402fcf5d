"""Leader election for operator replicas: one holds a coordination.k8s.io Lease and reconciles;
the others wait to take over. `election` decides (pure), `lease` reads and writes (shell)."""

from updraft.leader.election import LeaseDecision, LeaseRecord, Sighting, decide, sight, still_leader

__all__ = ["LeaseDecision", "LeaseRecord", "Sighting", "decide", "sight", "still_leader"]
