"""Field encryption and blind indexes: the one place keys are used.

Pure parts (``aead``, ``keys``, ``normalise``, ``blind_index``, ``planner``)
import no Django; ``fields`` and ``rotation`` are the Django glue. The design,
threat model and key procedures are in docs/crypto.md.
"""
