"""Benchmarks of inference speed: `settings` (what to run), `measure` (how a backend is timed),
`variants` (which files and runtimes), `report` (targets, machine, JSON/Markdown); `run` runs
them (`personseg bench`)."""
