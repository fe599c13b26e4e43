"""What runs inside VERL's trainer process: the TaskRunner actor (``task_runner``), askrl's sync trainer with its
step hooks (``hooks``) and the pure step-metric and conversation functions they call (``tracking``).

Importing ``hooks`` or ``task_runner`` imports VERL (seconds); this package's ``__init__`` imports nothing.
"""
