"""AskBench data: typed records (``records``), validated loading with located errors (``loading``), the hub or local
source of named sets (``hub``), VERL rows for online (``verl_rows``) and offline (``offline_turns``) training,
parquet preparation (``prepare``), checks of prepared rows (``row_checks``), and data construction from any QA set
with an LLM (``build``). CLI: ``python -m askrl.data``.
"""
