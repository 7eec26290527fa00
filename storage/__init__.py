"""Storage: SQLAlchemy tables, repositories and the unit of work; Alembic migrations.

Importing the package registers every table on ``Base.metadata`` (migrations and schema checks
compare against it), wherever the tables are declared.
"""

from storage import kpi_models, models, ops_models  # noqa: F401
