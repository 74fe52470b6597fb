"""The vector field, split by subsystem and composed in `vector_field.py`."""
