"""What the operator's handlers should do, decided purely from the objects and `now`; the handlers
(`updraft.handlers`) read the objects, call these, and do the I/O."""
