"""Hyperparameter optimisation (optimización de hiper-parámetros) with Optuna.

- :mod:`.space`: the search space the user builds (each hyperparameter on or off with its range);
- :mod:`.choices`: the samplers and pruners offered, each with a one-line explanation;
- :mod:`.storage`: where studies live (an embedded journal file by default, PostgreSQL by URL),
  the heartbeat and stale trials;
- :mod:`.journal`: the embedded storage's journal with a chunk's reports in one append, fewer
  fsyncs and a heartbeat;
- :mod:`.objective`: the cross-validated objective, epoch by epoch (:class:`TuneJob`, ask-and-tell);
- :mod:`.lightning`: the pruning callback for trials that train through a Lightning ``Trainer``;
- ``python -m mlcore.tune worker``: a headless worker for an existing study.
"""
