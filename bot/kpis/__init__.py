"""The KPI source file (``BIZDEVOPS_KPI_SOURCES``): read, validated with key paths, reported."""
