"""`python -m api.cli ...` is the `storyloom` command."""
import sys

from api.cli.main import main

sys.exit(main())
