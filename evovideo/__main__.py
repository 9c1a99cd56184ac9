import sys

from evovideo.cli import main

sys.exit(main())
