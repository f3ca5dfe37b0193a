import sys

from packager.cli import main

sys.exit(main())
