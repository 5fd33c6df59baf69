import sys

from trillian.cli import main

sys.exit(main())
