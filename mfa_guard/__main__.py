import sys

from mfa_guard.cli import main

sys.exit(main())
