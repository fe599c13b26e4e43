"""AskBench data: typed records (``records``), validated loading with located errors (``loading``), the hub or local
source of named sets (``hub``), VERL rows for online (``verl_rows``) and offline (``offline_turns``) training,
parquet preparation (``prepare``) and checks of prepared rows (``row_checks``). CLI: ``python -m askrl.data``.
"""
