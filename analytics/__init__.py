"""Live analyses of the cohort: dataset, statistics, runs, exports."""
