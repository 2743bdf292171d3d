"""Collectors: sources, the enrichment pipeline, batch storage and the scheduler process."""
