"""Request and response models of the API: plain Pydantic models mapped from the core's dataclasses.

Each model carries an example, shown in the OpenAPI document and used by the
contract tests.
"""
