"""The numbers resource: validation, serialization, list parameters, queries and the blueprint."""
