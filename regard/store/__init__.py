"""The system of record: SQLAlchemy tables, migrations, and the repository over them."""
