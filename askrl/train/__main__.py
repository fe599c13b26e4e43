"""``python -m askrl.train``: the training entry point (see :mod:`askrl.train`)."""

from askrl.train import main

main()
