"""askrl's Hydra configs (package data): ``askrl.yaml`` (primary) and the ``profile`` group; composed by ``askrl.train``."""
