"""The pure side of the commands that talk to an Updraft API (`updraft workflow ...`, `updraft run
...`): parsing options, naming what went wrong, following a run, and rendering what the API
answers as tables or JSON. No AWS client and no clock here: the shell in `updraft.commands`
passes in the client's answers, `now`, and the sleep/clock functions."""
