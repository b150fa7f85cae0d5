"""Reading configs: safe YAML with positions, ``extends`` and overrides (layer 1)."""
