"""`python -m personseg` is the same as the `personseg` console script."""

from personseg.cli import main

raise SystemExit(main())
