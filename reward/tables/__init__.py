"""Shipped reward tables (``<name>.yaml``), loaded by ``reward.table.load_table``; never edit a released one."""
